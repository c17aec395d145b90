"""The store: opens the database (migrating it to the current schema) and writes and reads analysis runs.

SQLite (WAL) in ``verbatim.db`` of ``VERBATIM_DATA_DIR`` (default ``./data``) by default; PostgreSQL (or any
SQLAlchemy URL) through ``VERBATIM_DATABASE_URL``.
A run is written in one transaction: a failed run leaves nothing behind. The tables are in ``tables.py``; their
history in ``migrations/`` (Alembic): opening an older database upgrades it in place.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Select, Text, cast, create_engine, event, func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from verbatim.errors import StoreError
from verbatim.models.records import Answer, Coding, Excerpt, Family, Respondent, Theme
from verbatim.models.search_text import fold
from verbatim.models.tables import (
    AnswerRow,
    Base,
    CodingRow,
    ExcerptRow,
    RespondentRow,
    RunRow,
    ThemeFamilyRow,
    ThemeRow,
)
from verbatim.paths import database_file

#: Rows per INSERT batch when a run is written: large surveys have a million rows, never all in memory as objects.
INSERT_CHUNK = 5_000
MACHINE_CODER = "machine"


_SEPARATOR = "\x1f"  # between the respondent ids of a group of respondents (ASCII's unit separator)


def bulk_insert(session: Session, table: type[Base], rows: Iterable[dict[str, Any]]) -> None:
    """INSERT ``rows`` (column -> value) into ``table`` in batches, inside the session's transaction.

    Core inserts on the session's connection, not ORM objects: writing a run of 500,000 excerpts keeps a batch in
    memory, not a million tracked objects; and not the ORM's bulk path either (``session.execute(insert(Model))``),
    which sorts each row's values by attribute first (40 % of the inserts' time, py-spy)."""
    connection = session.connection()
    statement = insert(table.metadata.tables[table.__tablename__])
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, INSERT_CHUNK)):
        connection.execute(statement, chunk)


def insert_machine_codings(
    session: Session, run_id: str, version: int, codings: Iterable[Coding], created_at: datetime
) -> None:
    """A machine coding version's rows (the analysis writes version 1; each recode the next)."""
    bulk_insert(
        session,
        CodingRow,
        (
            {
                "run_id": run_id,
                "excerpt_id": c.excerpt_id,
                "coder": MACHINE_CODER,
                "version": version,
                "theme_id": c.theme_id,
                "score": c.score,
                "runner_up_theme_id": c.runner_up_theme_id,
                "created_at": created_at,
            }
            for c in codings
        ),
    )


def has_search_index(db: Connection) -> bool:
    """Whether the store has SQLite's full-text index of the excerpts (migration 0009; PostgreSQL's are plain
    indexes, kept by the server)."""
    if db.dialect.name != "sqlite":
        return False
    return db.scalar(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'excerpts_search'")) == 1


def index_excerpts(db: Connection, run_id: str | None = None) -> None:
    """Add the excerpts of ``run_id`` just written (of the whole store when None) to SQLite's full-text index, in one
    statement. Every writer of excerpts calls it (a run saved, a store copied); removals are followed by triggers."""
    if not has_search_index(db):
        return
    if run_id is None:
        db.execute(text("INSERT INTO excerpts_search(excerpts_search) VALUES ('rebuild')"))
        return
    db.execute(
        text(
            "INSERT INTO excerpts_search(rowid, folded, lemmas_folded) "
            "SELECT rowid, folded, lemmas_folded FROM excerpts WHERE run_id = :run_id"
        ),
        {"run_id": run_id},
    )


def database_url(url: str | None = None) -> str:
    """The URL given, else ``VERBATIM_DATABASE_URL``, else the SQLite file ``verbatim.db`` of the data folder."""
    return url or os.environ.get("VERBATIM_DATABASE_URL") or f"sqlite:///{database_file()}"


MMAP_BYTES = 256 * 2**20


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # reads through the OS's page cache rather than copies into SQLite's own (2 MB): a search over a large run
    # reads tens of thousands of rows at random places (about a third less time)
    cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    cursor.close()


#: No request waits forever on the database: a SQLite writer waits this long for the lock, a PostgreSQL statement
#: or an idle transaction is cut after it, and a connection attempt gives up after CONNECT_TIMEOUT seconds.
STATEMENT_TIMEOUT_S = 60
CONNECT_TIMEOUT_S = 10


#: PostgreSQL connections a process keeps open. SQLAlchemy's default keeps 5 and closes any other on its return, so
#: that a worker serving 8 researchers at once opened and closed 3 connections a request (a new server process each
#: on PostgreSQL's side). `make bench-server`, 16 researchers, 2 workers, same quarter of an hour: p95 279 -> 215 and
#: 219 ms, 90 -> 107 and 110 decisions/s, server CPU 13 -> 12 ms a decision. Opened on demand only.
POOL_SIZE = 16


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": STATEMENT_TIMEOUT_S}}
    if url.startswith("postgresql"):
        ms = STATEMENT_TIMEOUT_S * 1000
        options = f"-c statement_timeout={ms} -c idle_in_transaction_session_timeout={ms}"
        return {
            "connect_args": {"connect_timeout": CONNECT_TIMEOUT_S, "options": options},
            "pool_pre_ping": True,
            "pool_size": POOL_SIZE,
        }
    return {}


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def machine_version_query(run_id: str) -> Select[int]:
    """The newest machine coding version of a run, as a query (no row when it has no machine codes): the end of the
    (run, coder, version) index, one entry read, not every coding."""
    return (
        select(CodingRow.version)
        .where(CodingRow.run_id == run_id, CodingRow.coder == MACHINE_CODER)
        .order_by(CodingRow.version.desc())
        .limit(1)
    )


def latest_machine_version(session: Session, run_id: str) -> int:
    """The newest machine coding version of a run (0 when it has no machine codes)."""
    return int(session.scalar(machine_version_query(run_id)) or 0)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default): creates it, or upgrades an older one."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


