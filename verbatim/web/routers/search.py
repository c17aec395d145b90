"""Search and concordance over a run, and recoding what was found."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from verbatim.web.actions import decide_many
from verbatim.web.data import BadInput
from verbatim.web.once import Once
from verbatim.web.pages import Form, data_of, field, flash, redirect, render, text
from verbatim.web.search import Filters, run_search
from verbatim.web.security import Reader

router = APIRouter()
SHOWN = 500  # concordance lines on the page; the counts and the recoding cover every hit


def _filters(question: str, theme: str, attribut: str, valeur: str, statut: str) -> Filters:
    def number(value: str, what: str) -> int | None:
        if not value:
            return None
        if not value.lstrip("-").isdigit():
            raise BadInput(f"{what} : un nombre entier, pas « {value[:20]} ».")
        return int(value)

    return Filters(number(question, "question"), number(theme, "thème"), attribut or None, valeur, statut or None)


@router.get("/runs/{run_id}/search", response_class=HTMLResponse)
def search_page(
    request: Request, me: Reader, run_id: str, q: str = "", mode: str = "mots", question: str = "",
    theme: str = "", attribut: str = "", valeur: str = "", statut: str = "",
) -> Response:  # fmt: skip
    data = data_of(request)
    run = data.run(run_id)
    filters = _filters(question, theme, attribut, valeur, statut)
    found = run_search(data, run_id, me, q, mode, filters, shown=SHOWN) if q.strip() else None
    state = None
    if filters.number:  # the question's themes, for the theme filter (read by the search when it found something)
        question = run.questions[filters.number - 1]
        state = found.seen.get(question) if found else None
        state = state or data.state_for(run_id, question, me)
    attributes = data.attribute_names(run_id)
    return render(request, "search.html", SHOWN=SHOWN, me=me, run=run, found=found, f=filters, q=q, mode=mode,
                  state=state, attributes=attributes)  # fmt: skip


@router.post("/runs/{run_id}/search/recode")
def recode_found(request: Request, me: Once, form: Form, run_id: str) -> Response:
    """Recode every excerpt the search found (in one question) to one theme: one decision each, in the log."""
    data = data_of(request)
    run = data.run(run_id)
    get = {k: field(form, k) for k in ("q", "mode", "question", "theme", "attribut", "valeur", "statut")}
    filters = _filters(get["question"], get["theme"], get["attribut"], get["valeur"], get["statut"])
    if filters.number is None:
        raise BadInput("Choisissez une question : on recode vers un thème de cette question.")
    found = run_search(data, run_id, me, text(form, "q", "recherche"), get["mode"] or "mots", filters, shown=0)
    to_theme = int(text(form, "to_theme", "thème cible")) if field(form, "to_theme").isdigit() else None
    if to_theme is None:
        raise BadInput("Choisissez le thème vers lequel recoder les extraits trouvés.")
    ids = [excerpt_id for excerpt_id, theme_id in found.found if theme_id != to_theme]
    if not ids:
        flash(request, "Tous les extraits trouvés sont déjà dans ce thème : rien à recoder.")
    else:
        question = run.questions[filters.number - 1]
        outcome = decide_many(data, found.whole[question], me, ids, "recode", to_theme)
        flash(request, outcome.message)
        if outcome.conflict:
            flash(request, outcome.conflict, conflict=True)
    return redirect(f"/runs/{run_id}/search?" + urlencode(get))
