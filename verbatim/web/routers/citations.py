"""Citations for the report team: per question and theme, the validated quotes with their attribution, filtered by
the respondents' attributes and by length, each with its excerpt id and a copy button."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from verbatim.formats.exports import DEFAULT_ATTRIBUTION, load_run
from verbatim.formats.exports.citations import citable_quotes
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
