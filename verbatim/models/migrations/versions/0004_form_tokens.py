"""One-time form tokens: a form sent twice (a double click) has one effect.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_tokens",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_form_tokens_used_at", "form_tokens", ["used_at"])


def downgrade() -> None:
    op.drop_index("ix_form_tokens_used_at", table_name="form_tokens")
    op.drop_table("form_tokens")
