"""Who is asking: the logged-in user of a page (session cookie), allowed or not to act (CSRF token, role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from verbatim.models.decisions import Role, User
from verbatim.web.auth import csrf_matches
from verbatim.web.pages import Form, signed_in


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def current_user(request: Request) -> User:
    """The logged-in user (a dependency of every page); no session, a session ended on the server (logout, a new
    password or role, deactivation) or expired, or an account gone: log in first."""
    user = signed_in(request)
    if user is None:
        raise LoginRequired
    return user


def check_csrf(request: Request, given: object, what: str = "rechargez la page puis recommencez") -> None:
    if not csrf_matches(request.session.get("csrf"), given):
        raise Forbidden(f"Jeton de sécurité absent ou périmé : {what}.")


def writer(request: Request, form: Form) -> User:
    """The logged-in user, allowed to decide, sending the session's CSRF token (a dependency of every action)."""
    user = current_user(request)
    check_csrf(request, form.get("csrf"))
    if not user.can_decide:
        raise Forbidden("Votre compte est en lecture seule : vous ne pouvez pas prendre de décision.")
    return user


def admin(request: Request, form: Form) -> User:
    """A writer who is an administrator."""
    user = writer(request, form)
    if user.role != Role.ADMIN:
        raise Forbidden("Cette action est réservée aux administrateurs.")
    return user


def admin_reader(request: Request) -> User:
    """The logged-in user, an administrator (the accounts page)."""
    user = current_user(request)
    if user.role != Role.ADMIN:
        raise Forbidden("Cette page est réservée aux administrateurs.")
    return user


Reader = Annotated[User, Depends(current_user)]
Writer = Annotated[User, Depends(writer)]
Admin = Annotated[User, Depends(admin)]
AdminReader = Annotated[User, Depends(admin_reader)]
