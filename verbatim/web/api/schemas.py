"""What the API answers and accepts (pydantic models: the OpenAPI schema is written from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from verbatim.web.pages import MAX_LABEL


class RunSummary(BaseModel):
    run_id: str
    created_at: datetime
    survey_file: str = Field(description="the survey export's file name")
    questions: list[str] = Field(description="the open questions, in the survey's order")
    n_respondents: int


class ThemeOut(BaseModel):
    id: int = Field(description="the theme's number within its question")
    label: str
    description: str
    size: int = Field(description="excerpts coded in the theme now (after the review)")
    n_respondents: int = Field(description="respondents with at least one excerpt in the theme")
    family_id: int | None = Field(default=None, description="the theme's family within its question, now")
    family: str = Field(default="", description="the name of the theme's family, now (after renames and moves)")


class QuestionOut(BaseModel):
    number: int = Field(description="1-based, as in the app's addresses (/runs/RUN/q/NUMBER)")
    question: str
    counts: dict[str, int] = Field(
        description="rows, coded, queued, rejected, excerpts, themes (at analysis); decided, review_queue and "
        "active_themes (now)"
    )
    themes: list[ThemeOut] = Field(description="the active themes")


class RunDetail(BaseModel):
    run_id: str
    created_at: datetime
    survey_file: str
    n_respondents: int
    seed: int
    encoder: str
    questions: list[QuestionOut]


class DecisionIn(BaseModel):
    """A decision on one excerpt (its question is found from the excerpt)."""

    model_config = ConfigDict(extra="forbid")

    excerpt_id: str = Field(min_length=1, max_length=300, examples=["Q1-R0001-01"])
    action: Literal["accept", "reject", "recode", "no_theme"] = Field(
        description="accept the current theme; reject (out of its theme, to the review queue until recoded or "
        "classed without a theme); recode (to to_theme); no_theme (it fits no theme: out of the review queue)"
    )
    to_theme: int | None = Field(default=None, description="the target theme (recode only)")
    seen: int | None = Field(
        default=None,
        ge=0,
        description="the latest decision on the excerpt you saw (0: none); a later one by someone else is flagged "
        "as a conflict. Omit it to skip the check.",
    )


class DecisionOut(BaseModel):
    decision_id: int
    run_id: str
    question: str
    excerpt_id: str
    action: str
    theme_id: int = Field(description="the excerpt's theme after the decision (-1: the review queue)")
    conflict_with_id: int | None = Field(description="a decision by someone else you had not seen, if any")
    message: str


class FamilyRenameIn(BaseModel):
    """A family's new name."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=MAX_LABEL, examples=["Outils et équipement"])


class ThemeFamilyIn(BaseModel):
    """The family a theme goes into: an existing one (``family_id``), or a new one (``new_label``, no family_id)."""

    model_config = ConfigDict(extra="forbid")

    family_id: int | None = Field(default=None, description="a family of the theme's question")
    new_label: str = Field(default="", max_length=MAX_LABEL, description="the name of a new family (no family_id)")


class FamilyChangeOut(BaseModel):
    decision_id: int | None = Field(description="the decision appended to the log; null: nothing to change")
    run_id: str
    question: str
    family_id: int = Field(description="the family renamed, or the one the theme is in now")
    family: str = Field(description="that family's name now")
    theme_id: int | None = Field(default=None, description="the theme moved (moves only)")
    coder: str | None = Field(description="who decided (the token's account)")
    created_at: datetime | None = Field(description="when (UTC)")
    message: str


class Problem(BaseModel):
    detail: str


class AnalysisCreated(BaseModel):
    analysis_id: str
    status: str = Field(description="queued: follow it at GET /api/v1/analyses/{analysis_id}")


class AnalysisOut(BaseModel):
    analysis_id: str
    kind: str = Field(description="analyse (a survey export), code (a new wave into a codebook), recode")
    name: str
    created_by: str
    created_at: datetime
    status: Literal["queued", "running", "completed", "failed"]
    step: str = Field(description="the step the flow is at, in words (French)")
    progress: float = Field(description="share of the steps done, 0 to 1")
    run_id: str | None = Field(description="the run written, once completed")
    error: str | None = Field(description="why it failed, in words")
