"""Command-line options shared by several commands (``analyse`` and ``code``)."""

from __future__ import annotations

from typing import Annotated

import typer

#: Where the heavy steps run; shared by ``analyse`` and ``code``.
DaskAddressOption = Annotated[
    str | None, typer.Option("--dask-address", help="tcp://HOST:PORT of a Dask scheduler for the heavy steps")
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="local worker processes for the heavy steps (default: one per core for files of 1 MiB or more)",
    ),
]
