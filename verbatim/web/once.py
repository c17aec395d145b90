"""One click, one effect: the one-time token of the forms that change something (``verbatim.models.form_tokens``).

Each such form carries ``<input type="hidden" name="once" value="{{ once() }}">``. An action that receives a token
already used answers with a redirect and a flash message saying that the form was already sent, and does nothing;
an action that fails gives its token back, so that the corrected form can be sent again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import Response

from verbatim.models.decisions import User
from verbatim.models.form_tokens import MAX_LENGTH, FormTokens
from verbatim.web.data import BadInput
from verbatim.web.pages import Form, data_of, flash, next_url, redirect
from verbatim.web.security import writer

FIELD = "once"
ALREADY_SENT = (
    "Ce formulaire avait déjà été envoyé (double clic ?) : la première demande a été prise en compte, "
    "celle-ci n'a rien changé."
)


class AlreadySent(Exception):
    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


def _came_from(request: Request) -> str:
    """The page the form was on (same site only), else the home page."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return path if path.startswith("/") and not path.startswith("//") else "/"


def single_use(request: Request, me: Annotated[User, Depends(writer)], form: Form) -> Iterator[User]:
    """The writer of an action, after using up the form's one-time token (forms without one act every time)."""
    token = form.get(FIELD)
    if not isinstance(token, str) or not token:
        yield me
        return
    if len(token) > MAX_LENGTH:
        raise BadInput("Jeton de formulaire invalide : rechargez la page.")
    tokens = FormTokens(data_of(request).store)
    if not tokens.use(token, me.name):
        raise AlreadySent(next_url(form, _came_from(request)))
    try:
        yield me
    except Exception:
        tokens.release(token)
        raise


async def already_sent_page(request: Request, exc: Exception) -> Response:
    flash(request, ALREADY_SENT)
    return redirect(exc.back if isinstance(exc, AlreadySent) else "/")


Once = Annotated[User, Depends(single_use)]
