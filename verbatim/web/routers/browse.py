"""Reading pages: the runs, a run, a question's themes, a theme, the review queue, an excerpt."""

from __future__ import annotations

import math
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from verbatim.models import agreement
from verbatim.models.review import QUEUE, THEME_KINDS, DecisionKind, ReviewStatus, undone
from verbatim.models.specificities import Direction, Specificity, in_words
from verbatim.web.data import NotFound, in_queue, lineage_rows
from verbatim.web.pages import data_of, render
from verbatim.web.security import Reader

router = APIRouter()


PAGE_SIZE = 50  # excerpts on a theme's page


def _low_score(request: Request) -> float:
    return float(request.app.state.low_score)


@router.get("/", response_class=HTMLResponse)
def runs_page(request: Request, me: Reader) -> Response:
    return render(request, "runs.html", me=me, runs=data_of(request).runs())


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, me: Reader, run_id: str) -> Response:
    data = data_of(request)
    run = data.run(run_id)
    questions = []
    for number, question in enumerate(run.questions, start=1):
        state = data.state_for(run_id, question, me)
        queue = sum(1 for c in state.codes.values() if in_queue(c, _low_score(request)))
        questions.append((number, question, state, agreement.progress(state), queue))
    return render(request, "run.html", me=me, run=run, questions=questions)


@router.get("/runs/{run_id}/q/{number}", response_class=HTMLResponse)
def question_page(request: Request, me: Reader, run_id: str, number: int) -> Response:
    data = data_of(request)
    run, question = data.question(run_id, number)
    state = data.state_for(run_id, question, me)
    rows = data.theme_rows(run_id, question)
    groups = data.groups(run_id, question)  # read once for every theme
    themes = []
    family_of = {t.theme_id: f for f, members in state.active_families() for t in members}
    for theme in state.active_themes():
        ids = state.excerpts_of(theme.theme_id)
        row = rows.get(theme.theme_id)
        reps = [e for e in (row.representative_excerpt_ids if row else []) if e in ids][:2]
        themes.append(
            {
                "theme": theme,
                "n_excerpts": len(ids),
                "n_respondents": groups.respondents(ids),
                "n_decided": sum(1 for e in ids if state.codes[e].decision_id is not None),
                "keywords": list(row.keywords or [])[:8] if row else [],
                "representatives": data.views(state, reps),
                "breakdown": groups.breakdown(ids),
                "family": family_of[theme.theme_id],
            }
        )
    # the themes grouped by family (every active theme in exactly one), families in their order, 'Autres' last
    families = [(f, [t for t in themes if t["family"] is f]) for f, _ in state.active_families()]
    queue = sum(1 for c in state.codes.values() if in_queue(c, _low_score(request)))
    return render(
        request,
        "question.html",
        families=families,
        specificities=specificity_table(data.specificities(run_id, question)),
        me=me,
        run=run,
        number=number,
        question=question,
        state=state,
        themes=themes,
        queue=queue,
        progress=agreement.progress(state),
        lineage=lineage_rows(state),
    )


