"""The ``verbatim`` command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from verbatim.errors import VerbatimError
from verbatim.flows.cli_common import (
    AttributeOption,
    DaskAddressOption,
    OutOption,
    SeedOption,
    SheetOption,
    WorkersOption,
    check_survey,
    console,
    fail,
    invalid_options,
    prefect_environment,
)
from verbatim.flows.cli_learning import register as register_learning_commands

app = typer.Typer(
    help="Verbatim: themes and coded excerpts from the open questions of a French survey.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Verbatim: themes and coded excerpts from the open questions of a French survey."""


@app.command()
def analyse(
    survey_file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-8 BOM, Windows-1252) or XLSX export")],
    id_column: Annotated[str, typer.Option("--id-column", help="column with the respondent id")],
    question: Annotated[list[str], typer.Option("--question", help="open-question column (repeat for several)")],
    attribute: AttributeOption = None,
    out: OutOption = Path("data/runs"),
    seed: SeedOption = 42,
    encoder: Annotated[str, typer.Option("--encoder", help="'use' or 'st:NAME_OR_PATH'")] = "use",
    sheet: SheetOption = None,
    keep_original: Annotated[
        bool, typer.Option("--keep-original", help="keep unmasked answers in the store (never in files)")
    ] = False,
    no_mask: Annotated[
        list[str] | None, typer.Option("--never-mask", help="term never to pseudonymise (repeatable)")
    ] = None,
    mask_name: Annotated[
        list[str] | None, typer.Option("--mask-name", help="extra name to pseudonymise (repeatable)")
    ] = None,
    dask_address: DaskAddressOption = None,
    workers: WorkersOption = None,
) -> None:
    """Analyse the open questions of SURVEY_FILE: themes and coded excerpts, in a run folder and the store."""
    from pydantic import ValidationError

    from verbatim.flows.config import AnalyseConfig, PseudonymisationConfig
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
            dask_address=dask_address,
            workers=workers,
            pseudonymisation=PseudonymisationConfig(
                keep_original=keep_original, never_mask=no_mask or [], extra_names=mask_name or []
            ),
        )
        make_encoder(config.encoder)
        table = check_survey(config)
    except ValidationError as exc:
        raise invalid_options(exc) from None
    except VerbatimError as exc:
        raise fail(str(exc)) from None

    prefect_environment()
    from verbatim.flows.analyse import analyse_survey

    console.print(f"Analysing {survey_file} ({table.n_rows} rows, {len(question)} question(s))…")
    try:
        result = analyse_survey(config)
    except VerbatimError as exc:
        raise fail(str(exc)) from None
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


@app.command()
def review(
    host: Annotated[str, typer.Option("--host", help="address to listen on (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 8000,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="default: VERBATIM_DATABASE_URL or data/verbatim.db")
    ] = None,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="send the session cookie over https only (behind a TLS proxy)")
    ] = False,
    low_score: Annotated[
        float, typer.Option("--low-score", min=0.0, max=1.0, help="machine scores below it go to the review queue")
    ] = 0.35,
) -> None:
    """Serve the review app, in which researchers review analysis runs (login required)."""
    import uvicorn

    from verbatim.review.app import create_app

    try:
        web = create_app(database_url, secure_cookies=secure_cookies or None, low_score=low_score)
    except VerbatimError as exc:
        raise fail(str(exc)) from None
    console.print(f"Review app on http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=False)


user_app = typer.Typer(help="Accounts of the review app.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="user name (used to log in)")],
    role: Annotated[str, typer.Option("--role", help="admin | researcher | viewer")] = "researcher",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input (for scripts)")
    ] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="default: VERBATIM_DATABASE_URL or data/verbatim.db")
    ] = None,
) -> None:
    """Create an account of the review app (the password is asked without being shown)."""
    import sys

    from verbatim.models.decisions import DecisionLog, Role
    from verbatim.models.store import Store
    from verbatim.review.auth import hash_password

    roles = [str(r) for r in Role]
    if role not in roles:
        raise fail(f"unknown role '{role}'; roles are: {', '.join(roles)}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        DecisionLog(Store(database_url)).add_user(name, Role(role), hash_password(password))
    except VerbatimError as exc:
        raise fail(str(exc)) from None
    console.print(f"User '{name.strip()}' ({role}) created.")


@app.command("export")
def export_command(
    run_id: Annotated[str, typer.Argument(help="the run to export (see the run folder's name or manifest)")],
    format: Annotated[str, typer.Option("--format", help="csv | xlsx | codebook | qdpx | report")],
    out: Annotated[
        Path,
        typer.Option("--out", help="file (csv, xlsx, qdpx; codebook .csv/.xlsx/.qdc) or folder (codebook, report)"),
    ],
    validated_only: Annotated[
        bool, typer.Option("--validated-only", help="only excerpts accepted or recoded by a researcher")
    ] = False,
    excel_fr: Annotated[
        bool, typer.Option("--excel-fr", help="CSV for French Excel: UTF-8 with BOM, ';', decimal comma")
    ] = False,
    question: Annotated[
        list[str] | None, typer.Option("--question", help="question to export (repeatable; default: all)")
    ] = None,
    quotes: Annotated[int, typer.Option("--quotes", help="quotes per theme in the report")] = 5,
    chart_attribute: Annotated[
        str | None, typer.Option("--chart-attribute", help="attribute of the report's charts (default: profession)")
    ] = None,
    attribution: Annotated[
        list[str] | None,
        typer.Option(
            "--attribution",
            help="attribute naming a quote's author (repeatable; default: profession, structure, region)",
        ),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="default: VERBATIM_DATABASE_URL or data/verbatim.db")
    ] = None,
) -> None:
    """Export run RUN_ID as it stands after review: coded quotes, codebook, REFI-QDA project or quote report."""
    from pydantic import ValidationError

    from verbatim.flows.export import ExportConfig
    from verbatim.formats.exports import check_output, check_questions
    from verbatim.models.store import Store
    from verbatim.models.store import database_url as resolve_url

    try:
        config = ExportConfig(
            run_id=run_id,
            format=format,  # type: ignore[arg-type]
            out=out,
            validated_only=validated_only,
            excel_fr=excel_fr,
            questions=question or [],
            quotes=quotes,
            chart_attribute=chart_attribute,
            **({"attribution": attribution} if attribution else {}),
            database_url=database_url,
        )
        check_output(config.format, config.out, config.excel_fr)
        # Check the database, the run and the questions before starting Prefect: a typo fails in a second.
        url = resolve_url(config.database_url)
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
            raise fail(f"database file {url.removeprefix('sqlite:///')} not found: give --database-url")
        store = Store(url)
        check_questions(store, config.run_id, config.questions)
        attributes = {
            a for r in [store.run(config.run_id)] for a in r.manifest.get("parameters", {}).get("attributes", [])
        }
        if config.chart_attribute and config.chart_attribute not in attributes:
            raise fail(
                f"--chart-attribute {config.chart_attribute!r} is not an attribute of run {config.run_id}; "
                f"its attributes are: {', '.join(sorted(attributes)) or 'none'}"
            )
    except ValidationError as exc:
        raise invalid_options(exc) from None
    except VerbatimError as exc:
        raise fail(str(exc)) from None

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from verbatim.flows.export import export_run

    try:
        result = export_run(config)
    except VerbatimError as exc:
        raise fail(str(exc)) from None
    out_console = Console()
    for path in result.files:
        out_console.print(str(path), highlight=False)


register_learning_commands(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
