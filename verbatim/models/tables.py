"""The database tables (SQLAlchemy 2 ORM). Their history is in ``migrations/``: change both together.

Analysis (written once per run by the flow): runs, respondents, answers, excerpts, themes, codings.
Review (appended to by researchers): users, decisions. Decisions are never updated or deleted: the current code of
an excerpt and the current codebook are derived from the machine's codings and the decisions
(``verbatim.models.review``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Dialect, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: The longest respondent id and question (column name) the store keeps: PostgreSQL enforces these lengths, SQLite
#: does not, so the survey's checks refuse longer ones before anything is written, on both.
MAX_ID = 200
MAX_QUESTION = 500


class UTCDateTime(TypeDecorator[datetime]):
    """A moment stored in UTC and read back aware, in UTC, on every backend: SQLite gives naive values back and
    PostgreSQL gives them in the session's time zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class RunRow(Base):
    __tablename__ = "runs"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    survey_file: Mapped[str] = mapped_column(Text)
    input_sha256: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    encoder: Mapped[str] = mapped_column(String(200))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)


class RespondentRow(Base):
    __tablename__ = "respondents"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    respondent_id: Mapped[str] = mapped_column(String(MAX_ID), primary_key=True)
    row: Mapped[int] = mapped_column(Integer)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)


class AnswerRow(Base):
    __tablename__ = "answers"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(MAX_QUESTION), primary_key=True)
    respondent_id: Mapped[str] = mapped_column(String(MAX_ID), primary_key=True)
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
    question: Mapped[str] = mapped_column(String(MAX_QUESTION), index=True)
    respondent_id: Mapped[str] = mapped_column(String(MAX_ID))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    lemmas: Mapped[str] = mapped_column(Text)  # space-separated
    # the text lower-cased and without accents, character for character (same length: offsets hold), for search
    folded: Mapped[str | None] = mapped_column(Text, nullable=True)
    lemmas_folded: Mapped[str | None] = mapped_column(Text, nullable=True)  # the lemmas so, for search


class ThemeRow(Base):
    """A theme of a question: proposed by the machine, or created by a researcher (recode to a new theme, split)."""

    __tablename__ = "themes"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(MAX_QUESTION), primary_key=True)
    theme_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text)  # as first named; renames are decisions
    description: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[Any]] = mapped_column(JSON)
    n_excerpts: Mapped[int] = mapped_column(Integer)  # at creation
    n_respondents: Mapped[int] = mapped_column(Integer)  # at creation
    representative_excerpt_ids: Mapped[list[Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200), default="machine", server_default="machine")
    parent_theme_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the theme it was split from
    # its family as the machine grouped it (``theme_families``); None for runs analysed before families and for
    # themes made by researchers (a split theme is in its parent's family, see verbatim.models.review)
    family_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ThemeFamilyRow(Base):
    """A family of themes of a question, as the machine grouped them (renames and moves are decisions)."""

    __tablename__ = "theme_families"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    question: Mapped[str] = mapped_column(String(MAX_QUESTION), primary_key=True)
    family_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text)  # as first named
    keywords: Mapped[list[Any]] = mapped_column(JSON)


class CodingRow(Base):
    """A code given by a coder. The machine is a coder of its own (``coder == "machine"``), never a person."""

    __tablename__ = "codings"
    __table_args__ = (Index("ix_codings_run_coder_version", "run_id", "coder", "version"),)  # the latest version
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    excerpt_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    coder: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    runner_up_theme_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserRow(Base):
    __tablename__ = "users"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | researcher | viewer
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True, server_default=true())  # deactivated accounts cannot log in


class DecisionRow(Base):
    """One researcher's decision. Append-only: never updated, never deleted (undo is a new decision)."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_run_question", "run_id", "question"),
        Index("ix_decisions_excerpt", "run_id", "excerpt_id"),
        Index("ux_decisions_coder_idempotency_key", "coder", "idempotency_key", unique=True),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(MAX_QUESTION))
    kind: Mapped[str] = mapped_column(String(20))  # see verbatim.models.review.DecisionKind
    coder: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    excerpt_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    theme_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the theme the decision is about / from
    to_theme_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # recode target, merge target
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # new label or description
    undoes_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    batch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # decisions made in one gesture
    seen_decision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # last decision the coder saw
    conflict_with_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a decision the coder had not seen
    double_coding: Mapped[bool] = mapped_column(default=False, server_default="0")  # blind second coding
    family_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a family renamed, or moved into
    # the client's key for this request (API ``Idempotency-Key``): a retry with the same key is not stored again
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DoubleCodingRow(Base):
    """An excerpt handed to two researchers blind, for inter-coder agreement."""

    __tablename__ = "double_coding"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    excerpt_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    question: Mapped[str] = mapped_column(String(MAX_QUESTION))
    coder_a: Mapped[str] = mapped_column(String(200))
    coder_b: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AnalysisRow(Base):
    """A flow run launched from the app or the API (analyse, recode, code a new wave) and its progress, as the
    progress page shows it. ``upload_path`` holds the raw upload until the flow has pseudonymised it."""

    __tablename__ = "analyses"
    analysis_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # analyse | recode | code
    name: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # queued | running | completed | failed
    step: Mapped[str] = mapped_column(Text)
    progress: Mapped[float] = mapped_column(Float)  # 0 to 1
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    upload_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    upload_name: Mapped[str | None] = mapped_column(Text, nullable=True)  # as the user named it: shown, never a path
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SessionRow(Base):
    """A login session of the app. The cookie names it; logout, a password or role change and deactivation revoke
    it on the server, so a copied cookie stops working in every worker process."""

    __tablename__ = "sessions"
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiTokenRow(Base):
    """A personal API token (``Authorization: Bearer``), stored as its SHA-256: it acts with its user's role."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_name: Mapped[str] = mapped_column(String(200), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class FormTokenRow(Base):
    """A one-time form token already used: the same form sent twice (a double click) acts once."""

    __tablename__ = "form_tokens"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginFailureRow(Base):
    """A wrong password for a name: a name with too many recent ones is refused for a while, by every process."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_name: Mapped[str] = mapped_column(String(200), index=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