class _Turn:
    """A lock taken for at most :data:`STATEMENT_TIMEOUT_S`, the longest a SQLite writer waits for the database."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock

    def __enter__(self) -> None:
        if not self.lock.acquire(timeout=STATEMENT_TIMEOUT_S):
            raise StoreError(f"the database stayed busy for {STATEMENT_TIMEOUT_S} s: try again")

    def __exit__(self, *_exc: object) -> None:
        self.lock.release()


class Store:
    """Opens the database (creating the tables on first use) and reads and writes runs."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(self.url, **_engine_options(self.url))
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            migrate(self.engine)
        except Exception as exc:  # unreachable server, bad URL, read-only file
            raise StoreError(f"cannot open the database {self.engine_url_for_humans()}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reads = self._sessions
        if self.engine.dialect.name == "postgresql":
            autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._reads = sessionmaker(autocommit, expire_on_commit=False)
        self._write_turn: AbstractContextManager[Any] = nullcontext()
        if self.engine.dialect.name == "sqlite":
            self._write_turn = _Turn(threading.Lock())

    def engine_url_for_humans(self) -> str:
        """The URL without its password."""
        head, sep, tail = self.url.partition("@")
        if not sep:
            return self.url
        scheme, _, credentials = head.partition("://")
        return f"{scheme}://{credentials.split(':')[0]}:***@{tail}"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that reads (or writes one row that stands alone). On PostgreSQL its statements run in
        autocommit: at READ COMMITTED each statement sees a snapshot of its own, in a transaction or not, so BEGIN
        and COMMIT would buy nothing but two round trips (four of the 23 a decision over the API made). SQLite keeps
        its transaction, and with it one snapshot for the whole read."""
        with self._reads.begin() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session that writes (``session`` otherwise). SQLite lets one writer at a time hold the database and
        makes the others poll for it, sleeping up to 100 ms between tries: the threads of one process take turns
        here instead, each waking as soon as the one before commits (a decision's p99 under 16 researchers fell
        from 1.0 s to 0.4 s in `make bench-server`). Other processes still meet at SQLite's lock."""
        with self._write_turn, self.session() as session:
            yield session

    def save_run(
        self,
        run_id: str,
        manifest: dict[str, Any],
        respondents: Sequence[Respondent],
        answers: Sequence[Answer],
        n_excerpts: dict[tuple[str, str], int],
        excerpts: Sequence[Excerpt],
        themes: Sequence[Theme],
        codings: Sequence[Coding],
        originals: dict[tuple[str, str], str] | None = None,
        families: Sequence[Family] = (),
    ) -> None:
        """Write a whole run in one transaction (``families``: the machine's families of themes, each theme
        naming its own in ``Theme.family_id``)."""
        now = datetime.now(UTC)
        with self.session() as s:
            s.add(
                RunRow(
                    run_id=run_id,
                    created_at=now,
                    survey_file=str(manifest["input"]["file_name"]),
                    input_sha256=str(manifest["input"]["sha256"]),
                    seed=int(manifest["parameters"]["seed"]),
                    encoder=str(manifest["encoder"]["id"]),
                    manifest=manifest,
                )
            )
            s.flush()
            bulk_insert(
                s,
                RespondentRow,
                ({"run_id": run_id, "respondent_id": r.respondent_id, "row": r.row, "attributes": r.attributes}
                 for r in respondents),
            )  # fmt: skip
            bulk_insert(
                s,
                AnswerRow,
                (
                    {
                        "run_id": run_id,
                        "question": a.question,
                        "respondent_id": a.respondent_id,
                        "row": a.row,
                        "text": a.text,
                        "original_text": (originals or {}).get((a.question, a.respondent_id)),
                        "status": str(a.status),
                        "reason": str(a.reason) if a.reason else None,
                        "n_excerpts": n_excerpts.get((a.question, a.respondent_id), 0),
                    }
                    for a in answers
                ),
            )
            bulk_insert(
                s,
                ExcerptRow,
                (
                    {
                        "run_id": run_id,
                        "excerpt_id": e.excerpt_id,
                        "question": e.question,
                        "respondent_id": e.respondent_id,
                        "start": e.start,
                        "end": e.end,
                        "text": e.text,
                        "lemmas": " ".join(e.lemmas),
                        "folded": fold(e.text),
                        "lemmas_folded": fold(" ".join(e.lemmas)),
                    }
                    for e in excerpts
                ),
            )
            index_excerpts(s.connection(), run_id)
            s.add_all(
                ThemeRow(
                    run_id=run_id,
                    question=t.question,
                    theme_id=t.theme_id,
                    label=t.label,
                    description=t.description,
                    keywords=list(t.keywords),
                    n_excerpts=t.n_excerpts,
                    n_respondents=t.n_respondents,
                    representative_excerpt_ids=list(t.representative_excerpt_ids),
                    family_id=t.family_id,
                )
                for t in themes
            )
            s.add_all(
                ThemeFamilyRow(
                    run_id=run_id, question=f.question, family_id=f.family_id, label=f.label, keywords=list(f.keywords)
                )
                for f in families
            )
            s.flush()
            insert_machine_codings(s, run_id, 1, codings, now)

    def respondent_attributes(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Each respondent's attributes. Respondents with the same attributes share one dict (read, never change
        it): they are read grouped, so that a run of 100,000 respondents decodes a JSON object per distinct
        combination of attributes, not per respondent (1.2 s before, most of a search on such a run)."""
        as_text = cast(RespondentRow.attributes, Text)
        ids = func.aggregate_strings(RespondentRow.respondent_id, _SEPARATOR)
        stmt = select(as_text, ids, func.count()).where(RespondentRow.run_id == run_id).group_by(as_text)
        result: dict[str, dict[str, Any]] = {}
        with self.reading() as s:
            for attributes, joined, n in s.execute(stmt):
                people = joined.split(_SEPARATOR)
                if len(people) != n:  # an id holding the separator: read this group's respondents one by one
                    one_by_one = select(RespondentRow.respondent_id).where(
                        RespondentRow.run_id == run_id, as_text == attributes
                    )
                    people = list(s.scalars(one_by_one))
                shared = dict(json.loads(attributes) or {}) if attributes else {}
                result.update(dict.fromkeys(people, shared))
        return result

    def run(self, run_id: str) -> RunRow:
        with self.session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                known = s.scalars(select(RunRow.run_id).order_by(RunRow.created_at.desc()).limit(5)).all()
                hint = f"; latest runs: {', '.join(known)}" if known else "; the database holds no run yet"
                raise StoreError(f"run '{run_id}' not found in {self.engine_url_for_humans()}{hint}")
            return row

    def themes(self, run_id: str) -> list[ThemeRow]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(ThemeRow).where(ThemeRow.run_id == run_id).order_by(ThemeRow.question, ThemeRow.theme_id)
                )
            )

    def families(self, run_id: str, question: str | None = None) -> list[ThemeFamilyRow]:
        """The machine's families of themes of a run (of one question), by question and number."""
        with self.session() as s:
            stmt = select(ThemeFamilyRow).where(ThemeFamilyRow.run_id == run_id)
            if question is not None:
                stmt = stmt.where(ThemeFamilyRow.question == question)
            return list(s.scalars(stmt.order_by(ThemeFamilyRow.question, ThemeFamilyRow.family_id)))

    def answers(self, run_id: str) -> list[AnswerRow]:
        with self.session() as s:
            return list(s.scalars(select(AnswerRow).where(AnswerRow.run_id == run_id)))

    def excerpts(self, run_id: str) -> list[ExcerptRow]:
        with self.session() as s:
            return list(s.scalars(select(ExcerptRow).where(ExcerptRow.run_id == run_id)))

    def machine_codings(self, run_id: str, version: int = 1) -> list[CodingRow]:
        with self.session() as s:
            stmt = select(CodingRow).where(
                CodingRow.run_id == run_id, CodingRow.coder == MACHINE_CODER, CodingRow.version == version
            )
            return list(s.scalars(stmt))
