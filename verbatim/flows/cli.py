"""The ``verbatim`` command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from verbatim.errors import VerbatimError

app = typer.Typer(
    help="Verbatim: themes and coded excerpts from the open questions of a French survey.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Verbatim: themes and coded excerpts from the open questions of a French survey."""


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]Error:[/bold red] {message}", highlight=False)
    return typer.Exit(code=2)


@app.command()
def analyse(
    survey_file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-8 BOM, Windows-1252) or XLSX export")],
    id_column: Annotated[str, typer.Option("--id-column", help="column with the respondent id")],
    question: Annotated[list[str], typer.Option("--question", help="open-question column (repeat for several)")],
    attribute: Annotated[
        list[str] | None, typer.Option("--attribute", help="respondent attribute column (repeatable)")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="folder where the run folder is created")] = Path("data/runs"),
    seed: Annotated[int, typer.Option("--seed", help="seed of every random step")] = 42,
    encoder: Annotated[str, typer.Option("--encoder", help="'use' or 'st:NAME_OR_PATH'")] = "use",
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet (default: the first)")] = None,
    keep_original: Annotated[
        bool, typer.Option("--keep-original", help="keep unmasked answers in the store (never in files)")
    ] = False,
    no_mask: Annotated[
        list[str] | None, typer.Option("--never-mask", help="term never to pseudonymise (repeatable)")
    ] = None,
    mask_name: Annotated[
        list[str] | None, typer.Option("--mask-name", help="extra name to pseudonymise (repeatable)")
    ] = None,
) -> None:
    """Analyse the open questions of SURVEY_FILE: themes and coded excerpts, in a run folder and the store."""
    from pydantic import ValidationError

    from verbatim.flows.config import AnalyseConfig, PseudonymisationConfig
    from verbatim.formats.survey import build_answers, read_survey, select_columns
    from verbatim.nlp.encoders import make_encoder

    try:
        config = AnalyseConfig(
            survey_file=survey_file,
            id_column=id_column,
            questions=question,
            attributes=attribute or [],
            out_dir=out,
            seed=seed,
            encoder=encoder,
            sheet=sheet,
            pseudonymisation=PseudonymisationConfig(
                keep_original=keep_original, never_mask=no_mask or [], extra_names=mask_name or []
            ),
        )
        make_encoder(config.encoder)
        # Check the file and the columns before starting Prefect, so that a typo fails in a second, not in 20.
        table = read_survey(config.survey_file, sheet=config.sheet)
        select_columns(table, config.id_column, config.questions, config.attributes)
        build_answers(table, config.id_column, config.questions, config.attributes)
    except ValidationError as exc:
        raise _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    except VerbatimError as exc:
        raise _fail(str(exc)) from None

    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(".cache") / "numba"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry: the network is closed
    from verbatim.flows.analyse import analyse_survey

    console.print(f"Analysing {survey_file} ({table.n_rows} rows, {len(question)} question(s))…")
    try:
        result = analyse_survey(config)
    except VerbatimError as exc:
        raise _fail(str(exc)) from None
    _print_summary(result.manifest, result.folder)


def _print_summary(manifest: dict[str, object], folder: Path) -> None:
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    table = Table(title=f"Run {manifest['run_id']}")
    for column in ("question", "rows", "coded", "queued", "rejected", "excerpts", "themes"):
        table.add_column(column, justify="left" if column == "question" else "right")
    for question, c in counts.items():
        table.add_row(question, *(str(c[k]) for k in ("rows", "coded", "queued", "rejected", "excerpts", "themes")))
    out = Console()
    out.print(table)
    out.print(f"Results: {folder}/ (coded_excerpts.csv, themes.csv, answers.csv, manifest.json)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
