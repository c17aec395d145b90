"""What every page of the app shares: the Jinja2 templates and their French formatting, rendering with the session's
CSRF token and flash message, the form readers, and the redirect after a POST."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.datastructures import FormData

from verbatim.models.accounts import Accounts
from verbatim.models.decisions import Role, User
from verbatim.models.form_tokens import new_form_token
from verbatim.models.review import QUEUE, DecisionKind, ReviewStatus, ThemeState
from verbatim.web.auth import new_csrf_token
from verbatim.web.data import BadInput, ReviewData

HERE = Path(__file__).resolve().parent
MAX_TEXT = 2000
MAX_LABEL = 200  # a theme's name: the forms' maxlength and the server's limit

STATUS_LABELS = {
    ReviewStatus.MACHINE: "proposé par la machine",
    ReviewStatus.QUEUED: "en file de revue",
    ReviewStatus.ACCEPTED: "accepté",
    ReviewStatus.RECODED: "recodé",
    ReviewStatus.REJECTED: "rejeté, à recoder (file de revue)",
    ReviewStatus.NO_THEME: "sans thème (confirmé)",
}
KIND_LABELS = {
    DecisionKind.ACCEPT: "Acceptation",
    DecisionKind.REJECT: "Rejet",
    DecisionKind.RECODE: "Recodage",
    DecisionKind.UNDO: "Annulation",
    DecisionKind.RENAME: "Renommage",
    DecisionKind.DESCRIBE: "Description",
    DecisionKind.MERGE: "Fusion",
    DecisionKind.CREATE_THEME: "Création de thème",
    DecisionKind.DELETE_THEME: "Suppression de thème",
    DecisionKind.RENAME_FAMILY: "Renommage de famille",
    DecisionKind.MOVE_TO_FAMILY: "Changement de famille",
}
ANALYSIS_STATUS = {
    "queued": "en attente",
    "running": "en cours",
    "completed": "terminée",
    "failed": "échec",
}
ROLE_LABELS = {Role.ADMIN: "administrateur", Role.RESEARCHER: "chercheur·e", Role.VIEWER: "lecture seule"}


# -- formatting for the templates ------------------------------------------------------------------------------------
def pct(value: float | None) -> str:
    return "–" if value is None else f"{round(100 * value)}\u202f%"


def num(value: float | None, digits: int = 2) -> str:
    return "non défini" if value is None else f"{value:.{digits}f}".replace(".", ",")


def date(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%d/%m/%Y %H:%M")


def duration(seconds: float | None) -> str:
    """« 1 min 05 s », « 42 s »."""
    if seconds is None:
        return ""
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"


def theme_name(themes: dict[int, ThemeState], theme_id: int | None) -> str:
    if theme_id is None:
        return "–"
    if theme_id == QUEUE:
        return "File de revue (aucun thème)"
    theme = themes.get(theme_id)
    return f"n° {theme_id} · {theme.label}" if theme else f"n° {theme_id}"


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters.update(pct=pct, num=num, date=date, duration=duration)
    env.globals.update(
        theme_name=theme_name,
        STATUS_LABELS=STATUS_LABELS,
        KIND_LABELS=KIND_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        ANALYSIS_STATUS=ANALYSIS_STATUS,
        QUEUE=QUEUE,
        quote=lambda s: quote(str(s), safe=""),
        once=new_form_token,
        MAX_LABEL=MAX_LABEL,
    )
    return Jinja2Templates(env=env)


# -- the app's shared state ------------------------------------------------------------------------------------------
def data_of(request: Request) -> ReviewData:
    data: ReviewData = request.app.state.data
    return data


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


_UNREAD = object()


def signed_in(request: Request) -> User | None:
    """The user of the request's session while the server holds it open (not logged out, not revoked, not
    expired, the account active); read once per request."""
    if getattr(request.state, "signed_in", _UNREAD) is _UNREAD:
        session_id = request.session.get("sid")
        max_age: timedelta = request.app.state.session_max_age
        request.state.signed_in = (
            accounts_of(request).session_user(session_id, max_age) if isinstance(session_id, str) else None
        )
    user: User | None = request.state.signed_in
    return user


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def flash(request: Request, message: str, *, conflict: bool = False) -> None:
    """A message for the next page; ``conflict``: a warning of its own, shown apart (a decision that conflicts)."""
    request.session["flash_conflict" if conflict else "flash"] = message


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """``template`` with ``context``, the CSRF token, the flash message (shown once) and the logged-in user."""
    context.update(
        csrf=csrf_token(request),
        flash=request.session.pop("flash", None),
        flash_conflict=request.session.pop("flash_conflict", None),
        me=context.get("me") or signed_in(request),
    )
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status)


# -- forms -------------------------------------------------------------------------------------------------------------
def field(form: FormData, name: str) -> str:
    """A form field's text as sent: ``""`` when it is absent, or when a file came in its place (never its repr)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def text(form: FormData, name: str, what: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    return checked(field(form, name), what, required=required, limit=limit)


def checked(value: str, what: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    """A text field as the forms and the API take it: trimmed, required unless said, ``limit`` characters at most."""
    found = value.strip()
    if required and not found:
        raise BadInput(f"Champ manquant : {what}.")
    if len(found) > limit:
        raise BadInput(f"{what.capitalize()} : {limit} caractères au plus (ici {len(found)}).")
    return found


def integer(form: FormData, name: str, what: str) -> int:
    return parse_int(text(form, name, what), what)


def parse_int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadInput(f"{what.capitalize()} : un nombre entier est attendu, pas « {value[:40]} ».") from None


def next_url(form: FormData, default: str) -> str:
    """Where to go after the action: a path of this site only (never another site)."""
    value = form.get("next")
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _form(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(_form)]
