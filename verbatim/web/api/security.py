"""Who calls the API: the user of a personal token (``Authorization: Bearer TOKEN``), acting with that user's role.

The token is checked before anything else (routing, the body), so that a request without a valid token gets
``401`` everywhere but on the documentation (``TokenCheck``); ``api_user`` hands the checked user to the routes
and puts the scheme in the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from verbatim.models.accounts import Accounts
from verbatim.models.decisions import User

#: Paths of the API (below its prefix) open without a token: its documentation.
PUBLIC = frozenset({"/docs", "/openapi.json"})
CHALLENGE = {"WWW-Authenticate": "Bearer"}
NO_TOKEN = (
    "Jeton absent : envoyez l'en-tête « Authorization: Bearer JETON » (un jeton se crée sur la page Comptes ou "
    "avec « verbatim user token NOM »)."
)
BAD_TOKEN = "Jeton invalide, révoqué, ou compte désactivé."

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="jeton",
    description="Jeton personnel : page Comptes de l'application, ou « verbatim user token NOM ».",
)


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header (``None``: no header, or another scheme)."""
    scheme, _, token = (header or "").strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def unauthorized(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=401, headers=CHALLENGE)


class TokenCheck:
    """The API's first layer: a valid token, or ``401`` with ``WWW-Authenticate: Bearer``; the token's user goes to
    the routes in ``request.state``. A plain ASGI layer (``BaseHTTPMiddleware`` cost each request about a
    millisecond of CPU)."""

    def __init__(self, app: ASGIApp, accounts: Accounts) -> None:
        self.app, self.accounts = app, accounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _below_prefix(scope) in PUBLIC:
            await self.app(scope, receive, send)
            return
        token = bearer_token(Headers(scope=scope).get("authorization"))
        user = None if token is None else await run_in_threadpool(self.accounts.token_user, token)
        if user is None:
            await unauthorized(NO_TOKEN if token is None else BAD_TOKEN)(scope, receive, send)
            return
        scope.setdefault("state", {})["api_user"] = user
        await self.app(scope, receive, send)


def _below_prefix(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def api_user(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    """The user of the request's token (checked by :class:`TokenCheck`). Dependencies that do no I/O are
    ``async``: a plain ``def`` would cost each request a trip through the thread pool."""
    user: User | None = getattr(request.state, "api_user", None)
    if user is None:
        raise HTTPException(401, detail=NO_TOKEN, headers=CHALLENGE)
    return user


async def api_writer(user: Annotated[User, Depends(api_user)]) -> User:
    """A user allowed to decide (admins and researchers)."""
    if not user.can_decide:
        raise HTTPException(403, detail="Ce jeton appartient à un compte en lecture seule : il ne peut pas décider.")
    return user


ApiUser = Annotated[User, Depends(api_user)]
ApiWriter = Annotated[User, Depends(api_writer)]
