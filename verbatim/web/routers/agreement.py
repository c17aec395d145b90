"""Agreement between coders, and blind double coding: the admin draws a sample for two researchers, each codes it
without seeing the other's codes."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from verbatim.models import agreement
from verbatim.models.review import QUEUE, DecisionKind
from verbatim.web.actions import excerpt_in
from verbatim.web.data import BadInput, active_theme
from verbatim.web.pages import Form, data_of, flash, integer, redirect, render, text
from verbatim.web.security import Admin, Forbidden, Reader, Writer

router = APIRouter()


@router.get("/runs/{run_id}/agreement", response_class=HTMLResponse)
def agreement_page(request: Request, me: Reader, run_id: str) -> Response:
    data = data_of(request)
    run = data.run(run_id)
    pairs = data.double_coding_pairs(run_id)
    sections = []
    for number, question in enumerate(run.questions, start=1):
        state = data.state(run_id, question)
        blind = agreement.researcher_codes(state, double_coding=True)
        pair_rows = []
        for pair in (p for p in pairs if p.question == question):
            units = set(pair.excerpt_ids)
            codes = {c: {e: t for e, t in blind.get(c, {}).items() if e in units} for c in (pair.coder_a, pair.coder_b)}
            done = {c: len(v) for c, v in codes.items()}
            pair_rows.append((pair, done, agreement.krippendorff_alpha(codes)))
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


@router.get("/runs/{run_id}/double-coding", response_class=HTMLResponse)
def double_coding_page(request: Request, me: Reader, run_id: str) -> Response:
    data = data_of(request)
    run = data.run(run_id)
    mine = [p for p in data.double_coding_pairs(run_id) if me.name in (p.coder_a, p.coder_b)]
    sections = []
    for pair in mine:
        number = run.questions.index(pair.question) + 1 if pair.question in run.questions else 0
        if not number:
            continue
        state = data.state(run_id, pair.question)
        own = agreement.researcher_codes(state, double_coding=True).get(me.name, {})
        views = data.views(state, pair.excerpt_ids)
        other = pair.coder_b if me.name == pair.coder_a else pair.coder_a
        sections.append((number, pair, other, state, views, own))
    return render(request, "double_coding.html", me=me, run=run, sections=sections)


@router.post("/runs/{run_id}/double-coding/draw")
def draw(request: Request, me: Admin, form: Form, run_id: str) -> Response:
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
def double_code(request: Request, me: Writer, form: Form, run_id: str) -> Response:
    data = data_of(request)
    run = data.run(run_id)
    number = integer(form, "question", "question")
    if not 1 <= number <= len(run.questions):
        raise BadInput("Question inconnue.")
    question = run.questions[number - 1]
    excerpt_id = text(form, "excerpt_id", "extrait")
    if not data.double_coding_for(run_id, question, excerpt_id, me.name):
        raise Forbidden("Cet extrait ne fait pas partie de votre échantillon de double codage.")
    state = data.state(run_id, question)
    excerpt_in(state, excerpt_id)
    theme = integer(form, "to_theme", "thème")
    current = state.codes[excerpt_id].theme_id
    if theme == QUEUE:
        data.log.decide(
            run_id, question, DecisionKind.REJECT, me.name, excerpt_id=excerpt_id, theme_id=current,
            double_coding=True,
        )  # fmt: skip
    else:
        active_theme(state, theme)
        data.log.decide(
            run_id, question, DecisionKind.RECODE, me.name, excerpt_id=excerpt_id, theme_id=current,
            to_theme_id=theme, double_coding=True,
        )  # fmt: skip
    flash(request, f"Extrait {excerpt_id} codé.")
    return redirect(f"/runs/{quote(run_id)}/double-coding#e-{quote(excerpt_id, safe='')}")
