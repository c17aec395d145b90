"""``verbatim db``: the store itself: back it up, restore it, move it from one database to another."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from verbatim.cli.common import DatabaseOption, console, reported

if TYPE_CHECKING:
    from verbatim.models.transfer import Copied

db_app = typer.Typer(help="The store: back it up, restore it, copy it into another database.", no_args_is_help=True)


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
    _report(f"Copied into {target.engine_url_for_humans()}", copied)


@db_app.command("backup")
def db_backup(
    out: Annotated[Path, typer.Option("--out", help="the backup file to write (a new file)")],
    portable: Annotated[
        bool,
        typer.Option("--portable", help="PostgreSQL: write the portable dump (a SQLite file), not pg_dump's format"),
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """A consistent backup of the store while the server runs. SQLite: its online backup. PostgreSQL: pg_dump's
    custom format when pg_dump is on the PATH (restored with pg_restore, into PostgreSQL), else the portable dump,
    a SQLite file read in one snapshot, which `verbatim db restore` reads into either backend."""
    from verbatim.models.store import Store
    from verbatim.models.transfer import backup_store, is_pg_dump

    with reported():
        copied = backup_store(Store(database_url), out, portable=portable)
    kind = "pg_dump, custom format" if is_pg_dump(out) else "SQLite file"
    _report(f"Backup written to {out} ({kind})", copied)


@db_app.command("restore")
def db_restore(
    backup: Annotated[Path, typer.Argument(help="a file written by `verbatim db backup` (SQLite file or pg_dump)")],
    database_url: DatabaseOption = None,
) -> None:
    """Restore a backup into an empty database (the one of --database-url / VERBATIM_DATABASE_URL)."""
    from verbatim.models.store import Store
    from verbatim.models.transfer import restore_store

    with reported():
        target = Store(database_url)
        copied = restore_store(backup, target)
    _report(f"Restored into {target.engine_url_for_humans()}", copied)


def _report(what: str, copied: Copied) -> None:
    console.print(f"{what}: {sum(copied.rows.values())} rows")
    for table, n in copied.rows.items():
        if n:
            console.print(f"  {table}: {n}")
    console.print(f"Decision log checksum (both sides): {copied.decisions_checksum}")
