"""Moving a whole store: every run, theme, decision, user and session of one database into another (a team that
started on a laptop's SQLite file moves to the server's PostgreSQL, and back), verified by the count of each table
and a checksum of the decision log; and backups, taken while the server runs.

A backup is a SQLite file, whichever the backend: SQLite's online backup of a SQLite store, or a copy of a
PostgreSQL store read in one repeatable-read transaction (a consistent snapshot). It restores into an empty database
of either backend, checked the same way."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from verbatim.errors import StoreError
from verbatim.models.store import Store, index_excerpts
from verbatim.models.tables import Base, DecisionRow

BATCH = 2_000


@dataclass(frozen=True)
class Copied:
    """What a copy moved: the rows of each table, and the decision log's checksum on both sides."""

    rows: dict[str, int]
    decisions_checksum: str


def decision_log_checksum(store: Store) -> str:
    """SHA-256 of the decision log, in order, every column: equal on two stores that hold the same decisions."""
    with store.engine.connect() as db:
        return _checksum(db)


def _checksum(db: Connection) -> str:
    digest = hashlib.sha256()
    table = DecisionRow.__table__
    for row in db.execute(select(table).order_by(table.c.id)).mappings():
        values = [_plain(row[c.name]) for c in table.columns]
        digest.update(json.dumps(values, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def counts(store: Store) -> dict[str, int]:
    """Rows per table of the store."""
    with store.engine.connect() as db:
        return _tally(db)


def copy_store(source: Store, target: Store) -> Copied:
    """Copy every table of ``source`` into ``target``, whose Verbatim tables must be empty (a fresh database).

    One transaction on the target: a copy that fails leaves it as it was. Raises ``StoreError`` when the target
    already holds data or when the counts or the decision log differ afterwards."""
    filled = {name: n for name, n in counts(target).items() if n}
    if filled:
        listed = ", ".join(f"{name} ({n})" for name, n in sorted(filled.items()))
        raise StoreError(f"the target database is not empty: {listed}; copy into a new, empty database")
    with _snapshot(source) as src, target.engine.begin() as dst:
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
        index_excerpts(dst)
        copied, checksum = _tally(src), _checksum(src)
    after = counts(target)
    if copied != after:
        raise StoreError(f"the copy is incomplete: {copied} rows read, {after} in the target")
    if decision_log_checksum(target) != checksum:
        raise StoreError("the decision log differs after the copy: the target database changed its values")
    return Copied(after, checksum)


def _tally(db: Connection) -> dict[str, int]:
    """Rows per table, read on one connection (a snapshot's, during a copy)."""
    return {t.name: int(db.scalar(select(func.count()).select_from(t)) or 0) for t in Base.metadata.sorted_tables}


@contextmanager
def _snapshot(store: Store) -> Iterator[Connection]:
    """A connection that reads ``store`` as it was at one moment, while others go on writing to it."""
    if store.engine.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="verbatim-snapshot-") as folder:
            copy = Path(folder) / "snapshot.db"
            _sqlite_backup(store, copy)
            frozen = Store(f"sqlite:///{copy}")
            with frozen.engine.connect() as db:
                yield db
            frozen.engine.dispose()
        return
    with store.engine.connect().execution_options(isolation_level="REPEATABLE READ") as db, db.begin():
        yield db


def _sqlite_backup(store: Store, path: Path) -> None:
    """SQLite's online backup: a consistent copy of the file while writers go on."""
    source = sqlite3.connect(store.engine.url.database or "", timeout=60)
    target = sqlite3.connect(path)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def backup_store(store: Store, out: Path) -> Copied:
    """A consistent backup of ``store`` into the new SQLite file ``out`` (written whole, then renamed into place)."""
    if out.exists():
        raise StoreError(f"{out} already exists: choose a new file name for the backup")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if store.engine.dialect.name == "sqlite":
            _sqlite_backup(store, partial)
            target = Store(f"sqlite:///{partial}")
            copied = Copied(counts(target), decision_log_checksum(target))
        else:
            target = Store(f"sqlite:///{partial}")
            copied = copy_store(store, target)
        target.engine.dispose()
        with sqlite3.connect(partial) as db:  # one self-contained file: no -wal beside it
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("PRAGMA journal_mode=DELETE")
        os.replace(partial, out)
    finally:
        for leftover in (partial, partial.with_name(partial.name + "-wal"), partial.with_name(partial.name + "-shm")):
            leftover.unlink(missing_ok=True)
    return copied


def restore_store(backup: Path, target: Store) -> Copied:
    """Everything of the backup file ``backup`` into ``target``, an empty database of either backend."""
    if not backup.is_file():
        raise StoreError(f"no backup file at {backup}")
    with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as db:
        try:
            db.execute("SELECT count(*) FROM decisions").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{backup} is not a Verbatim backup: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="verbatim-restore-") as folder:
        working = Path(folder) / "backup.db"  # the backup file itself stays as it was (an older one is upgraded here)
        shutil.copyfile(backup, working)
        source = Store(f"sqlite:///{working}")
        try:
            return copy_store(source, target)
        finally:
            source.engine.dispose()
