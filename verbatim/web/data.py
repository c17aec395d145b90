"""What the review pages show, read from the store: runs, questions, excerpts in their answers, theme breakdowns,
suggestions for the review queue, and the double-coding samples."""

from __future__ import annotations

import functools
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from verbatim.errors import VerbatimError
from verbatim.models import blind
from verbatim.models.blind import Sample
from verbatim.models.bulk import chunks, plain_rows, without_collection
from verbatim.models.decisions import DecisionLog, Position, QuestionState, Role, User
from verbatim.models.review import QUEUE, CurrentCode, Decision, ReviewStatus, ThemeState, lineage, resolve
from verbatim.models.specificities import Specificity
from verbatim.models.store import Store
from verbatim.models.tables import AnswerRow, DoubleCodingRow, ExcerptRow, RespondentRow, RunRow, ThemeRow


class NotFound(VerbatimError):
    """An unknown run, question, theme, excerpt or decision (HTTP 404)."""


class BadInput(VerbatimError):
    """A form that cannot be acted on (HTTP 400); the message says why, in French."""


class KeyReused(VerbatimError):
    """An idempotency key sent again with another decision than the one it was first used for (HTTP 409)."""


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    created_at: datetime
    survey_file: str
    questions: tuple[str, ...]  # shared by every page (``run_at``): never change it
    n_respondents: int


@dataclass(frozen=True)
class ExcerptView:
    """An excerpt inside its whole answer: ``before`` + ``text`` (highlighted) + ``after`` is the answer."""

    excerpt_id: str
    respondent_id: str
    before: str
    text: str
    after: str
    attributes: dict[str, Any]
    code: CurrentCode
    seen: int  # the latest decision on the excerpt, 0 if none: sent back with each action to detect conflicts
    runner_up: int | None
    suggestions: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class BreakdownRow:
    value: str
    n_theme: int  # respondents of the theme with this value
    share_theme: float
    share_question: float  # share among all respondents with an excerpt in the question


@dataclass(frozen=True)
class Groups:
    """A question's respondents and their attributes (see ``ReviewData.groups``)."""

    people: dict[str, str]  # each excerpt of the question -> its respondent
    attributes: dict[str, dict[str, Any]]  # each respondent -> attributes (shared dicts: never change them)
    everyone: dict[str, Counter[str]]  # per attribute name, the question's respondents by value
    n_all: int  # respondents with an excerpt in the question

    def respondents(self, excerpt_ids: list[str]) -> int:
        """How many respondents wrote these excerpts."""
        return len({self.people[e] for e in excerpt_ids if e in self.people})

    def breakdown(self, theme_excerpts: list[str]) -> dict[str, list[BreakdownRow]]:
        """Per respondent attribute: the theme's respondents by value, against all the question's respondents."""
        theme_people = {self.people[e] for e in theme_excerpts if e in self.people}
        in_theme, n_theme = count_by_value(self.attributes.get(r, {}) for r in theme_people), len(theme_people)
        result: dict[str, list[BreakdownRow]] = {}
        for name in sorted(self.everyone):
            mine = in_theme.get(name, Counter())
            result[name] = [
                BreakdownRow(value, mine[value], mine[value] / n_theme if n_theme else 0.0, n / self.n_all)
                for value, n in sorted(self.everyone[name].items(), key=lambda kv: (-mine[kv[0]], -kv[1], kv[0]))
            ]
        return result


Pair = Sample  # a blind double-coding sample and its two coders (``verbatim.models.blind``)


