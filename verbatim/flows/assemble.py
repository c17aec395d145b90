"""Glue between the language steps' plain outputs and the typed records of a run (no analysis logic here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from verbatim.models.records import (
    QUEUE_THEME_ID,
    Answer,
    AnswerStatus,
    Coding,
    Excerpt,
    Family,
    RejectReason,
    Theme,
)
from verbatim.nlp.excerpts import Segment

if TYPE_CHECKING:  # the theme model's libraries stay out of the Dask workers, which import this module
    from verbatim.nlp.sampling import SampledFit


def excerpt_id(question_index: int, respondent_id: str, k: int) -> str:
    """Readable and stable: ``Q1-R0042-03`` is the third excerpt of respondent R0042's answer to question 1."""
    return f"Q{question_index + 1}-{respondent_id}-{k + 1:02d}"


def build_excerpts(
    question_index: int, answers: Sequence[Answer], segments: Sequence[Sequence[Segment]]
) -> tuple[list[Excerpt], list[Answer]]:
    """Excerpt records of the answers; answers left with no excerpt come back rejected (``no_text``)."""
    excerpts: list[Excerpt] = []
    no_text: list[Answer] = []
    for answer, parts in zip(answers, segments, strict=True):
        kept = [p for p in parts if any(ch.isalnum() for ch in answer.text[p.start : p.end])]
        if not kept:
            no_text.append(answer.model_copy(update={"status": AnswerStatus.REJECTED, "reason": RejectReason.NO_TEXT}))
            continue
        for k, part in enumerate(kept):
            excerpts.append(
                Excerpt(
                    excerpt_id=excerpt_id(question_index, answer.respondent_id, k),
                    question=answer.question,
                    respondent_id=answer.respondent_id,
                    start=part.start,
                    end=part.end,
                    text=answer.text[part.start : part.end],
                    lemmas=part.lemmas,
                    surfaces=part.surfaces,
                )
            )
    return excerpts, no_text


def families_of(question: str, fitted: SampledFit) -> list[Family]:
    """The machine's families of the question's themes."""
    return [
        Family(question=question, family_id=f.family_id, label=f.label, keywords=f.keywords) for f in fitted.families
    ]


def themes_and_codings(
    question: str, excerpts: Sequence[Excerpt], fitted: SampledFit
) -> tuple[list[Theme], list[Coding]]:
    family = {t: f.family_id for f in fitted.families for t in f.theme_ids}
    themes = [
        Theme(
            question=question,
            theme_id=t.theme_id,
            label=t.label,
            description=t.description,
            keywords=t.keywords,
            n_excerpts=len(t.members),
            n_respondents=t.n_respondents,
            representative_excerpt_ids=tuple(excerpts[i].excerpt_id for i in t.representatives),
            family_id=family.get(t.theme_id),
        )
        for t in fitted.themes
    ]
    # Rounded and made Python numbers array by array: a numpy call per excerpt took 0.2-0.6 s at 24,718 excerpts.
    labels, scores = np.asarray(fitted.labels).tolist(), np.round(np.asarray(fitted.scores), 4).tolist()
    codings = [
        Coding(
            excerpt_id=e.excerpt_id,
            theme_id=label,
            score=score,
            runner_up_theme_id=None if runner < 0 else runner,
        )
        for e, label, score, runner in zip(excerpts, labels, scores, np.asarray(fitted.runner_up).tolist(), strict=True)
    ]
    return themes, codings


def answer_outcomes(
    answers: Sequence[Answer], excerpts: Sequence[Excerpt], codings: Sequence[Coding]
) -> tuple[list[Answer], dict[tuple[str, str], int], dict[tuple[str, str], list[int]]]:
    """Each analysed answer's status (coded if any excerpt has a theme, else queued), excerpt count and themes."""
    n_excerpts: dict[tuple[str, str], int] = {}
    themes: dict[tuple[str, str], list[int]] = {}
    for e, c in zip(excerpts, codings, strict=True):
        key = (e.question, e.respondent_id)
        n_excerpts[key] = n_excerpts.get(key, 0) + 1
        ids = themes.setdefault(key, [])
        if c.theme_id != QUEUE_THEME_ID and c.theme_id not in ids:
            ids.append(c.theme_id)
    done = []
    for a in answers:
        key = (a.question, a.respondent_id)
        status = AnswerStatus.CODED if themes.get(key) else AnswerStatus.QUEUED
        done.append(a.model_copy(update={"status": status}))
        themes[key] = sorted(themes.get(key, []))
    return done, n_excerpts, themes
