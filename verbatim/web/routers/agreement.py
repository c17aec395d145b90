"""Agreement between coders, and blind double coding: the admin draws a sample for two researchers, each codes it
without seeing the other's codes."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from verbatim.models import agreement, blind
from verbatim.models.decisions import QuestionState, Role, User
from verbatim.models.review import QUEUE, DecisionKind, ThemeState
from verbatim.web.actions import excerpt_in
from verbatim.web.data import BadInput, ExcerptView, ReviewData, active_theme
from verbatim.web.once import Once
from verbatim.web.pages import Form, data_of, flash, integer, redirect, render, text
from verbatim.web.security import Admin, Forbidden, Reader

router = APIRouter()


@router.get("/runs/{run_id}/agreement", response_class=HTMLResponse)
def agreement_page(request: Request, me: Reader, run_id: str) -> Response:
    data = data_of(request)
    run = data.run(run_id)
    pairs = data.double_coding_pairs(run_id)
    sections = []
    for number, question in enumerate(run.questions, start=1):
        whole = data.state(run_id, question)
        state = data.state_for(run_id, question, me, whole)
        pair_rows = []
        for pair in (p for p in pairs if p.question == question):
            codes = blind.blind_codes(whole, pair)
            closed = blind.is_closed(whole, pair)
            # While the sample is open, only the administrators who do not code it see who codes it and how far.
            shown = "all" if closed or (me.role == Role.ADMIN and not pair.has(me.name)) else "others"
            if not closed and pair.has(me.name):
                shown = "mine"
            done = {c: len(v) for c, v in codes.items()}
            pair_rows.append(
                {"pair": pair, "done": done, "alpha": agreement.krippendorff_alpha(codes), "closed": closed,
                 "shown": shown}
            )  # fmt: skip
        sections.append(
            {
                "number": number,
                "question": question,
                "state": state,
                "progress": agreement.progress(state),
                "coders": agreement.machine_vs_researchers(state),
                "themes": agreement.acceptance_by_theme(state),
                "alpha": agreement.krippendorff_alpha(agreement.researcher_codes(state)),
                "pairs": pair_rows,
            }
        )
    coders = [u for u in data.log.users() if u.can_decide]
    return render(request, "agreement.html", me=me, run=run, sections=sections, coders=coders)


def _guide(data: ReviewData, state: QuestionState, hidden: set[str]) -> list[tuple[ThemeState, list[ExcerptView]]]:
    """Each active theme with two quotes for blind coders, none of them from the sample (``hidden``): its
    representative excerpts still in it, else its first excerpts."""
    rows = data.theme_rows(state.run_id, state.question)
    picks: dict[int, list[str]] = {}
    for theme in state.active_themes():
        ids = [e for e in state.excerpts_of(theme.theme_id) if e not in hidden]
        row = rows.get(theme.theme_id)
        reps = [e for e in (row.representative_excerpt_ids if row else []) if e in set(ids)]
        picks[theme.theme_id] = (reps or ids)[:2]
    views = {v.excerpt_id: v for v in data.views(state, [e for ids in picks.values() for e in ids])}
    return [(t, [views[e] for e in picks[t.theme_id] if e in views]) for t in state.active_themes()]


@router.get("/runs/{run_id}/double-coding", response_class=HTMLResponse)
def double_coding_page(request: Request, me: Reader, run_id: str) -> Response:
    return _double_coding(request, me, run_id)


def _double_coding(
    request: Request, me: User, run_id: str, status: int = 200, error: tuple[str, str] | None = None,
    chosen: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    """The blind coder's page. ``error``: (excerpt id, message) of a form refused; ``chosen``: what was picked."""
    data = data_of(request)
    run = data.run(run_id)
    mine = [p for p in data.double_coding_pairs(run_id) if p.has(me.name)]
    sections = []
    for pair in mine:
        number = run.questions.index(pair.question) + 1 if pair.question in run.questions else 0
        if not number:
            continue
        whole = data.state(run_id, pair.question)
        state = data.state_for(run_id, pair.question, me, whole)
        own = blind.blind_codes(whole, pair)[me.name]
        closed = blind.is_closed(whole, pair)
        sections.append(
            {"number": number, "pair": pair, "other": pair.other(me.name) if closed else None, "closed": closed,
             "state": state, "views": data.views(state, pair.excerpt_ids), "own": own,
             "guide": _guide(data, state, set(pair.excerpt_ids))}
        )  # fmt: skip
    return render(
        request, "double_coding.html", status, me=me, run=run, sections=sections, error=error, chosen=chosen or {}
    )


