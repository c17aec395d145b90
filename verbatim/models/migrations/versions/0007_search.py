"""Search: each excerpt's text folded (lower case, no accents, same offsets), filled for the runs already stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from verbatim.models.search_text import fold

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("excerpts", sa.Column("folded", sa.Text, nullable=True))
    bind = op.get_bind()
    excerpts = sa.table("excerpts", sa.column("run_id"), sa.column("excerpt_id"), sa.column("text"),
                        sa.column("folded"))  # fmt: skip
    rows = bind.execute(sa.select(excerpts.c.run_id, excerpts.c.excerpt_id, excerpts.c.text)).all()
    update = (
        sa.update(excerpts)
        .where(excerpts.c.run_id == sa.bindparam("r"), excerpts.c.excerpt_id == sa.bindparam("e"))
        .values(folded=sa.bindparam("f"))
    )
    for start in range(0, len(rows), 5_000):
        batch = rows[start : start + 5_000]
        bind.execute(update, [{"r": r, "e": e, "f": fold(t)} for r, e, t in batch])


def downgrade() -> None:
    op.drop_column("excerpts", "folded")
