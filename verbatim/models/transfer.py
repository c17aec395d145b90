"""Moving a whole store: every run, theme, decision, user and session of one database into another (a team that
started on a laptop's SQLite file moves to the server's PostgreSQL, and back), verified by the count of each table
and a checksum of the decision log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, text

from verbatim.errors import StoreError
from verbatim.models.store import Store
from verbatim.models.tables import Base, DecisionRow

BATCH = 2_000


@dataclass(frozen=True)
class Copied:
    """What a copy moved: the rows of each table, and the decision log's checksum on both sides."""

    rows: dict[str, int]
    decisions_checksum: str


def decision_log_checksum(store: Store) -> str:
    """SHA-256 of the decision log, in order, every column: equal on two stores that hold the same decisions."""
    digest = hashlib.sha256()
    columns = [c.name for c in DecisionRow.__table__.columns]
    with store.session() as s:
        for row in s.scalars(select(DecisionRow).order_by(DecisionRow.id)):
            values = [_plain(getattr(row, c)) for c in columns]
            digest.update(json.dumps(values, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def counts(store: Store) -> dict[str, int]:
    """Rows per table of the store."""
    with store.engine.connect() as db:
        return {t.name: int(db.scalar(select(func.count()).select_from(t)) or 0) for t in Base.metadata.sorted_tables}


def copy_store(source: Store, target: Store) -> Copied:
    """Copy every table of ``source`` into ``target``, whose Verbatim tables must be empty (a fresh database).

    One transaction on the target: a copy that fails leaves it as it was. Raises ``StoreError`` when the target
    already holds data or when the counts or the decision log differ afterwards."""
    filled = {name: n for name, n in counts(target).items() if n}
    if filled:
        listed = ", ".join(f"{name} ({n})" for name, n in sorted(filled.items()))
        raise StoreError(f"the target database is not empty: {listed}; copy into a new, empty database")
    with source.engine.connect() as src, target.engine.begin() as dst:
        for table in Base.metadata.sorted_tables:
            batch: list[dict[str, Any]] = []
            for row in src.execute(select(table)).mappings():
                batch.append(dict(row))
                if len(batch) >= BATCH:
                    dst.execute(insert(table), batch)
                    batch = []
            if batch:
                dst.execute(insert(table), batch)
            column = table.autoincrement_column
            if column is not None and dst.dialect.name == "postgresql":  # ids were copied: move the sequence past them
                dst.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                         f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)")
                )  # fmt: skip
    before, after = counts(source), counts(target)
    if before != after:
        raise StoreError(f"the copy is incomplete: {before} rows in the source, {after} in the target")
    checksum = decision_log_checksum(source)
    if decision_log_checksum(target) != checksum:
        raise StoreError("the decision log differs after the copy: the target database changed the values")
    return Copied(after, checksum)