@router.get("/runs/{run_id}/adjudication", response_class=HTMLResponse)
def adjudication_page(request: Request, me: Reader, run_id: str) -> Response:
    """An administrator settles the disagreements of the closed samples, each with a normal decision."""
    if me.role != Role.ADMIN:
        raise Forbidden("L'arbitrage du double codage est réservé aux administrateurs.")
    data = data_of(request)
    run = data.run(run_id)
    sections = []
    for pair in data.double_coding_pairs(run_id):
        if pair.question not in run.questions:
            continue
        state = data.state(run_id, pair.question)
        if not blind.is_closed(state, pair):
            done = blind.blind_codes(state, pair)
            sections.append({"pair": pair, "closed": False, "done": {c: len(v) for c, v in done.items()}})
            continue
        rows, same = blind.adjudication(state, pair)
        views = {v.excerpt_id: v for v in data.views(state, [r.excerpt_id for r in rows])}
        sections.append(
            {"pair": pair, "closed": True, "number": run.questions.index(pair.question) + 1, "state": state,
             "rows": [(r, views[r.excerpt_id]) for r in rows if r.excerpt_id in views], "same": same}
        )  # fmt: skip
    here = f"/runs/{quote(run_id)}/adjudication"
    return render(request, "adjudication.html", me=me, run=run, sections=sections, here=here)


@router.post("/runs/{run_id}/double-coding/draw")
def draw(request: Request, me: Admin, _once: Once, form: Form, run_id: str) -> Response:
    data = data_of(request)
    run = data.run(run_id)
    number = integer(form, "question", "question")
    if not 1 <= number <= len(run.questions):
        raise BadInput("Question inconnue.")
    drawn = data.draw_double_coding(
        run_id,
        run.questions[number - 1],
        integer(form, "n", "nombre d'extraits"),
        text(form, "coder_a", "premier codeur"),
        text(form, "coder_b", "second codeur"),
        integer(form, "seed", "graine"),
    )
    flash(request, f"{len(drawn)} extrait(s) tiré(s) pour le double codage.")
    return redirect(f"/runs/{quote(run_id)}/agreement")


@router.post("/runs/{run_id}/double-coding/code")
def double_code(request: Request, me: Once, form: Form, run_id: str) -> Response:
    """One blind code: logged as a rejection for no theme, an acceptance for the excerpt's current theme, a recode
    otherwise, flagged double coding (it does not change the excerpt's code)."""
    data = data_of(request)
    run = data.run(run_id)
    number = integer(form, "question", "question")
    if not 1 <= number <= len(run.questions):
        raise BadInput("Question inconnue.")
    question = run.questions[number - 1]
    excerpt_id = text(form, "excerpt_id", "extrait")
    pair = next(
        (p for p in data.double_coding_pairs(run_id) if p.question == question and excerpt_id in p.excerpt_ids), None
    )
    if pair is None or not pair.has(me.name):
        raise Forbidden("Cet extrait ne fait pas partie de votre échantillon de double codage.")
    state = data.state(run_id, question)
    excerpt_in(state, excerpt_id)
    if blind.is_closed(state, pair):
        raise Forbidden("Cet échantillon est clos : les deux codages sont faits, ils ne changent plus.")
    picked = form.get("to_theme")
    try:
        theme = integer(form, "to_theme", "thème")
        if theme != QUEUE:
            active_theme(state, theme)
    except BadInput as error:  # the page again, with the message beside the excerpt and the choice kept
        chosen = {excerpt_id: picked} if isinstance(picked, str) else {}
        return _double_coding(request, me, run_id, 400, (excerpt_id, str(error)), chosen)
    current = state.codes[excerpt_id].theme_id
    kind = blind.blind_kind(theme, current)
    data.log.decide(
        run_id, question, kind, me.name, excerpt_id=excerpt_id, theme_id=current,
        to_theme_id=theme if kind == DecisionKind.RECODE else None, double_coding=True,
    )  # fmt: skip
    flash(request, f"Extrait {excerpt_id} codé.")
    return redirect(f"/runs/{quote(run_id)}/double-coding#e-{quote(excerpt_id, safe='')}")
