"""Command-line options that ``analyse`` and ``code`` share: one definition, one help text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

AttributeOption = Annotated[
    list[str] | None, typer.Option("--attribute", help="respondent attribute column (repeatable)")
]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="XLSX sheet (default: the first)")]
OutOption = Annotated[Path, typer.Option("--out", help="folder where the run folder is created")]
SeedOption = Annotated[int, typer.Option("--seed", help="seed of every random step")]
#: Where the heavy steps run.
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
