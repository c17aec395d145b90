"""Search index: each excerpt's lemmas folded (lower case, no accents), and a full-text index over the folded text
and lemmas, filled for the runs already stored.

SQLite: an FTS5 table ``excerpts_search`` whose content is the ``excerpts`` table (external content: nothing stored
twice). New excerpts are indexed by the store's write path, a run at a time (``verbatim.models.store.index_excerpts``:
one ``INSERT ... SELECT``, ten times faster than a trigger per row, which makes FTS5 write its pending terms at every
statement); triggers keep it in step on delete (a run's removal cascades to its excerpts and fires them) and update.
It names excerpts by their ``rowid``: a later migration that rebuilds ``excerpts`` (a batch "move and copy") must
recreate the triggers and run ``INSERT INTO excerpts_search(excerpts_search) VALUES ('rebuild')``.

PostgreSQL: trigram GIN indexes (``pg_trgm``) on the folded text and lemmas, which the search's ``LIKE`` conditions
use. ``CREATE EXTENSION pg_trgm`` needs the CREATE privilege on the database (the extension is trusted since
PostgreSQL 13); without it, or without the extension on the server, the migration leaves a warning and search
scans the excerpts (same results, slower on large runs). An administrator can add the index later with the SQL
in README's "Search and concordance".

Revision ID: 0009
Revises: 0007 (0008 once merged beside it)
Create Date: 2026-12-03
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from verbatim.models.search_text import fold

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE excerpts_search USING fts5(folded, lemmas_folded, content='excerpts', "
    "content_rowid='rowid', tokenize=\"unicode61 remove_diacritics 2 categories 'L* N*'\")",
    "CREATE TRIGGER excerpts_search_delete AFTER DELETE ON excerpts BEGIN "
    "INSERT INTO excerpts_search(excerpts_search, rowid, folded, lemmas_folded) "
    "VALUES ('delete', old.rowid, old.folded, old.lemmas_folded); END",
    "CREATE TRIGGER excerpts_search_update AFTER UPDATE ON excerpts BEGIN "
    "INSERT INTO excerpts_search(excerpts_search, rowid, folded, lemmas_folded) "
    "VALUES ('delete', old.rowid, old.folded, old.lemmas_folded); "
    "INSERT INTO excerpts_search(rowid, folded, lemmas_folded) VALUES (new.rowid, new.folded, new.lemmas_folded); END",
    "INSERT INTO excerpts_search(excerpts_search) VALUES ('rebuild')",
]
POSTGRES_INDEX = [
    "CREATE INDEX IF NOT EXISTS excerpts_folded_trgm ON excerpts USING gin (folded gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS excerpts_lemmas_folded_trgm ON excerpts USING gin (lemmas_folded gin_trgm_ops)",
]


def upgrade() -> None:
    op.add_column("excerpts", sa.Column("lemmas_folded", sa.Text, nullable=True))
    bind = op.get_bind()
    excerpts = sa.table("excerpts", sa.column("run_id"), sa.column("excerpt_id"), sa.column("lemmas"),
                        sa.column("lemmas_folded"))  # fmt: skip
    rows = bind.execute(sa.select(excerpts.c.run_id, excerpts.c.excerpt_id, excerpts.c.lemmas)).all()
    update = (
        sa.update(excerpts)
        .where(excerpts.c.run_id == sa.bindparam("r"), excerpts.c.excerpt_id == sa.bindparam("e"))
        .values(lemmas_folded=sa.bindparam("f"))
    )
    for start in range(0, len(rows), 5_000):
        batch = rows[start : start + 5_000]
        bind.execute(update, [{"r": r, "e": e, "f": fold(t)} for r, e, t in batch])
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_INDEX:
            bind.exec_driver_sql(statement)
    elif bind.dialect.name == "postgresql":
        try:
            with bind.begin_nested():
                bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                for statement in POSTGRES_INDEX:
                    bind.exec_driver_sql(statement)
        except sa.exc.DBAPIError as exc:
            log.warning(
                "no search index: the extension pg_trgm could not be created (%s). Search still works, by a scan "
                "of the excerpts (slower on large runs); README's 'Search and concordance' gives the SQL an "
                "administrator runs to add the index.",
                str(exc.orig).strip().splitlines()[0],
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("delete", "update"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS excerpts_search_{trigger}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS excerpts_search")
    elif bind.dialect.name == "postgresql":
        for name in ("excerpts_folded_trgm", "excerpts_lemmas_folded_trgm"):
            bind.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    op.drop_column("excerpts", "lemmas_folded")
