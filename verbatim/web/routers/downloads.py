"""Downloads of a run's exports from the browser (any logged-in user): the same function as the API's exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from verbatim.web.downloads import export_file, send
from verbatim.web.pages import data_of
from verbatim.web.security import Reader

router = APIRouter()


@router.get("/runs/{run_id}/downloads/{fmt}")
def download(
    request: Request,
    me: Reader,
    run_id: str,
    fmt: str,
    as_: Annotated[str | None, Query(alias="as")] = None,
    sources: str | None = None,
) -> Response:
    """``fmt``: csv, xlsx, codebook, qdpx, report, respondents; ``as``: a variant (see ``downloads.VARIANTS``);
    ``sources`` (qdpx): respondent or question."""
    return send(export_file(data_of(request), run_id, fmt, as_, sources=sources))
