"""The Comptes page (administrators): accounts, roles, passwords, deactivation, API tokens. The same functions as
``verbatim user`` (:mod:`verbatim.models.accounts`); each change that touches who may do what ends the account's
sessions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from verbatim.models.decisions import Role, User
from verbatim.web.auth import MIN_PASSWORD_LENGTH, hash_password
from verbatim.web.data import BadInput, NotFound
from verbatim.web.pages import ROLE_LABELS, Form, accounts_of, data_of, flash, integer, redirect, render, text
from verbatim.web.security import Admin, AdminReader, Forbidden

router = APIRouter()


def _page(request: Request, me: User, status: int = 200, **extra: object) -> Response:
    accounts = accounts_of(request)
    return render(
        request,
        "accounts.html",
        status,
        me=me,
        users=accounts.accounts(),
        tokens=accounts.tokens(),
        roles=list(Role),
        min_password=MIN_PASSWORD_LENGTH,
        **extra,
    )


def _account(request: Request, form: FormData) -> User:
    name = text(form, "name", "compte")
    user = accounts_of(request).account(name)
    if user is None:
        raise NotFound(f"Le compte « {name[:200]} » n'existe pas.")
    return user


def _role(form: FormData) -> Role:
    value = text(form, "role", "rôle")
    try:
        return Role(value)
    except ValueError:
        raise BadInput(f"Rôle inconnu : « {value[:40]} » (admin, researcher ou viewer).") from None


def _password(form: FormData) -> str:
    password = form.get("password")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise BadInput(f"Le mot de passe doit avoir au moins {MIN_PASSWORD_LENGTH} caractères.")
    if len(password) > 1000:
        raise BadInput("Le mot de passe : 1 000 caractères au plus.")
    return password


def _not_myself(me: User, user: User, what: str) -> None:
    if user.name == me.name:
        raise Forbidden(f"Vous ne pouvez pas {what} votre propre compte : demandez-le à un autre administrateur.")


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, me: AdminReader) -> Response:
    return _page(request, me)


@router.post("/accounts/create")
def create_account(request: Request, me: Admin, form: Form) -> Response:
    name = text(form, "name", "nom du compte")
    if len(name) > 200:
        raise BadInput("Nom du compte : 200 caractères au plus.")
    role = _role(form)
    password = _password(form)
    if accounts_of(request).account(name) is not None:
        raise BadInput(f"Le compte « {name} » existe déjà.")
    data_of(request).log.add_user(name, role, hash_password(password))
    flash(request, f"Compte « {name} » créé ({ROLE_LABELS[role]}).")
    return redirect("/accounts")


@router.post("/accounts/role")
def set_role(request: Request, me: Admin, form: Form) -> Response:
    user, role = _account(request, form), _role(form)
    if user.name == me.name and role != Role.ADMIN:
        _not_myself(me, user, "retirer le rôle d'administrateur de")
    accounts_of(request).set_role(user.name, role)
    flash(request, f"« {user.name} » est maintenant {ROLE_LABELS[role]} ; ses sessions sont fermées.")
    return redirect("/accounts")


@router.post("/accounts/password")
def reset_password(request: Request, me: Admin, form: Form) -> Response:
    user, password = _account(request, form), _password(form)
    mine = request.session.get("sid") if user.name == me.name else None
    accounts_of(request).set_password(
        user.name, hash_password(password), keep_session=mine if isinstance(mine, str) else None
    )
    flash(request, f"Mot de passe de « {user.name} » changé ; ses autres sessions sont fermées.")
    return redirect("/accounts")


@router.post("/accounts/deactivate")
def deactivate(request: Request, me: Admin, form: Form) -> Response:
    user = _account(request, form)
    _not_myself(me, user, "désactiver")
    accounts_of(request).deactivate(user.name)
    flash(request, f"Compte « {user.name} » désactivé : ses sessions sont fermées et ses jetons ne marchent plus.")
    return redirect("/accounts")


@router.post("/accounts/reactivate")
def reactivate(request: Request, me: Admin, form: Form) -> Response:
    user = _account(request, form)
    accounts_of(request).reactivate(user.name)
    flash(request, f"Compte « {user.name} » réactivé.")
    return redirect("/accounts")


@router.post("/accounts/tokens", response_class=HTMLResponse)
def create_token(request: Request, me: Admin, form: Form) -> Response:
    """The new token is shown on this answer only (never stored, never put in the session)."""
    user = _account(request, form)
    if not user.active:
        raise BadInput(f"Le compte « {user.name} » est désactivé : réactivez-le avant de lui créer un jeton.")
    info, token = accounts_of(request).create_token(user.name, text(form, "label", "libellé", required=False))
    return _page(request, me, 201, new_token=token, new_token_info=info)


@router.post("/accounts/tokens/revoke")
def revoke_token(request: Request, me: Admin, form: Form) -> Response:
    token_id = integer(form, "token_id", "jeton")
    if not any(t.id == token_id for t in accounts_of(request).tokens()):
        raise NotFound(f"Le jeton n° {token_id} n'existe pas.")
    info = accounts_of(request).revoke_token(token_id)
    flash(request, f"Jeton n° {info.id} de « {info.user_name} » révoqué.")
    return redirect("/accounts")
