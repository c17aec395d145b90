"""Idempotency keys of decisions: a client that sent a decision and got no answer (the server died, the network
dropped) sends it again with the same ``Idempotency-Key``; the key, unique per coder, makes the store keep it once.
And an index of the machine's coding versions per run: each decision reads the latest version, which otherwise
scans every coding of the run.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(200), nullable=True))
    op.create_index("ux_decisions_coder_idempotency_key", "decisions", ["coder", "idempotency_key"], unique=True)
    op.create_index("ix_codings_run_coder_version", "codings", ["run_id", "coder", "version"])


def downgrade() -> None:
    op.drop_index("ix_codings_run_coder_version", table_name="codings")
    op.drop_index("ux_decisions_coder_idempotency_key", table_name="decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("idempotency_key")