class ReviewData:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.log = DecisionLog(store)

    # -- runs and questions --------------------------------------------------------------------------------------
    def runs(self) -> list[RunInfo]:
        with self.store.session() as s:
            rows = list(s.scalars(select(RunRow).order_by(RunRow.created_at.desc())))
            themed = s.execute(select(ThemeRow.run_id, ThemeRow.question).distinct()).all()
            counts = dict(s.execute(select(RespondentRow.run_id, func.count()).group_by(RespondentRow.run_id)).all())
        by_run: dict[str, set[str]] = {}
        for run_id, question in themed:
            by_run.setdefault(run_id, set()).add(question)
        return [
            RunInfo(
                r.run_id,
                r.created_at,
                r.survey_file,
                _ordered(by_run.get(r.run_id, set()), r.manifest),
                counts.get(r.run_id, 0),
            )
            for r in rows
        ]

    def run(self, run_id: str) -> RunInfo:
        """The run (see :func:`run_at`): one small read."""
        created = self._created(run_id)
        if created is None:
            raise NotFound(f"L'analyse « {run_id} » n'existe pas.")
        return run_at(self.store, run_id, created)

    def _created(self, run_id: str) -> datetime | None:
        with self.store.reading() as s:
            return s.scalar(select(RunRow.created_at).where(RunRow.run_id == run_id))

    def question(self, run_id: str, number: int) -> tuple[RunInfo, str]:
        """The run and its question number ``number`` (1-based, in the survey's order)."""
        run = self.run(run_id)
        if not 1 <= number <= len(run.questions):
            raise NotFound(f"L'analyse « {run_id} » n'a pas de question n° {number}.")
        return run, run.questions[number - 1]

    def state(self, run_id: str, question: str) -> QuestionState:
        """The question's state (see :func:`state_at`); never change it."""
        return state_at(self.store, run_id, question, self.log.position(run_id, question))

    def state_for(self, run_id: str, question: str, user: User, whole: QuestionState | None = None) -> QuestionState:
        """The question as ``user`` may see it (``whole``: its full state, if already read): without the blind codes
        of open double-coding samples that are not theirs to see (``verbatim.models.blind``). Pages show this."""
        whole = whole or self.state(run_id, question)
        return blind.as_seen_by(whole, self.double_coding_pairs(run_id), user.name, user.role == Role.ADMIN)

    # -- excerpts ------------------------------------------------------------------------------------------------
    def excerpt_rows(self, run_id: str, question: str, excerpt_ids: Sequence[str]) -> dict[str, ExcerptRow]:
        """The rows of some excerpts of the question (those a page shows), by id."""
        rows: dict[str, ExcerptRow] = {}
        with self.store.reading() as s:
            for chunk in chunks(sorted(set(excerpt_ids)), 500):
                stmt = select(ExcerptRow).where(
                    ExcerptRow.run_id == run_id, ExcerptRow.question == question, ExcerptRow.excerpt_id.in_(chunk)
                )
                rows.update((e.excerpt_id, e) for e in s.scalars(stmt))
        return rows

    def people(self, run_id: str, question: str) -> dict[str, str]:
        """Each excerpt of the question -> its respondent (two columns read: a question of 200,000 excerpts makes no
        ORM object; a page that needs it for several themes reads it once)."""
        stmt = select(ExcerptRow.excerpt_id, ExcerptRow.respondent_id).where(
            ExcerptRow.run_id == run_id, ExcerptRow.question == question
        )
        with self.store.reading() as s, without_collection():
            return {str(e): str(r) for e, r in plain_rows(s, stmt)}

    def answers(self, run_id: str, question: str, respondent_ids: Sequence[str]) -> dict[str, str]:
        """The answers of some respondents to the question, by respondent."""
        answers: dict[str, str] = {}
        with self.store.reading() as s:
            for chunk in chunks(sorted(set(respondent_ids)), 500):
                stmt = select(AnswerRow.respondent_id, AnswerRow.text).where(
                    AnswerRow.run_id == run_id, AnswerRow.question == question, AnswerRow.respondent_id.in_(chunk)
                )
                answers.update((str(r), str(t)) for r, t in s.execute(stmt))
        return answers

    def attributes(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Each respondent's attributes (see :func:`attributes_at`); never change them."""
        created = self._created(run_id)
        return attributes_at(self.store, run_id, created) if created is not None else {}

    def attribute_names(self, run_id: str) -> list[str]:
        """The names of the attributes the run's respondents have, sorted."""
        alike = {id(who): who for who in self.attributes(run_id).values()}  # a few hundred distinct dicts
        return sorted({name for who in alike.values() for name in who})

    def theme_rows(self, run_id: str, question: str) -> dict[int, ThemeRow]:
        with self.store.session() as s:
            stmt = select(ThemeRow).where(ThemeRow.run_id == run_id, ThemeRow.question == question)
            return {t.theme_id: t for t in s.scalars(stmt)}

    def views(
        self, state: QuestionState, excerpt_ids: list[str], *, with_suggestions: bool = False
    ) -> list[ExcerptView]:
        """The excerpts, each inside its answer, with its current code and the decision the page shows."""
        rows = self.excerpt_rows(state.run_id, state.question, excerpt_ids)
        answers = self.answers(state.run_id, state.question, [r.respondent_id for r in rows.values()])
        attributes = self.attributes(state.run_id)
        latest = latest_decision_ids(state.decisions)
        keywords = {t: set(r.keywords or []) for t, r in self.theme_rows(state.run_id, state.question).items()}
        views = []
        for excerpt_id in excerpt_ids:
            row = rows.get(excerpt_id)
            code = state.codes.get(excerpt_id)
            if row is None or code is None:
                continue
            answer = answers.get(row.respondent_id, "")
            if answer[row.start : row.end] != row.text:  # offsets always hold; never show a wrong highlight
                before, text, after = "", row.text, ""
            else:
                before, text, after = answer[: row.start], row.text, answer[row.end :]
            machine = state.machine.get(excerpt_id)
            runner_up = machine.runner_up_theme_id if machine else None
            runner_up = resolve(runner_up, state.themes) if runner_up is not None and runner_up != QUEUE else None
            views.append(
                ExcerptView(
                    excerpt_id,
                    row.respondent_id,
                    before,
                    text,
                    after,
                    attributes.get(row.respondent_id, {}),
                    code,
                    latest.get(excerpt_id, 0),
                    runner_up,
                    suggest(state, code, runner_up, set(row.lemmas.split()), keywords) if with_suggestions else [],
                )
            )
        return views

    def excerpt_view(self, state: QuestionState, excerpt_id: str) -> ExcerptView:
        views = self.views(state, [excerpt_id], with_suggestions=True)
        if not views:
            raise NotFound(f"L'extrait « {excerpt_id} » n'existe pas dans cette question.")
        return views[0]

    def specificities(self, run_id: str, question: str) -> list[Specificity]:
        """Every theme x attribute value cell of the question, as the specificities export computes it; computed
        once per state of the question (see :func:`specificities_at`)."""
        return list(specificities_at(self.store, run_id, question, self.log.position(run_id, question)))

    def groups(self, run_id: str, question: str) -> Groups:
        """The question's respondents and their attributes, read once for a page that shows several themes."""
        people = self.people(run_id, question)
        attributes = self.attributes(run_id)
        everyone = set(people.values())
        return Groups(people, attributes, count_by_value(attributes.get(r, {}) for r in everyone), len(everyone))

    # -- double coding -------------------------------------------------------------------------------------------
    def draw_double_coding(
        self, run_id: str, question: str, n: int, coder_a: str, coder_b: str, seed: int
    ) -> list[str]:
        """Draw ``n`` excerpts of the question (seeded), not drawn before, for two researchers to code blind."""
        if coder_a == coder_b:
            raise BadInput("Choisissez deux chercheurs différents.")
        for coder in (coder_a, coder_b):
            user = self.log.user(coder)
            if user is None or not user.can_decide:
                raise BadInput(f"« {coder} » n'est pas un compte qui peut coder.")
        if not 1 <= n <= 10_000:
            raise BadInput("Le nombre d'extraits doit être entre 1 et 10 000.")
        with self.store.session() as s:
            taken = set(s.scalars(select(DoubleCodingRow.excerpt_id).where(DoubleCodingRow.run_id == run_id)))
            pool = sorted(
                e
                for e in s.scalars(
                    select(ExcerptRow.excerpt_id).where(ExcerptRow.run_id == run_id, ExcerptRow.question == question)
                )
                if e not in taken
            )
            if not pool:
                raise BadInput("Tous les extraits de cette question sont déjà dans un échantillon de double codage.")
            drawn = sorted(random.Random(seed).sample(pool, min(n, len(pool))))
            now = datetime.now(UTC)
            s.add_all(
                DoubleCodingRow(
                    run_id=run_id, excerpt_id=e, question=question, coder_a=coder_a, coder_b=coder_b, created_at=now
                )
                for e in drawn
            )
        return drawn

    def double_coding_pairs(self, run_id: str) -> list[Pair]:
        with self.store.session() as s:
            rows = list(
                s.scalars(
                    select(DoubleCodingRow)
                    .where(DoubleCodingRow.run_id == run_id)
                    .order_by(DoubleCodingRow.question, DoubleCodingRow.excerpt_id)
                )
            )
        pairs: dict[tuple[str, str, str], list[str]] = {}
        for r in rows:
            pairs.setdefault((r.question, r.coder_a, r.coder_b), []).append(r.excerpt_id)
        return [Pair(q, a, b, ids) for (q, a, b), ids in pairs.items()]

    def double_coding_for(self, run_id: str, question: str, excerpt_id: str, coder: str) -> bool:
        with self.store.session() as s:
            row = s.get(DoubleCodingRow, (run_id, excerpt_id))
            return row is not None and row.question == question and coder in (row.coder_a, row.coder_b)


def _ordered(questions: set[str], manifest: dict[str, Any] | None) -> tuple[str, ...]:
    """The questions in the survey's order (as the run was asked for), then any other, alphabetically."""
    asked = (manifest or {}).get("parameters", {}).get("questions") or []
    first = [q for q in asked if q in questions]
    return (*first, *sorted(questions - set(first)))


def latest_decision_ids(decisions: list[Decision]) -> dict[str, int]:
    latest: dict[str, int] = {}
    for d in decisions:
        if d.excerpt_id is not None and not d.double_coding:  # blind codes take no part in conflicts
            latest[d.excerpt_id] = max(latest.get(d.excerpt_id, 0), d.id)
    return latest


def suggest(
    state: QuestionState,
    code: CurrentCode,
    runner_up: int | None,
    lemmas: set[str],
    keywords: dict[int, set[str]],
    limit: int = 3,
) -> list[int]:
    """Nearest themes for an excerpt: the machine's runner-up and its own theme, then the themes whose key lemmas
    overlap the excerpt's most (cosine between the two sets of words)."""
    active = {t.theme_id for t in state.active_themes()}
    machine = resolve(code.machine_theme_id, state.themes) if code.machine_theme_id != QUEUE else None
    ranked = [t for t in (runner_up, machine) if t is not None]
    overlap = []
    for theme_id, words in keywords.items():
        common = len(lemmas & words)
        if common and words and lemmas:
            overlap.append((-common / math.sqrt(len(lemmas) * len(words)), theme_id))
    ranked += [resolve(t, state.themes) for _, t in sorted(overlap)]
    result: list[int] = []
    for t in ranked:
        if t in active and t != code.theme_id and t not in result:
            result.append(t)
    return result[:limit]


def in_queue(code: CurrentCode, threshold: float) -> bool:
    """Waiting in the review queue: no theme and no decision yet, rejected from a theme (until recoded or classed
    without a theme), or a machine code scored below ``threshold``."""
    return code.status in (ReviewStatus.QUEUED, ReviewStatus.REJECTED) or (
        code.status == ReviewStatus.MACHINE and code.score < threshold
    )


_RELATIONS = {"merged into": "fusionné dans", "split into": "scindé vers"}


def lineage_rows(state: QuestionState) -> list[tuple[int, str, int]]:
    """(from, "fusionné dans" | "scindé vers", to), for themes that exist in the codebook."""
    return [(a, _RELATIONS[relation], b) for a, relation, b in lineage(state.themes) if a in state.themes]


def active_theme(state: QuestionState, theme_id: int) -> ThemeState:
    theme = state.themes.get(theme_id)
    if theme is None or not theme.active:
        raise BadInput(f"Le thème n° {theme_id} n'est pas un thème actif de cette question.")
    return theme


def count_by_value(whos: Iterable[dict[str, Any]]) -> dict[str, Counter[str]]:
    """Per attribute name, how many of ``whos`` (attribute dicts, one per respondent or per excerpt) have each
    value (``(vide)``: none). Respondents alike share one dict (``ReviewData.attributes``): each distinct dict is
    counted once, with its number."""
    whos = list(whos)
    alike = dict(zip(map(id, whos), whos, strict=True))
    names = sorted({name for who in alike.values() for name in who})
    counts: dict[str, Counter[str]] = {name: Counter() for name in names}
    for key, n in Counter(map(id, whos)).items():
        who = alike[key]
        for name in names:
            counts[name][str(who.get(name, "")) or "(vide)"] += n
    return counts


@functools.lru_cache(maxsize=32)
def run_at(store: Store, run_id: str, _created: datetime) -> RunInfo:
    """The run, its questions and its number of respondents, kept per (store, run, creation time): all are written
    with the run and never change (20 ms on every page of a run of 100,000 respondents, most of it counting them)."""
    with store.reading() as s:
        row = s.get(RunRow, run_id)
        if row is None:
            raise NotFound(f"L'analyse « {run_id} » n'existe pas.")
        questions = set(s.scalars(select(ThemeRow.question).where(ThemeRow.run_id == run_id).distinct()))
        n = s.scalar(select(func.count()).select_from(RespondentRow).where(RespondentRow.run_id == run_id)) or 0
        return RunInfo(row.run_id, row.created_at, row.survey_file, _ordered(questions, row.manifest), n)


@functools.lru_cache(maxsize=8)
def attributes_at(store: Store, run_id: str, _created: datetime) -> dict[str, dict[str, Any]]:
    """Each respondent's attributes (``Store.respondent_attributes``: respondents alike share one dict, never
    change it), kept per (store, run, creation time): respondents are written with their run, in one transaction,
    and never change after (a run stored again has another creation time). Reading them takes 50 to 120 ms on a
    run of 100,000 respondents; the pages that follow, none."""
    return store.respondent_attributes(run_id)


@functools.lru_cache(maxsize=4)
def state_at(store: Store, run_id: str, question: str, _position: Position) -> QuestionState:
    """The question's state, kept per (store, run, question, position in the decision log) like the specificities
    below: every page of a question reads it, and on a question of 200,000 excerpts computing it takes a second or
    more (``make bench-search``), reading the position a few milliseconds. The position is read before the state,
    so an entry is never older than its key. A few entries only: such a state holds about 250 MB."""
    return DecisionLog(store).state(run_id, question)


@functools.lru_cache(maxsize=32)
def specificities_at(store: Store, run_id: str, question: str, _position: Position) -> tuple[Specificity, ...]:
    """The question's specificities, kept per (store, run, question, position in the decision log): a new decision
    or machine recode moves the position, so an entry is never served for a state it was not computed from, and
    each worker process may hold its own. Loading the question is most of the cost (``make bench-theme-page``)."""
    from verbatim.formats.exports import load_run, question_specificities

    run = load_run(store, run_id, [question])
    return tuple(question_specificities(run, run.questions[0]))