@router.get("/runs/{run_id}/q/{number}/themes/{theme_id}", response_class=HTMLResponse)
def theme_page(
    request: Request, me: Reader, run_id: str, number: int, theme_id: int, page: int = 1, taille: int = PAGE_SIZE
) -> Response:
    """A theme and its excerpts, ``taille`` a page (the ones to review first), then its attribute tables."""
    data = data_of(request)
    run, question = data.question(run_id, number)
    state = data.state_for(run_id, question, me)
    theme = state.themes.get(theme_id)
    if theme is None:
        raise NotFound(f"Le thème n° {theme_id} n'existe pas dans cette question.")
    ids = state.excerpts_of(theme_id) if theme.active else []
    order = {ReviewStatus.MACHINE: 0, ReviewStatus.QUEUED: 0}
    ranked = sorted(ids, key=lambda e: (order.get(state.codes[e].status, 1), state.codes[e].score, e))
    size = min(max(taille, 10), 500)
    pages = max(1, -(-len(ranked) // size))
    page = min(max(page, 1), pages)
    first = (page - 1) * size
    views = data.views(state, ranked[first : first + size])
    row = data.theme_rows(run_id, question).get(theme_id)
    reps = data.views(state, [e for e in (row.representative_excerpt_ids if row else []) if e in ids][:3])
    standing_out = sorted(
        (c for c in data.specificities(run_id, question) if c.theme_id == theme_id and c.direction),
        key=lambda c: (c.direction != Direction.OVER, c.p_adjusted, c.attribute, c.value),
    )
    theme_kinds = THEME_KINDS | {DecisionKind.MOVE_TO_FAMILY}
    theme_decisions = [d for d in state.decisions if d.kind in theme_kinds and theme_id in (d.theme_id, d.to_theme_id)]
    return render(
        request,
        "theme.html",
        me=me,
        run=run,
        number=number,
        question=question,
        state=state,
        theme=theme,
        family=state.family_of(theme_id),
        families=[f for f in sorted(state.families.values(), key=lambda f: (f.family_id == 0, f.family_id))],
        row=row,
        excerpts=views,
        n_excerpts=len(ids),
        paging={"page": page, "pages": pages, "size": size, "first": first + 1, "last": first + len(views)},
        representatives=reps,
        n_respondents=(groups := data.groups(run_id, question)).respondents(ids),
        breakdown=groups.breakdown(ids),
        standing_out=[(c, in_words(c)) for c in standing_out],
        lineage=lineage_rows(state),
        theme_decisions=theme_decisions,
        undone=undone(state.decisions),
        here=str(request.url.path) + _page_query(page, size),
        path=str(request.url.path),
    )


def _page_query(page: int, size: int) -> str:
    query = {k: v for k, v in (("page", page), ("taille", size)) if v != {"page": 1, "taille": PAGE_SIZE}[k]}
    return f"?{urlencode(query)}" if query else ""


@router.get("/runs/{run_id}/q/{number}/queue", response_class=HTMLResponse)
def queue_page(request: Request, me: Reader, run_id: str, number: int, seuil: float | None = None) -> Response:
    data = data_of(request)
    run, question = data.question(run_id, number)
    state = data.state_for(run_id, question, me)
    # A threshold that is not a number (nan, inf) is no threshold: the default one applies.
    threshold = _low_score(request) if seuil is None or not math.isfinite(seuil) else min(max(seuil, 0.0), 1.0)
    ids = sorted(
        (e for e, c in state.codes.items() if in_queue(c, threshold)),
        key=lambda e: (state.codes[e].theme_id != QUEUE, state.codes[e].score, e),
    )
    n_no_theme = sum(1 for c in state.codes.values() if c.status == ReviewStatus.NO_THEME)
    return render(
        request,
        "queue.html",
        me=me,
        run=run,
        number=number,
        question=question,
        state=state,
        excerpts=data.views(state, ids, with_suggestions=True),
        threshold=threshold,
        n_no_theme=n_no_theme,
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


@router.get("/runs/{run_id}/q/{number}/excerpt", response_class=HTMLResponse)
def excerpt_page(request: Request, me: Reader, run_id: str, number: int, id: str) -> Response:
    data = data_of(request)
    run, question = data.question(run_id, number)
    state = data.state_for(run_id, question, me)
    view = data.excerpt_view(state, id)
    history = [d for d in state.decisions if d.excerpt_id == id]
    return render(
        request,
        "excerpt.html",
        me=me,
        run=run,
        number=number,
        question=question,
        state=state,
        e=view,
        history=history,
        undone=undone(state.decisions),
        by_id={d.id: d for d in state.decisions},
        here=f"/runs/{quote(run_id)}/q/{number}/excerpt?id={quote(id, safe='')}",
    )


def specificity_table(cells: list[Specificity]) -> dict[str, dict[str, object]]:
    """Per attribute: its values (columns) and, per theme (rows), the cell of each value."""
    table: dict[str, dict[str, object]] = {}
    for c in cells:
        entry = table.setdefault(c.attribute, {"values": [], "rows": {}})
        values, rows = entry["values"], entry["rows"]
        assert isinstance(values, list) and isinstance(rows, dict)
        if c.value not in values:
            values.append(c.value)
        rows.setdefault(c.theme_id, {})[c.value] = c
    return table
