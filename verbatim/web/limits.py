"""Limits that protect the server: the size of a request body, enforced while it streams in (an upload larger than
the limit is cut off at the limit, never written whole to disk)."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_LIMIT_ENV = "VERBATIM_MAX_UPLOAD_MB"
DEFAULT_UPLOAD_MB = 200
#: Any other request (forms, JSON decisions): far more than any of them needs.
DEFAULT_BODY_BYTES = 2 * 2**20
#: Paths that take a survey file.
UPLOAD_PATHS = ("/analyses", "/api/v1/analyses")


def upload_limit_bytes() -> int:
    """``VERBATIM_MAX_UPLOAD_MB`` (default 200) in bytes."""
    try:
        megabytes = float(os.environ.get(UPLOAD_LIMIT_ENV) or DEFAULT_UPLOAD_MB)
    except ValueError:
        megabytes = DEFAULT_UPLOAD_MB
    return int(megabytes * 2**20)


def too_large_message(limit: int) -> str:
    megabytes = f"{limit / 2**20:.3g}".replace(".", ",")
    return (
        f"Fichier trop volumineux : {megabytes} Mo au plus (réglage {UPLOAD_LIMIT_ENV} du serveur). "
        "Enregistrez l'export en CSV UTF-8, ou découpez-le."
    )


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


class BodyLimit:
    """Refuse a request whose body is larger than its limit: at once when ``Content-Length`` says so, else as soon
    as the bytes received pass it (the route's form parsing then stops with a 413)."""

    def __init__(self, app: ASGIApp, upload_limit: int | None = None, body_limit: int = DEFAULT_BODY_BYTES) -> None:
        self.app = app
        self.upload_limit = upload_limit if upload_limit is not None else upload_limit_bytes()
        self.body_limit = body_limit

    def limit_for(self, path: str) -> int:
        return self.upload_limit if path.startswith(UPLOAD_PATHS) else self.body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            return message

        async def answered(message: Message) -> None:
            # However the app reported the interrupted body (a 413, or a 400 when a layer wrapped the error),
            # the client is told the truth: too large.
            nonlocal started
            if exceeded:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _refuse(scope, send, limit)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, answered)
        except Exception:
            if not exceeded:
                raise
            if not started:
                await _refuse(scope, send, limit)


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    api = str(scope.get("path", "")).startswith("/api/")
    if api:
        body, kind = json.dumps({"detail": too_large_message(limit)}).encode(), b"application/json"
    else:
        body, kind = too_large_message(limit).encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
