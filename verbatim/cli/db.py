"""``verbatim db``: the store itself (moving it from one database to another)."""

from __future__ import annotations

from typing import Annotated

import typer

from verbatim.cli.common import DatabaseOption, console, reported

db_app = typer.Typer(help="The store: copy it into another database.", no_args_is_help=True)


@db_app.command("copy")
def db_copy(
    to: Annotated[
        str, typer.Option("--to", help="URL of the new, empty database (postgresql+psycopg://… or sqlite:///…)")
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Copy the whole store (runs, themes, decisions, users, sessions, analyses) into an empty database, then check
    each table's count and the decision log's checksum on both sides."""
    from verbatim.models.store import Store
    from verbatim.models.transfer import copy_store

    with reported():
        source, target = Store(database_url), Store(to)
        copied = copy_store(source, target)
    console.print(f"Copied into {target.engine_url_for_humans()}: {sum(copied.rows.values())} rows")
    for table, n in copied.rows.items():
        if n:
            console.print(f"  {table}: {n}")
    console.print(f"Decision log checksum (both sides): {copied.decisions_checksum}")
