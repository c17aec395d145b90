"""What every export reads: one run of the store as it stands now (codebook and codes after the decisions).

Exports read only the pseudonymised columns of the store (``answers.text``, ``excerpts.text``); the unmasked
``answers.original_text`` kept by ``--keep-original`` is never loaded here, so no export can leak it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from verbatim.errors import StoreError
from verbatim.models.bulk import plain_rows, without_collection
from verbatim.models.decisions import DecisionLog, QuestionState
from verbatim.models.review import QUEUE, CurrentCode, FamilyState, ReviewStatus, ThemeState, resolve
from verbatim.models.store import Store
from verbatim.models.tables import AnswerRow, ExcerptRow, RespondentRow, ThemeRow

QUEUE_LABEL = "(à revoir)"
VALIDATED = frozenset({ReviewStatus.ACCEPTED, ReviewStatus.RECODED})


@dataclass(frozen=True)
class ExcerptView:
    """One excerpt with its answer, its respondent and its current code."""

    excerpt_id: str
    question: str
    respondent_id: str
    start: int
    end: int
    text: str
    answer: str
    code: CurrentCode
    machine_theme_id: int  # the machine's theme followed through merges (QUEUE for the review queue)

    @property
    def validated(self) -> bool:
        return self.code.status in VALIDATED


@dataclass(frozen=True)
class ThemeView:
    """A theme of the codebook as it stands, with what the machine first said about it."""

    state: ThemeState
    keywords: tuple[str, ...]
    machine_n_excerpts: int
    machine_n_respondents: int
    representative_excerpt_ids: tuple[str, ...]

    @property
    def theme_id(self) -> int:
        return self.state.theme_id

    @property
    def label(self) -> str:
        return self.state.label


@dataclass
class QuestionView:
    question: str
    state: QuestionState
    themes: dict[int, ThemeView]
    excerpts: list[ExcerptView]  # in survey row order, then by position in the answer
    answers: dict[str, str]  # respondent id -> pseudonymised answer text (every answer, rejected ones included)
    statuses: dict[str, str]  # respondent id -> coded | queued | rejected
    reasons: dict[str, str] = field(default_factory=dict)  # respondent id -> why its answer was rejected
    number: int = 0  # 1-based place of the question in the run (all its questions), 0 when unknown

    def label(self, theme_id: int) -> str:
        if theme_id == QUEUE or theme_id not in self.themes:
            return QUEUE_LABEL
        return self.themes[theme_id].label

    def active_themes(self) -> list[ThemeView]:
        return [self.themes[t.theme_id] for t in self.state.active_themes()]

    def family(self, theme_id: int) -> FamilyState | None:
        """The theme's family now (None for the review queue)."""
        return None if theme_id == QUEUE else self.state.family_of(theme_id)

    def family_label(self, theme_id: int) -> str:
        family = self.family(theme_id)
        return "" if family is None else family.label

    def families(self) -> list[tuple[FamilyState, list[ThemeView]]]:
        """The families holding an active theme, each with its active themes (every active theme in one)."""
        return [(f, [self.themes[t.theme_id] for t in themes]) for f, themes in self.state.active_families()]

    def excerpts_of(self, theme_id: int) -> list[ExcerptView]:
        return [e for e in self.excerpts if e.code.theme_id == theme_id]

    def respondents_answering(self) -> list[str]:
        """Respondents whose answer was analysed (coded or queued): the base of every share in a report."""
        return [r for r, s in self.statuses.items() if s != "rejected"]


@dataclass
class RunView:
    run_id: str
    created_at: datetime
    attributes: list[str]  # attribute columns, in the order of the analysis
    respondents: dict[str, dict[str, str]]  # respondent id -> attributes (survey row order)
    questions: list[QuestionView] = field(default_factory=list)

    def question(self, name: str) -> QuestionView:
        for q in self.questions:
            if q.question == name:
                return q
        raise KeyError(name)


def run_questions(store: Store, run_id: str) -> list[str]:
    """The questions of a run, in the order they were analysed."""
    run = store.run(run_id)
    listed = [str(q) for q in run.manifest.get("parameters", {}).get("questions", [])]
    with store.session() as s:
        stored = set(s.scalars(select(AnswerRow.question).where(AnswerRow.run_id == run_id).distinct()))
    return [q for q in listed if q in stored] + sorted(stored - set(listed))


def check_questions(store: Store, run_id: str, questions: Sequence[str] | None) -> list[str]:
    """The questions asked for (all of the run's when none), or a :class:`StoreError` naming the known ones."""
    known = run_questions(store, run_id)
    if not questions:
        return known
    unknown = [q for q in questions if q not in known]
    if unknown:
        raise StoreError(
            f"question(s) {', '.join(repr(q) for q in unknown)} not in run '{run_id}'; its questions are: "
            f"{', '.join(known) or 'none'}"
        )
    return list(dict.fromkeys(questions))


