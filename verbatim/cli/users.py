"""``verbatim user``: accounts of the app and their API tokens (the same functions as the Comptes page)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from verbatim.cli.common import DatabaseOption, console, fail, reported

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
