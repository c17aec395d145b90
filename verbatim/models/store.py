"""The store: SQLAlchemy 2 tables for runs, answers, excerpts, themes and machine codings.

SQLite (WAL) in ``data/verbatim.db`` by default; PostgreSQL (or any SQLAlchemy URL) through ``VERBATIM_DATABASE_URL``.
A run is written in one transaction: a failed run leaves nothing behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from verbatim.errors import StoreError
from verbatim.models.records import Answer, Coding, Excerpt, Respondent, Theme

DEFAULT_DATABASE = Path("data") / "verbatim.db"
MACHINE_CODER = "machine"


def database_url(url: str | None = None) -> str:
    """The URL given, else ``VERBATIM_DATABASE_URL``, else the SQLite file ``data/verbatim.db``."""
    return url or os.environ.get("VERBATIM_DATABASE_URL") or f"sqlite:///{DEFAULT_DATABASE}"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class RunRow(Base):
    __tablename__ = "runs"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    survey_file: Mapped[str] = mapped_column(Text)
    input_sha256: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    encoder: Mapped[str] = mapped_column(String(200))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)


class RespondentRow(Base):
    __tablename__ = "respondents"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    respondent_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    row: Mapped[int] = mapped_column(Integer)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)


class AnswerRow(Base):
    __tablename__ = "answers"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(500), primary_key=True)
    respondent_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    row: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)  # pseudonymised
    original_text: Mapped[str | None] = mapped_column(Text, nullable=True)  # only with --keep-original
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    n_excerpts: Mapped[int] = mapped_column(Integer)


class ExcerptRow(Base):
    __tablename__ = "excerpts"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    excerpt_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    question: Mapped[str] = mapped_column(String(500), index=True)
    respondent_id: Mapped[str] = mapped_column(String(200))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    lemmas: Mapped[str] = mapped_column(Text)  # space-separated


class ThemeRow(Base):
    __tablename__ = "themes"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(500), primary_key=True)
    theme_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[Any]] = mapped_column(JSON)
    n_excerpts: Mapped[int] = mapped_column(Integer)
    n_respondents: Mapped[int] = mapped_column(Integer)
    representative_excerpt_ids: Mapped[list[Any]] = mapped_column(JSON)


class CodingRow(Base):
    """A code given by a coder. The machine is a coder of its own (``coder == "machine"``), never a person."""

    __tablename__ = "codings"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    excerpt_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    coder: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    runner_up_theme_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    """Opens the database (creating the tables on first use) and reads and writes runs."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(self.url)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            Base.metadata.create_all(self.engine)
        except Exception as exc:  # unreachable server, bad URL, read-only file
            raise StoreError(f"cannot open the database {self.engine_url_for_humans()}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

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
    ) -> None:
        """Write a whole run in one transaction."""
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
            s.add_all(
                RespondentRow(run_id=run_id, respondent_id=r.respondent_id, row=r.row, attributes=r.attributes)
                for r in respondents
            )
            s.add_all(
                AnswerRow(
                    run_id=run_id,
                    question=a.question,
                    respondent_id=a.respondent_id,
                    row=a.row,
                    text=a.text,
                    original_text=(originals or {}).get((a.question, a.respondent_id)),
                    status=str(a.status),
                    reason=str(a.reason) if a.reason else None,
                    n_excerpts=n_excerpts.get((a.question, a.respondent_id), 0),
                )
                for a in answers
            )
            s.add_all(
                ExcerptRow(
                    run_id=run_id,
                    excerpt_id=e.excerpt_id,
                    question=e.question,
                    respondent_id=e.respondent_id,
                    start=e.start,
                    end=e.end,
                    text=e.text,
                    lemmas=" ".join(e.lemmas),
                )
                for e in excerpts
            )
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
                )
                for t in themes
            )
            s.add_all(
                CodingRow(
                    run_id=run_id,
                    excerpt_id=c.excerpt_id,
                    coder=MACHINE_CODER,
                    version=1,
                    theme_id=c.theme_id,
                    score=c.score,
                    runner_up_theme_id=c.runner_up_theme_id,
                    created_at=now,
                )
                for c in codings
            )

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
