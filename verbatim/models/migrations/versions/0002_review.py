"""Review: users, the append-only decision log, double coding; researcher-created themes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("themes") as batch:
        batch.add_column(sa.Column("created_by", sa.String(200), nullable=False, server_default="machine"))
        batch.add_column(sa.Column("parent_theme_id", sa.Integer(), nullable=True))
    op.create_table(
        "users",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
        sa.Column("question", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("coder", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("excerpt_id", sa.String(300), nullable=True),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("to_theme_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("undoes_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.String(64), nullable=True),
        sa.Column("seen_decision_id", sa.Integer(), nullable=True),
        sa.Column("conflict_with_id", sa.Integer(), nullable=True),
        sa.Column("double_coding", sa.Boolean(), nullable=False, server_default="0"),
    )
    op.create_index("ix_decisions_run_question", "decisions", ["run_id", "question"])
    op.create_index("ix_decisions_excerpt", "decisions", ["run_id", "excerpt_id"])
    op.create_table(
        "double_coding",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("excerpt_id", sa.String(300), primary_key=True),
        sa.Column("question", sa.String(500), nullable=False),
        sa.Column("coder_a", sa.String(200), nullable=False),
        sa.Column("coder_b", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("double_coding")
    op.drop_index("ix_decisions_excerpt", "decisions")
    op.drop_index("ix_decisions_run_question", "decisions")
    op.drop_table("decisions")
    op.drop_table("users")
    with op.batch_alter_table("themes") as batch:
        batch.drop_column("parent_theme_id")
        batch.drop_column("created_by")
