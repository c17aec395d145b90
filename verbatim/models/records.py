"""Typed records that cross the boundaries between ingest, the language steps, the theme model and the store."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class AnswerStatus(StrEnum):
    """Where an answer ends: every answer that comes in ends in exactly one of these."""

    CODED = "coded"  # at least one excerpt carries a theme
    QUEUED = "queued"  # no excerpt fits a theme well: the whole answer waits in the review queue
    REJECTED = "rejected"  # not themed, with a reason (empty, placeholder such as "RAS", ...)


class RejectReason(StrEnum):
    EMPTY = "empty"  # missing, blank or whitespace-only
    PLACEHOLDER = "placeholder"  # "RAS", "non", "-", "NSP"... (configurable list)
    NO_TEXT = "no_text"  # nothing left after segmentation (only punctuation, emoji...)


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Respondent(_Record):
    """One row of the survey export: its id, its 1-based data row number and its attributes."""

    respondent_id: str
    row: int = Field(description="1-based number of the data row in the file (the header is not counted)")
    attributes: dict[str, str] = Field(default_factory=dict)


class Answer(_Record):
    """The answer of one respondent to one open question. ``text`` is the pseudonymised text once masked."""

    question: str
    respondent_id: str
    row: int
    text: str
    status: AnswerStatus | None = None
    reason: RejectReason | None = None


class Excerpt(_Record):
    """A sentence or list item of an answer: ``answer.text[start:end] == text`` always."""

    excerpt_id: str
    question: str
    respondent_id: str
    start: int
    end: int
    text: str
    lemmas: tuple[str, ...] = ()
    surfaces: tuple[str, ...] = Field(default=(), description="the words as written, one per lemma (for labels)")


class Theme(_Record):
    """One theme of a question, as the machine proposes it."""

    question: str
    theme_id: int
    label: str
    description: str
    keywords: tuple[str, ...]
    n_excerpts: int
    n_respondents: int
    representative_excerpt_ids: tuple[str, ...]
    family_id: int | None = None  # its family (``Family``); None for runs analysed before families


class Family(_Record):
    """A family of themes of a question, as the machine groups them (numbered from 1)."""

    question: str
    family_id: int
    label: str
    keywords: tuple[str, ...] = ()


class Coding(_Record):
    """The machine's code of one excerpt: a theme or the review queue (``theme_id == -1``)."""

    excerpt_id: str
    theme_id: int
    score: float = Field(ge=0.0, le=1.0)
    runner_up_theme_id: int | None = None


QUEUE_THEME_ID = -1
