"""Search and concordance over a run, for the search page and ``GET /api/v1/runs/{run_id}/search``: the hits of
:mod:`verbatim.models.search`, each with its current theme and review status as the user may see them, narrowed by
question, theme, attribute value and status, counted per theme and per group."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from verbatim.models.decisions import QuestionState, User
from verbatim.models.review import QUEUE
from verbatim.models.search import Hit, SearchError, search_lemmas, search_words
from verbatim.web.data import BadInput, ReviewData
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
    query: str
    mode: str
    lines: list[Line] = field(default_factory=list)
    per_theme: list[tuple[int, str, str, int]] = field(default_factory=list)  # number, question, theme, count
    per_group: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Filters:
    number: int | None = None  # a question
    theme_id: int | None = None  # a theme of that question (QUEUE: the review queue)
    attribute: str | None = None
    value: str | None = None
    status: str | None = None


def run_search(
    data: ReviewData, run_id: str, me: User, query: str, mode: str = "mots", f: Filters | None = None
) -> Found:
    """Every excerpt of the run matching ``query`` (``mode``: ``mots`` as written, ``lemmes`` on lemmas), narrowed
    by the filters; ``BadInput`` in words for a query that cannot be searched."""
    run = data.run(run_id)
    f = f or Filters()
    if mode not in MODES:
        raise BadInput(f"Mode de recherche inconnu : « {mode[:20]} » (modes : {', '.join(MODES)}).")
    if f.number is not None and not 1 <= f.number <= len(run.questions):
        raise BadInput(f"L'analyse n'a pas de question n° {f.number}.")
    questions = [run.questions[f.number - 1]] if f.number else run.questions
    try:
        if mode == "lemmes":
            from verbatim.nlp.excerpts import query_lemmas

            hits = search_lemmas(data.store, run_id, query_lemmas(query), questions)
        else:
            hits = search_words(data.store, run_id, query, questions)
    except SearchError as exc:
        raise BadInput(f"Recherche impossible : {exc}.") from None
    attributes = data.attributes(run_id)
    numbers = {q: n for n, q in enumerate(run.questions, start=1)}
    states: dict[str, QuestionState] = {}
    found = Found(query, mode)
    for hit in hits:
        state = states.get(hit.question) or states.setdefault(hit.question, data.state_for(run_id, hit.question, me))
        code = state.codes.get(hit.excerpt_id)
        theme_id = code.theme_id if code else QUEUE
        status = str(code.status) if code else "queued"
        who = attributes.get(hit.respondent_id, {})
        if f.theme_id is not None and theme_id != f.theme_id:
            continue
        if f.status and status != f.status:
            continue
        if f.attribute and str(who.get(f.attribute, "")) != (f.value or ""):
            continue
        found.lines.append(_line(hit, numbers[hit.question], state, theme_id, status, who))
    themes = Counter((line.number, line.question, line.theme) for line in found.lines)
    found.per_theme = sorted(((n, q, t, c) for (n, q, t), c in themes.items()), key=lambda x: (x[0], -x[3], x[2]))
    names = sorted({k for line in found.lines for k in line.attributes})
    for name in names:
        counts = Counter(str(line.attributes.get(name, "")) or "(vide)" for line in found.lines)
        found.per_group[name] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return found


def _line(hit: Hit, number: int, state: QuestionState, theme_id: int, status: str, who: dict[str, Any]) -> Line:
    text = hit.text
    start, end = (hit.start, hit.end) if hit.start >= 0 else (0, 0)
    left = text[max(0, start - CONTEXT) : start]
    right = text[end : end + CONTEXT]
    return Line(
        hit.excerpt_id, number, hit.question, theme_id, theme_name(state.themes, theme_id),
        status, hit.respondent_id, who,
        ("…" if start > CONTEXT else "") + left, text[start:end], right + ("…" if end + CONTEXT < len(text) else ""),
    )  # fmt: skip
