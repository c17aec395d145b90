"""Logging in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from verbatim.models.accounts import LoginBrake
from verbatim.web.auth import new_csrf_token, verify_password
from verbatim.web.pages import Form, accounts_of, data_of, next_url, redirect, render, text
from verbatim.web.security import check_csrf

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=next if next.startswith("/") and not next.startswith("//") else "/")


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    check_csrf(request, form.get("csrf"), "rechargez la page de connexion")
    name = text(form, "name", "nom d'utilisateur", required=False)
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    target = next_url(form, "/")
    brake: LoginBrake = request.app.state.brake
    if brake.blocked(name):
        error = "Trop d'essais pour ce compte : réessayez dans quelques minutes."
        return render(request, "login.html", 429, next=target, name=name, error=error)
    user = data_of(request).log.user(name) if name else None
    if not verify_password(user.password_hash if user else None, password) or user is None:
        brake.failed(name)
        error = "Nom d'utilisateur ou mot de passe incorrect."
        return render(request, "login.html", 401, next=target, name=name, error=error)
    brake.succeeded(name)
    if not user.active:
        error = "Ce compte est désactivé : demandez à un administrateur de le réactiver."
        return render(request, "login.html", 403, next=target, name=name, error=error)
    _end(request)  # a new session: nothing carried over from before the login
    session_id = accounts_of(request).open_session(user.name)
    request.session.update(user=user.name, sid=session_id, csrf=new_csrf_token())
    return redirect(target)


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    check_csrf(request, form.get("csrf"))
    _end(request)
    return redirect("/login")


def _end(request: Request) -> None:
    """End the request's session on the server (a copy of the cookie opens nothing any more) and forget it."""
    session_id = request.session.get("sid")
    if isinstance(session_id, str):
        accounts_of(request).end_session(session_id)
    request.session.clear()
