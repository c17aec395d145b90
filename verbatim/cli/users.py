"""``verbatim user``: accounts of the app and their API tokens (the same functions as the Comptes page)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from verbatim.cli.common import DatabaseOption, console, fail, reported

if TYPE_CHECKING:
    from verbatim.models.accounts import Accounts

user_app = typer.Typer(help="Accounts of the app and their API tokens.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="user name (used to log in)")],
    role: Annotated[str, typer.Option("--role", help="admin | researcher | viewer")] = "researcher",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input (for scripts)")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create an account (the password is asked without being shown)."""
    from verbatim.models.decisions import DecisionLog, Role
    from verbatim.models.store import Store
    from verbatim.web.auth import hash_password

    roles = [str(r) for r in Role]
    if role not in roles:
        raise fail(f"unknown role '{role}'; roles are: {', '.join(roles)}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with reported():
        DecisionLog(Store(database_url)).add_user(name, Role(role), hash_password(password))
    console.print(f"User '{name.strip()}' ({role}) created.")


def _accounts(database_url: str | None) -> Accounts:
    from verbatim.models.accounts import Accounts
    from verbatim.models.store import Store

    return Accounts(Store(database_url))


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("list")
def user_list(database_url: DatabaseOption = None) -> None:
    """The accounts, with their role and whether they are active."""
    with reported():
        users = _accounts(database_url).accounts()
    for u in users:
        typer.echo(f"{u.name}\t{u.role}\t{'active' if u.active else 'deactivated'}")


@user_app.command("password")
def user_password(
    name: Annotated[str, typer.Argument(help="user name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input (for scripts)")
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Set a new password (the account's sessions end)."""
    from verbatim.web.auth import hash_password

    password = _read_password(password_stdin)
    with reported():
        _accounts(database_url).set_password(name, hash_password(password))
    console.print(f"Password of '{name}' changed; their sessions are closed.")


@user_app.command("role")
def user_role(
    name: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[str, typer.Argument(help="admin | researcher | viewer")],
    database_url: DatabaseOption = None,
) -> None:
    """Give an account another role (its sessions end; its tokens act with the new role)."""
    from verbatim.models.decisions import Role

    roles = [str(r) for r in Role]
    if role not in roles:
        raise fail(f"unknown role '{role}'; roles are: {', '.join(roles)}")
    with reported():
        _accounts(database_url).set_role(name, Role(role))
    console.print(f"'{name}' is now {role}; their sessions are closed.")


@user_app.command("deactivate")
def user_deactivate(
    name: Annotated[str, typer.Argument(help="user name")], database_url: DatabaseOption = None
) -> None:
    """Stop an account: no login, its sessions end, its tokens stop working (its decisions stay)."""
    with reported():
        _accounts(database_url).deactivate(name)
    console.print(f"'{name}' deactivated.")


@user_app.command("reactivate")
def user_reactivate(
    name: Annotated[str, typer.Argument(help="user name")], database_url: DatabaseOption = None
) -> None:
    """Let a deactivated account log in again."""
    with reported():
        _accounts(database_url).reactivate(name)
    console.print(f"'{name}' reactivated.")


@user_app.command("token")
def user_token(
    name: Annotated[str, typer.Argument(help="user name: the token acts with this account's role")],
    label: Annotated[str, typer.Option("--label", help="what the token is for (shown in lists)")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Print a new personal API token on standard output (only its hash is stored: keep it now)."""
    with reported():
        info, token = _accounts(database_url).create_token(name, label)
    console.print(f"Token {info.id} for '{name}' (use it as 'Authorization: Bearer TOKEN'):")
    typer.echo(token)


@user_app.command("tokens")
def user_tokens(name: Annotated[str, typer.Argument(help="user name")], database_url: DatabaseOption = None) -> None:
    """The API tokens of an account (never the tokens themselves): id, state, created, last used, label."""
    with reported():
        tokens = _accounts(database_url).tokens(name)
    for t in tokens:
        state = "active" if t.active else f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "revoked"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        typer.echo(f"{t.id}\t{state}\t{t.created_at:%Y-%m-%d %H:%M}\t{used}\t{t.label}")


@user_app.command("revoke-token")
def user_revoke_token(
    token_id: Annotated[int, typer.Argument(help="the token's number (see `verbatim user tokens NAME`)")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke an API token for good."""
    with reported():
        info = _accounts(database_url).revoke_token(token_id)
    console.print(f"Token {info.id} of '{info.user_name}' revoked.")
