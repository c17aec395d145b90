"""The API application: token check, JSON errors with a ``detail`` in words, the routes, and the documentation
(the OpenAPI schema at ``/api/v1/openapi.json`` and a French page listing the endpoints at ``/api/v1/docs``; the
Swagger UI would load its scripts from a CDN, which neither the Content-Security-Policy nor a closed network
allow)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from verbatim.errors import VerbatimError
from verbatim.models.accounts import Accounts
from verbatim.web.api import analyses, runs
from verbatim.web.api.security import TokenCheck
from verbatim.web.data import BadInput, KeyReused, NotFound, ReviewData
from verbatim.web.pages import make_templates

API_PREFIX = "/api/v1"
DESCRIPTION = (
    "Verbatim's HTTP API: analyses launched from a survey export, the runs, their themes and exports, and decisions "
    "on excerpts, for scripts. Every "
    "endpoint needs `Authorization: Bearer TOKEN` (a personal token: `verbatim user token NAME`, or the app's "
    "Comptes page); a token acts with its user's role. Errors are JSON objects with a `detail`."
)


def create_api(data: ReviewData, accounts: Accounts) -> FastAPI:
    """The API over ``data``'s store, to mount at :data:`API_PREFIX`."""
    api = FastAPI(
        title="Verbatim API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.data = data
    api.add_middleware(TokenCheck, accounts=accounts)
    _add_errors(api)
    api.include_router(runs.router)
    api.include_router(analyses.router)
    api.get("/docs", include_in_schema=False, response_class=HTMLResponse)(_docs_page)
    return api


def _docs_page(request: Request) -> HTMLResponse:
    """The endpoints, in French, from the OpenAPI schema (the same source as ``openapi.json``)."""
    schema: dict[str, Any] = request.app.openapi()
    endpoints = [
        {"method": method.upper(), "path": API_PREFIX + path, "summary": spec.get("summary", "")}
        for path, methods in schema.get("paths", {}).items()
        for method, spec in methods.items()
    ]
    page = make_templates().get_template("api_docs.html").render(prefix=API_PREFIX, endpoints=endpoints)
    return HTMLResponse(page)


def _problem(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


def _where(loc: object) -> str:
    """``["body", "action"]`` → ``action`` (in the body); ``["query", "as"]`` → ``as``."""
    parts = [str(p) for p in loc] if isinstance(loc, list) else [str(loc)]
    return " → ".join(parts[1:] or parts)


def _add_errors(api: FastAPI) -> None:
    @api.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> Response:
        return _problem(404, str(exc))

    @api.exception_handler(BadInput)
    async def _bad_input(_request: Request, exc: BadInput) -> Response:
        return _problem(422, str(exc))

    @api.exception_handler(KeyReused)
    async def _key_reused(_request: Request, exc: KeyReused) -> Response:
        return _problem(409, str(exc))

    @api.exception_handler(VerbatimError)
    async def _refused(_request: Request, exc: VerbatimError) -> Response:
        return _problem(409, f"La base a refusé cette action : {exc}")

    @api.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type"))}
            for e in exc.errors()
        ]
        words = "; ".join(_where(e["loc"]) + f" : {e['msg']}" for e in errors)
        return _problem(422, f"Requête invalide : {words}.", errors=errors)

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _problem(404, f"Cette adresse n'existe pas dans l'API : voir {API_PREFIX}/docs.")
        if exc.status_code == 405:
            return _problem(405, "Méthode non permise à cette adresse.", dict(exc.headers or {}))
        return _problem(exc.status_code, str(exc.detail), dict(exc.headers or {}) or None)
