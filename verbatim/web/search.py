"""Search and concordance over a run, for the search page and ``GET /api/v1/runs/{run_id}/search``: the hits of
:mod:`verbatim.models.search`, each with its current theme and review status as the user may see them, narrowed by
question, theme, attribute value and status, counted per theme and per group."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress, islice, repeat
from operator import attrgetter, itemgetter
from typing import Any

from verbatim.models.bulk import without_collection
from verbatim.models.decisions import QuestionState, User
from verbatim.models.review import QUEUE, ReviewStatus
from verbatim.models.search import Hit, SearchError, excerpt_texts, lemmas_found, words_found
from verbatim.web.data import BadInput, ReviewData, count_by_value
from verbatim.web.pages import theme_name

CONTEXT = 60  # characters of context on each side in the concordance
MODES = ("mots", "lemmes")


@dataclass(frozen=True)
class Line:
    """One hit as a concordance line."""

    excerpt_id: str
    number: int  # the question's number in the run
    question: str
    theme_id: int
    theme: str
    status: str
    respondent_id: str
    attributes: dict[str, Any]
    left: str
    match: str
    right: str


@dataclass
class Found:
    """What a search found: every hit kept by the filters (``found``: excerpt id and current theme), counted per
    theme and per group; concordance ``lines`` for the first ``shown`` of them only."""

    query: str
    mode: str
    n: int = 0
    lines: list[Line] = field(default_factory=list)
    found: list[tuple[str, int]] = field(default_factory=list)  # (excerpt_id, theme_id) of every hit, in order
    per_theme: list[tuple[int, str, str, int]] = field(default_factory=list)  # number, question, theme, count
    per_group: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # the state of each question with hits, as read for this search: ``whole`` (the log's), ``seen`` (as the user
    # may see it); the callers reuse them rather than reading the log again
    whole: dict[str, QuestionState] = field(default_factory=dict)
    seen: dict[str, QuestionState] = field(default_factory=dict)


@dataclass(frozen=True)
class Filters:
    number: int | None = None  # a question
    theme_id: int | None = None  # a theme of that question (QUEUE: the review queue)
    attribute: str | None = None
    value: str | None = None
    status: str | None = None


def run_search(
    data: ReviewData,
    run_id: str,
    me: User,
    query: str,
    mode: str = "mots",
    f: Filters | None = None,
    shown: int | None = None,
) -> Found:
    """Every excerpt of the run matching ``query`` (``mode``: ``mots`` as written, ``lemmes`` on lemmas), narrowed
    by the filters, with concordance lines for the first ``shown`` hits (all when None); ``BadInput`` in words for
    a query that cannot be searched."""
    run = data.run(run_id)
    f = f or Filters()
    if mode not in MODES:
        raise BadInput(f"Mode de recherche inconnu : « {mode[:20]} » (modes : {', '.join(MODES)}).")
    if f.number is not None and not 1 <= f.number <= len(run.questions):
        raise BadInput(f"L'analyse n'a pas de question n° {f.number}.")
    questions = [run.questions[f.number - 1]] if f.number else run.questions
    with without_collection():  # a common word finds tens of thousands of excerpts: see there
        try:
            if mode == "lemmes":
                from verbatim.nlp.excerpts import query_lemmas

                batches = lemmas_found(data.store, run_id, query_lemmas(query), questions)
            else:
                batches = words_found(data.store, run_id, query, questions)
        except SearchError as exc:
            raise BadInput(f"Recherche impossible : {exc}.") from None
        found = Found(query, mode)
        attributes = data.attributes(run_id)
        kept, themes, groups = _tally(data, run_id, me, batches, attributes, f, found)
        numbers = {q: n for n, q in enumerate(run.questions, start=1)}
        found.n = len(kept.hits)
        found.found = list(zip(map(attrgetter("excerpt_id"), kept.hits), kept.theme_ids, strict=True))
        page = list(islice(zip(kept.hits, kept.theme_ids, kept.statuses, strict=True), shown))
        texts = excerpt_texts(data.store, run_id, [hit.excerpt_id for hit, _, _ in page])
        found.lines = [
            _line(hit, texts.get(hit.excerpt_id, ""), numbers[hit.question], found.seen[hit.question], theme_id,
                  str(status), attributes.get(hit.respondent_id, {}))
            for hit, theme_id, status in page
        ]  # fmt: skip
    per_theme: Counter[tuple[int, str, str]] = Counter()
    for (q, t), c in themes.items():
        per_theme[(numbers[q], q, theme_name(found.seen[q].themes, t))] += c
    found.per_theme = sorted(((n, q, t, c) for (n, q, t), c in per_theme.items()), key=lambda x: (x[0], -x[3], x[2]))
    for name in sorted(groups):
        counts = groups[name]
        found.per_group[name] = sorted(((v, c) for v, c in counts.items() if c), key=lambda kv: (-kv[1], kv[0]))
    return found


@dataclass
class _Kept:
    """The hits the filters keep, column by column: a common word finds tens of thousands."""

    hits: list[Hit] = field(default_factory=list)
    theme_ids: list[int] = field(default_factory=list)
    statuses: list[ReviewStatus] = field(default_factory=list)

    def in_order(self) -> _Kept:
        """The same, hits sorted (by question, then excerpt)."""
        if len(self.hits) < 2:
            return self
        order = itemgetter(*sorted(range(len(self.hits)), key=self.hits.__getitem__))
        return _Kept(list(order(self.hits)), list(order(self.theme_ids)), list(order(self.statuses)))


def _tally(
    data: ReviewData,
    run_id: str,
    me: User,
    batches: Iterable[list[Hit]],
    attributes: dict[str, dict[str, Any]],
    f: Filters,
    found: Found,
) -> tuple[_Kept, Counter[tuple[str, int]], dict[str, Counter[str]]]:
    """The hits the filters keep, in order, with their theme and status; their count per (question, theme) and per
    attribute value. Counts each batch as it comes (see ``words_found``); reads each question's state once, into
    ``found``."""
    kept = _Kept()
    themes: Counter[tuple[str, int]] = Counter()
    kept_whos: list[dict[str, Any]] = []  # the attributes of each hit kept
    nobody: dict[str, Any] = {}
    for batch in batches:
        by_question: dict[str, list[Hit]] = {}
        for hit in batch:
            by_question.setdefault(hit[0], []).append(hit)
        for question, found_here in by_question.items():
            if question not in found.seen:
                found.whole[question] = whole = data.state(run_id, question)
                found.seen[question] = data.state_for(run_id, question, me, whole)
            state = found.seen[question]
            # column by column, each step in C: a common word finds tens of thousands of excerpts
            codes = list(map(state.codes.get, map(attrgetter("excerpt_id"), found_here)))
            whos = list(map(attributes.get, map(attrgetter("respondent_id"), found_here), repeat(nobody)))
            theme_ids = [code.theme_id if code else QUEUE for code in codes]
            statuses = [code.status if code else ReviewStatus.QUEUED for code in codes]
            keep = [
                (f.theme_id is None or theme_id == f.theme_id)
                and (not f.status or status == f.status)
                and (not f.attribute or str(who.get(f.attribute, "")) == (f.value or ""))
                for theme_id, status, who in zip(theme_ids, statuses, whos, strict=True)
            ] if f.theme_id is not None or f.status or f.attribute else None  # fmt: skip
            if keep is not None:
                found_here, theme_ids = list(compress(found_here, keep)), list(compress(theme_ids, keep))
                statuses, whos = list(compress(statuses, keep)), list(compress(whos, keep))
            kept.hits += found_here
            kept.theme_ids += theme_ids
            kept.statuses += statuses
            themes.update({(question, theme_id): n for theme_id, n in Counter(theme_ids).items()})
            kept_whos += whos
    return kept.in_order(), themes, count_by_value(kept_whos)


def _line(
    hit: Hit, text: str, number: int, state: QuestionState, theme_id: int, status: str, who: dict[str, Any]
) -> Line:
    start, end = (hit.start, hit.end) if hit.start >= 0 else (0, 0)
    left = text[max(0, start - CONTEXT) : start]
    right = text[end : end + CONTEXT]
    return Line(
        hit.excerpt_id, number, hit.question, theme_id, theme_name(state.themes, theme_id),
        status, hit.respondent_id, who,
        ("…" if start > CONTEXT else "") + left, text[start:end], right + ("…" if end + CONTEXT < len(text) else ""),
    )  # fmt: skip
