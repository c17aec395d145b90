"""The Verbatim app (FastAPI): server-rendered French pages for the browser, and the JSON API under ``/api/v1``.

Every page needs a login; viewers read, researchers and admins decide. Each action is a decision appended to the
log (``verbatim.models.decisions.DecisionLog``) and committed before the redirect that acknowledges it. Forms are
plain POSTs protected by a per-session CSRF token, answered by a redirect (post / redirect / get). The routes live
in routers by page family (``verbatim.web.routers``); this module only assembles them.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from verbatim.errors import StoreError, VerbatimError
from verbatim.models.accounts import Accounts, LoginBrake
from verbatim.models.store import Store
from verbatim.paths import secret_file as default_secret_file
from verbatim.web.api import API_PREFIX, create_api
from verbatim.web.auth import secret_key
from verbatim.web.data import NotFound, ReviewData
from verbatim.web.limits import BodyLimit, upload_limit_bytes
from verbatim.web.once import AlreadySent, already_sent_page
from verbatim.web.pages import HERE, make_templates, redirect, render
from verbatim.web.routers import (
    accounts,
    agreement,
    analyses,
    browse,
    citations,
    decisions,
    downloads,
    login,
    search,
)
from verbatim.web.security import Forbidden, LoginRequired

SESSION_HOURS = 12
DEFAULT_LOW_SCORE = 0.35
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def app_from_environment() -> FastAPI:
    """The app of one of ``verbatim serve --workers N``'s processes, from the environment the command set:
    ``VERBATIM_DATABASE_URL``, ``VERBATIM_LOW_SCORE``, ``VERBATIM_SECURE_COOKIES``."""
    return create_app(low_score=float(os.environ.get("VERBATIM_LOW_SCORE", DEFAULT_LOW_SCORE)))


def create_app(
    database_url: str | None = None,
    *,
    secret: str | None = None,
    secret_file: Path | None = None,
    secure_cookies: bool | None = None,
    low_score: float = DEFAULT_LOW_SCORE,
) -> FastAPI:
    """The app on the store at ``database_url`` (default: ``VERBATIM_DATABASE_URL`` or
    VERBATIM_DATA_DIR/verbatim.db).

    ``secure_cookies``: send the session cookie over https only (default: ``VERBATIM_SECURE_COOKIES=1``).
    ``low_score``: machine codes scored below it go to the review queue page."""
    if secure_cookies is None:
        secure_cookies = os.environ.get("VERBATIM_SECURE_COOKIES", "") in ("1", "true", "yes")
    app = FastAPI(title="Verbatim", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_warm_up)
    store = Store(database_url)
    app.state.data = ReviewData(store)
    app.state.accounts = Accounts(store)
    app.state.session_max_age = timedelta(hours=SESSION_HOURS)
    app.state.templates = make_templates()
    app.state.brake = LoginBrake(store)
    app.state.low_score = low_score
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret or secret_key(secret_file or default_secret_file()),
        session_cookie="verbatim_session",
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, upload_limit=upload_limit_bytes())  # refused before anything reads it
    _add_error_pages(app)
    app.add_exception_handler(AlreadySent, already_sent_page)
    app.mount(API_PREFIX, create_api(app.state.data, app.state.accounts))  # first: an API call skips the pages' routes
    for module in (login, browse, decisions, agreement, accounts, downloads, analyses, citations, search):
        app.include_router(module.router)
    return app


#: Modules a few actions import on first use (a split theme's summary, a search by lemmas): they pull in spaCy,
#: seconds of imports that the app itself does not need to start.
LATER_MODULES = ("verbatim.nlp.labels", "verbatim.nlp.excerpts")


@asynccontextmanager
async def _warm_up(_app: FastAPI) -> AsyncIterator[None]:
    """Import :data:`LATER_MODULES` in the background once the worker serves, so that neither its start nor the first
    split or lemma search waits for them."""
    threading.Thread(target=lambda: [importlib.import_module(m) for m in LATER_MODULES], daemon=True).start()
    yield


class SecurityHeaders:
    """The headers every answer carries (content policy, no sniffing, no framing, no cache except static files), as
    a plain ASGI layer: starlette's ``BaseHTTPMiddleware`` cost each request about a millisecond of CPU."""

    HEADERS: ClassVar[dict[str, str]] = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cached = str(scope.get("path", "")).startswith("/static/")

        async def headed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(self.HEADERS)
                if not cached:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, headed)


def _add_error_pages(app: FastAPI) -> None:
    """Errors as French pages with the right status."""

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            return render(request, "error.html", 401, title="Connexion requise", message="Connectez-vous d'abord.")
        return redirect("/login?" + urlencode({"next": target}))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", 403, title="Action refusée", message=exc.message)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return render(request, "error.html", 404, title="Introuvable", message=str(exc))

    @app.exception_handler(VerbatimError)
    async def _bad_input(request: Request, exc: VerbatimError) -> Response:
        message = str(exc)
        if isinstance(exc, StoreError):
            message = f"La base a refusé cette action : {message}"
        return render(request, "error.html", 400, title="Action impossible", message=message)

    @app.exception_handler(RequestValidationError)
    async def _bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        where = ", ".join(str(e.get("loc", ("?",))[-1]) for e in exc.errors())
        return render(request, "error.html", 400, title="Adresse invalide", message=f"Paramètre invalide : {where}.")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return render(request, "error.html", 404, title="Introuvable", message="Cette page n'existe pas.")
        if exc.status_code == 405:
            return render(request, "error.html", 405, title="Méthode refusée", message="Action non permise ici.")
        return render(request, "error.html", exc.status_code, title="Erreur", message=str(exc.detail))
