"""What the commands share: the options of ``analyse`` and ``code`` (one definition, one help text), error messages,
the survey check before Prefect starts, and the environment of the flows. Heavy imports stay inside functions, so
that ``verbatim --help`` answers at once."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from verbatim.errors import VerbatimError
from verbatim.paths import runs_dir

if TYPE_CHECKING:
    from pydantic import ValidationError


console = Console(stderr=True)

AttributeOption = Annotated[
    list[str] | None, typer.Option("--attribute", help="respondent attribute column (repeatable)")
]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="XLSX sheet (default: the first)")]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="folder where the run folder is created (default: VERBATIM_DATA_DIR/runs)"),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="default: VERBATIM_DATABASE_URL or VERBATIM_DATA_DIR/verbatim.db"),
]
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
        help="local worker processes for the heavy steps (default: one per core for files of 1 MiB or more) and "
        "for the themes' consensus fits (default: one per core)",
    ),
]


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error and return the exit (status 2) to raise."""
    console.print(f"[bold red]Error:[/bold red] {message}", highlight=False)
    return typer.Exit(code=2)


def invalid_options(exc: ValidationError) -> typer.Exit:
    """A configuration refused by pydantic, as one line naming each option and what is wrong with it."""
    return fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


@contextmanager
def reported() -> Iterator[None]:
    """What the user can fix ends the command with one error line and status 2: a refused option (pydantic) or a
    ``VerbatimError`` (its message says what to do). The one place where the commands turn errors into words."""
    from pydantic import ValidationError

    try:
        yield
    except ValidationError as exc:
        raise invalid_options(exc) from None
    except VerbatimError as exc:
        raise fail(str(exc)) from None


def out_folder(out: Path | None) -> Path:
    """The folder of new run folders: ``--out``, else ``VERBATIM_DATA_DIR/runs``."""
    return out if out is not None else runs_dir()


def prefect_environment() -> None:
    """Settings the flows need and the user has not set: numba's cache in the project, no telemetry."""
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(".cache") / "numba"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry: the network is closed


#: Seconds the ephemeral server may take to answer (at least; ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``).
SERVER_START_SECONDS = 120


def start_prefect_server() -> Callable[[], None]:
    """Start Prefect's temporary server now and return a function that waits until it answers (and raises what
    its start raised). The server is a child process that takes seconds to start (3 to 4 s on a 2-core machine):
    ``analyse`` starts it first, while it checks its options and the file and imports the flow's modules, instead of
    after. A command that then refuses its input ends with its error line alone: the server is stopped at exit, and
    only a server that was waited for is mentioned in the log. Nothing is started when ``PREFECT_API_URL`` names a
    server; the flow then uses that one. Call :func:`prefect_environment` first."""
    from verbatim.flows.prefect_server import start_temporary_server

    # It shares the cores with the imports: more time than Prefect's default 20 s, which a loaded machine exceeds.
    return start_temporary_server(at_least=SERVER_START_SECONDS)
