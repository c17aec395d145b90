"""Moving a whole store: every run, theme, decision, user and session of one database into another (a team that
started on a laptop's SQLite file moves to the server's PostgreSQL, and back), verified by the count of each table
and a checksum of the decision log; and backups, taken while the server runs.

A backup of a SQLite store is SQLite's online backup. A backup of a PostgreSQL store is ``pg_dump``'s custom format
when ``pg_dump`` is on the PATH (``pg_restore`` restores it, into PostgreSQL), else, or when asked, the portable
dump: a SQLite file holding every table, read in one repeatable-read transaction (a consistent snapshot), which
restores into an empty database of either backend. Both are checked by counts and the decision log's checksum."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.engine import URL

from verbatim.errors import StoreError
from verbatim.models.store import Store, index_excerpts, migrate
from verbatim.models.tables import Base, DecisionRow

BATCH = 2_000
#: The first bytes of a file written by ``pg_dump --format=custom``.
PG_DUMP_MAGIC = b"PGDMP"


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
    _must_be_empty(target, "copy")
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


def _must_be_empty(target: Store, what: str) -> None:
    filled = {name: n for name, n in counts(target).items() if n}
    if filled:
        listed = ", ".join(f"{name} ({n})" for name, n in sorted(filled.items()))
        raise StoreError(f"the target database is not empty: {listed}; {what} into a new, empty database")


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


def backup_store(store: Store, out: Path, portable: bool = False) -> Copied:
    """A consistent backup of ``store`` into the new file ``out`` (written whole, then renamed into place): a SQLite
    file, or for PostgreSQL ``pg_dump``'s custom format when ``pg_dump`` is on the PATH and ``portable`` is False."""
    if out.exists():
        raise StoreError(f"{out} already exists: choose a new file name for the backup")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if store.engine.dialect.name == "postgresql" and not portable and shutil.which("pg_dump"):
            copied = _pg_dump(store, partial)
            os.replace(partial, out)
            return copied
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


def is_pg_dump(path: Path) -> bool:
    """Whether ``path`` was written by ``pg_dump --format=custom`` (a PostgreSQL backup)."""
    with path.open("rb") as f:
        return f.read(len(PG_DUMP_MAGIC)) == PG_DUMP_MAGIC


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The connection URI the PostgreSQL programs read, and their environment: the password in ``PGPASSWORD``,
    never on a command line that ``ps`` shows."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run_pg(program: str, *args: str, env: dict[str, str]) -> None:
    done = subprocess.run([program, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise StoreError(
            f"{program} failed: {(done.stderr or done.stdout).strip()[-2000:]} "
            "(`verbatim db backup --portable` writes the portable dump without the PostgreSQL programs)"
        )


def _pg_dump(store: Store, out: Path) -> Copied:
    """``pg_dump --format=custom`` of the store, on the snapshot of a repeatable-read transaction of ours, in which
    the counts and the checksum it reports are read: they describe exactly what the file holds."""
    uri, env = _libpq(store.engine.url)
    with store.engine.connect().execution_options(isolation_level="REPEATABLE READ") as db, db.begin():
        snapshot = str(db.scalar(text("SELECT pg_export_snapshot()")))
        db.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))  # held while pg_dump runs
        copied = Copied(_tally(db), _checksum(db))
        _run_pg("pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--no-privileges",
                f"--file={out}", f"--dbname={uri}", env=env)  # fmt: skip
    return copied


def _pg_restore(backup: Path, target: Store) -> Copied:
    """A ``pg_dump`` backup into ``target``, an empty PostgreSQL database: its empty tables are dropped, the
    backup's restored in one transaction, then upgraded to the current schema (a backup of an older version)."""
    if target.engine.dialect.name != "postgresql":
        raise StoreError(
            f"{backup} is a pg_dump backup: it restores into PostgreSQL only (restore it there, then "
            "`verbatim db copy --to sqlite:///…` makes a SQLite store of it)"
        )
    if not shutil.which("pg_restore"):
        raise StoreError("pg_restore is not on the PATH: install PostgreSQL's client programs to restore this backup")
    uri, env = _libpq(target.engine.url)
    with target.engine.begin() as db:
        Base.metadata.drop_all(db)
        db.execute(text("DROP TABLE IF EXISTS alembic_version"))
    try:
        _run_pg("pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                f"--dbname={uri}", str(backup), env=env)  # fmt: skip
    except StoreError:
        migrate(target.engine)  # the database stays as it was: empty, at the current schema
        raise
    target.engine.dispose()  # connections opened before the tables were replaced
    migrate(target.engine)
    with target.engine.connect() as db:
        return Copied(_tally(db), _checksum(db))


def restore_store(backup: Path, target: Store) -> Copied:
    """Everything of the backup file ``backup`` into ``target``, an empty database (of either backend for a SQLite
    backup, PostgreSQL for a ``pg_dump`` one)."""
    if not backup.is_file():
        raise StoreError(f"no backup file at {backup}")
    _must_be_empty(target, "restore")
    if is_pg_dump(backup):
        return _pg_restore(backup, target)
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
