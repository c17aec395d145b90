"""Families of themes: the machine's families of each question, each theme's family, and decisions about families.

Runs analysed before have no family stored: they read as one family, 'Thèmes', holding every theme
(``verbatim.models.review.family_states``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "theme_families",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("question", sa.String(500), primary_key=True),
        sa.Column("family_id", sa.Integer, primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("keywords", sa.JSON, nullable=False),
    )
    with op.batch_alter_table("themes") as batch:
        batch.add_column(sa.Column("family_id", sa.Integer, nullable=True))
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("family_id", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("family_id")
    with op.batch_alter_table("themes") as batch:
        batch.drop_column("family_id")
    op.drop_table("theme_families")
