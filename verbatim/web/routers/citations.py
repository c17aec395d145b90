"""Citations for the report team: per question and theme, the validated quotes with their attribution, filtered by
the respondents' attributes and by length, each with its excerpt id and a copy button."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from verbatim.formats.exports import DEFAULT_ATTRIBUTION, load_run
from verbatim.formats.exports.citations import citable_quotes
from verbatim.formats.exports.specificities import group_profile
from verbatim.models.specificities import in_words
from verbatim.web.data import BadInput
from verbatim.web.pages import data_of, render
from verbatim.web.security import Reader

router = APIRouter()
MAX_SHOWN = 200  # quotes shown per theme: a page a person reads, not a dump (the exports have them all)


@router.get("/runs/{run_id}/citations", response_class=HTMLResponse)
def citations_page(
    request: Request,
    me: Reader,
    run_id: str,
    q: int = 1,
    theme: int | None = None,
    min: int | None = None,
    max: int | None = None,
    tout: bool = False,
) -> Response:
    data = data_of(request)
    info, question = data.question(run_id, q)
    view = load_run(data.store, run_id, [question])
    qv = view.question(question)
    where = {a: v for a in view.attributes if (v := request.query_params.get(f"attr_{a}", "").strip())}
    if min is not None and max is not None and min > max:
        raise BadInput("Longueur : le minimum dépasse le maximum.")
    themes = [t for t in qv.active_themes() if theme is None or t.state.theme_id == theme]
    columns = [c for c in DEFAULT_ATTRIBUTION if c in view.attributes] or view.attributes[:3]
    sections = []
    for t in themes:
        quotes = citable_quotes(
            view, qv, t.state.theme_id, where=where, min_chars=min or 0, max_chars=max, validated_only=not tout,
            columns=columns,
        )  # fmt: skip
        sections.append({"theme": t, "quotes": quotes[:MAX_SHOWN], "n": len(quotes)})
    values = {a: sorted({str(r.get(a, "")) for r in view.respondents.values()} - {""}) for a in view.attributes}
    return render(
        request, "citations.html", me=me, run=info, number=q, question=question, all_themes=qv.active_themes(),
        sections=sections, values=values, where=where, theme=theme, min=min, max=max, tout=tout,
    )  # fmt: skip


@router.get("/runs/{run_id}/groups", response_class=HTMLResponse)
def group_page(request: Request, me: Reader, run_id: str, attribut: str = "", valeur: str = "") -> Response:
    """One group of respondents (an attribute and its value): the themes it over-represents in each question, with a
    quote of that group for each."""
    data = data_of(request)
    info = data.run(run_id)
    view = load_run(data.store, run_id)
    values = {a: sorted({str(r.get(a, "")) for r in view.respondents.values()} - {""}) for a in view.attributes}
    if attribut and attribut not in values:
        raise BadInput(f"Attribut inconnu : « {attribut[:60]} » (attributs : {', '.join(view.attributes)}).")
    if attribut and valeur and valeur not in values[attribut]:
        raise BadInput(f"« {valeur[:60]} » n'est pas une valeur de « {attribut} » dans cette analyse.")
    profile = group_profile(view, attribut, valeur) if attribut and valeur else []
    return render(request, "group.html", me=me, run=info, values=values, attribut=attribut, valeur=valeur,
                  profile=profile, in_words=in_words)  # fmt: skip
