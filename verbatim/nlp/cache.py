"""An on-disk cache of derived values keyed by the SHA-256 of a text: what a re-run does not compute again.

One SQLite file per kind of value (embeddings, excerpts with lemmas), in WAL mode. Several runs (or Dask workers)
can read and write the same file at once, and a run killed in the middle leaves only whole rows: each batch is
written in one transaction, and a row is only ever inserted, never updated. Keys are hashes: the texts themselves
are never stored.

Each value lives under a *namespace* naming what produced it (the encoder and its version, the spaCy pipeline and
the splitting rules), so a new model or rule never reads an old value.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

V = TypeVar("V")


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def fingerprint(*parts: str) -> str:
    """A short hash of ``parts`` (rules' source, settings): part of a namespace, so that editing them starts afresh."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:16]


def fill_missing(
    texts: Sequence[str],
    keys: Sequence[bytes],
    known: dict[bytes, V],
    compute: Callable[[list[str]], Iterable[V]],
    save: Callable[[list[bytes], list[V]], None],
    write_every: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[V]:
    """The value of each text, in order: ``known`` (what a cache held), and the others computed once per distinct
    text by one call of ``compute`` over them, its values taken as they come and ``save``-d every ``write_every``
    texts, so a run stopped in the middle keeps what it did. ``progress(done, total)`` follows each save."""
    todo: dict[bytes, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in known and key not in todo:
            todo[key] = text
    todo_keys = list(todo)
    if progress is not None:
        progress(0, len(todo_keys))
    if not todo_keys:  # zip's strict check would start ``compute`` (and load its model) for nothing
        return [known[k] for k in keys]
    pending: list[bytes] = []
    for done, (key, value) in enumerate(zip(todo_keys, compute(list(todo.values())), strict=True), 1):
        known[key] = value
        pending.append(key)
        if len(pending) >= write_every or done == len(todo_keys):
            save(pending, [known[k] for k in pending])
            pending = []
            if progress is not None:
                progress(done, len(todo_keys))
    return [known[k] for k in keys]


class KeyValueCache:
    """``(namespace, key) -> bytes`` in one SQLite table; one connection per thread."""

    def __init__(self, path: Path | str, table: str) -> None:
        if not table.isidentifier():
            raise ValueError(f"bad table name {table!r}")
        self.path = Path(path)
        self.table = table
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        create = (
            f"CREATE TABLE IF NOT EXISTS {table} (namespace TEXT NOT NULL, key BLOB NOT NULL, "
            "value BLOB NOT NULL, PRIMARY KEY (namespace, key)) WITHOUT ROWID"
        )
        db = self.connection()

        def create_table() -> None:
            db.execute(create)
            db.commit()

        _while_locked(create_table)

    def connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60)
            _while_locked(lambda: db.execute("PRAGMA journal_mode=WAL"))
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def get(self, namespace: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """The stored values of those ``keys`` that are in the cache."""
        return dict(self._select("key, value", namespace, keys))

    def stored(self, namespace: str, keys: Sequence[bytes]) -> set[bytes]:
        """Those ``keys`` that are in the cache (their values are not read)."""
        return {key for (key,) in self._select("key", namespace, keys)}

    def _select(self, columns: str, namespace: str, keys: Sequence[bytes]) -> Iterator[tuple[Any, ...]]:
        db = self.connection()
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            yield from db.execute(
                f"SELECT {columns} FROM {self.table} WHERE namespace = ? AND key IN ({','.join('?' * len(chunk))})",
                [namespace, *chunk],
            )

    def put(self, namespace: str, items: Iterable[tuple[bytes, bytes]]) -> None:
        """Store ``(key, value)`` pairs in one transaction; keys already present keep their value."""
        db = self.connection()
        with db:
            db.executemany(
                f"INSERT OR IGNORE INTO {self.table} (namespace, key, value) VALUES (?, ?, ?)",
                [(namespace, key, value) for key, value in items],
            )

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def _while_locked(action: Callable[[], object], seconds: float = 60.0) -> None:
    """Run ``action`` again while SQLite answers "database is locked" at once (switching a new file to WAL, or
    creating its table, while other processes or threads open it too: their busy timeout does not cover that)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class ValueCache:
    """A :class:`KeyValueCache` table behind a typed cache (masks, segments): what their values are is theirs."""

    def __init__(self, path: Path | str, table: str) -> None:
        self._store = KeyValueCache(path, table)

    def stored(self, namespace: str, keys: Sequence[bytes]) -> set[bytes]:
        return self._store.stored(namespace, keys)

    def close(self) -> None:
        self._store.close()