#: What a run's export reads of each excerpt, as plain columns (200,000 excerpts made as many ORM objects, 4 to 5 s).
_EXCERPT_COLUMNS = (
    ExcerptRow.excerpt_id, ExcerptRow.question, ExcerptRow.respondent_id, ExcerptRow.start, ExcerptRow.end,
    ExcerptRow.text,
)  # fmt: skip


def load_run(store: Store, run_id: str, questions: Sequence[str] | None = None) -> RunView:
    """Read a run and its decisions: the current codebook and code of every excerpt of each question."""
    run = store.run(run_id)
    names = check_questions(store, run_id, questions)
    numbers = {q: n for n, q in enumerate(run_questions(store, run_id), start=1)}
    log = DecisionLog(store)
    attributes_of = store.respondent_attributes(run_id)  # one JSON object per distinct combination
    with store.session() as s, without_collection():  # a row or two per excerpt: see there
        rows = sorted(plain_rows(s, select(RespondentRow.respondent_id, RespondentRow.row).where(
            RespondentRow.run_id == run_id)), key=lambda r: r[1])  # fmt: skip
        order = {str(respondent_id): int(row) for respondent_id, row in rows}
        listed = [str(a) for a in run.manifest.get("parameters", {}).get("attributes", [])]
        nobody: dict[str, Any] = {}
        alike = {id(a): a for a in (attributes_of.get(r, nobody) for r in order)}  # first seen first, as by row
        seen = dict.fromkeys(k for a in alike.values() for k in a)
        attributes = [a for a in listed if a in seen] + [a for a in seen if a not in listed]
        respondents = {r: {a: str(attributes_of.get(r, nobody).get(a, "") or "") for a in attributes} for r in order}
        view = RunView(run_id, run.created_at, attributes, respondents)
        for question in names:
            answer_rows = s.execute(
                select(AnswerRow.respondent_id, AnswerRow.text, AnswerRow.status, AnswerRow.reason).where(
                    AnswerRow.run_id == run_id, AnswerRow.question == question
                )
            ).all()  # never AnswerRow.original_text
            excerpt_rows = plain_rows(s, select(*_EXCERPT_COLUMNS).where(
                ExcerptRow.run_id == run_id, ExcerptRow.question == question))  # fmt: skip
            theme_rows = {
                t.theme_id: t
                for t in s.scalars(select(ThemeRow).where(ThemeRow.run_id == run_id, ThemeRow.question == question))
            }
            qv = _question_view(log, run_id, question, answer_rows, excerpt_rows, theme_rows, order)
            qv.number = numbers.get(question, 0)
            view.questions.append(qv)
    return view


def _question_view(
    log: DecisionLog,
    run_id: str,
    question: str,
    answer_rows: Sequence[tuple[str, str, str, str | None]],
    excerpt_rows: Sequence[Sequence[Any]],  # _EXCERPT_COLUMNS
    theme_rows: dict[int, ThemeRow],
    order: dict[str, int],
) -> QuestionView:
    answers = {rid: text for rid, text, _, _ in answer_rows}
    statuses = {rid: status for rid, _, status, _ in answer_rows}
    reasons = {rid: reason for rid, _, _, reason in answer_rows if reason}
    state = log.state(run_id, question) if theme_rows else QuestionState(run_id, question, {}, {}, {}, [])
    themes = {
        tid: ThemeView(
            ts,
            tuple(str(k) for k in (theme_rows[tid].keywords if tid in theme_rows else [])),
            theme_rows[tid].n_excerpts if tid in theme_rows else 0,
            theme_rows[tid].n_respondents if tid in theme_rows else 0,
            tuple(str(i) for i in (theme_rows[tid].representative_excerpt_ids if tid in theme_rows else [])),
        )
        for tid, ts in state.themes.items()
    }
    excerpts = []
    for excerpt_id, of_question, respondent_id, start, end, text in sorted(
        excerpt_rows, key=lambda e: (order.get(e[2], 0), e[2], e[3])
    ):
        code = state.codes.get(excerpt_id)
        if code is None:  # an excerpt the machine never coded: show it in the queue
            code = CurrentCode(excerpt_id, QUEUE, ReviewStatus.QUEUED, QUEUE, 0.0)
        machine = code.machine_theme_id
        excerpts.append(
            ExcerptView(
                excerpt_id, of_question, respondent_id, start, end, text, answers.get(respondent_id, ""),
                code, resolve(machine, state.themes) if machine != QUEUE else QUEUE,
            )
        )  # fmt: skip
    ordered_answers = dict(sorted(answers.items(), key=lambda kv: (order.get(kv[0], 0), kv[0])))
    return QuestionView(question, state, themes, excerpts, ordered_answers, statuses, reasons)
