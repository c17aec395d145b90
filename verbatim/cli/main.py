"""The ``verbatim`` command line: ``analyse``, ``serve`` (alias ``review``), ``user``, ``export``, and the learning
commands of :mod:`verbatim.cli.learning`. Each command parses its options and calls a flow, the store or the web app;
the logic lives below."""

from __future__ import annotations

import atexit
import logging
import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from verbatim.cli.common import (
    AttributeOption,
    DaskAddressOption,
    DatabaseOption,
    OutOption,
    SeedOption,
    SheetOption,
    WorkersOption,
    console,
    fail,
    out_folder,
    prefect_environment,
    reported,
    start_prefect_server,
)
from verbatim.cli.db import db_app
from verbatim.cli.learning import register as register_learning_commands
from verbatim.cli.users import user_app

app = typer.Typer(
    help="Verbatim: themes and coded excerpts from the open questions of a French survey.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(user_app, name="user")
app.add_typer(db_app, name="db")


@app.callback()
def _root() -> None:
    """Verbatim: themes and coded excerpts from the open questions of a French survey."""


@app.command()
def analyse(
    survey_file: Annotated[Path, typer.Argument(help="CSV (UTF-8, UTF-8 BOM, Windows-1252) or XLSX export")],
    id_column: Annotated[str, typer.Option("--id-column", help="column with the respondent id")],
    question: Annotated[list[str], typer.Option("--question", help="open-question column (repeat for several)")],
    attribute: AttributeOption = None,
    out: OutOption = None,
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
    prefect_environment()
    server_ready = start_prefect_server()
    from verbatim.flows.config import AnalyseConfig, PseudonymisationConfig, check_survey, checked_surveys_kept
    from verbatim.nlp.encoders import make_encoder

    with checked_surveys_kept(), reported():  # the flow's read step takes the checked file instead of reading it again
        config = AnalyseConfig(
            survey_file=survey_file,
            id_column=id_column,
            questions=question,
            attributes=attribute or [],
            out_dir=out_folder(out),
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
        from verbatim.flows.analyse import analyse_survey

        console.print(f"Analysing {survey_file} ({table.n_rows} rows, {len(question)} question(s))…")
        server_ready()
        result = analyse_survey(config)
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
def serve(
    host: Annotated[str, typer.Option("--host", help="address to listen on (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 8000,
    database_url: DatabaseOption = None,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="send the session cookie over https only (behind a TLS proxy)")
    ] = False,
    low_score: Annotated[
        float, typer.Option("--low-score", min=0.0, max=1.0, help="machine scores below it go to the review queue")
    ] = 0.35,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="server processes; any of them answers any request")
    ] = 1,
) -> None:
    """Serve the whole app (upload, analyses, review, downloads) and its HTTP API under /api/v1 (login required).

    Everything it writes lives under VERBATIM_DATA_DIR (default ./data). With --workers N, N processes share the
    port: sessions, the login brake and form tokens live in the store and the signed cookie, never in one process."""
    import uvicorn

    from verbatim.web.app import create_app

    prefect_environment()
    with reported():  # opens (and migrates) the store and creates the secret key once, before any worker starts
        web = create_app(database_url, secure_cookies=secure_cookies or None, low_score=low_score)
    console.print(f"Verbatim on http://{host}:{port}/ (API: http://{host}:{port}/api/v1/docs; Ctrl+C to stop)")
    log_config = _log_config()
    if workers == 1:
        uvicorn.run(web, host=host, port=port, log_config=log_config, proxy_headers=False)
        return
    os.environ["VERBATIM_DATABASE_URL"] = web.state.data.store.url  # what each worker's app is built from
    os.environ["VERBATIM_LOW_SCORE"] = str(low_score)
    if secure_cookies:
        os.environ["VERBATIM_SECURE_COOKIES"] = "1"
    uvicorn.run("verbatim.web.app:app_from_environment", factory=True, workers=workers, host=host, port=port,
                log_config=log_config, proxy_headers=False)  # fmt: skip


def _log_config() -> dict[str, object]:
    """uvicorn's logging, each line with the id of the process that wrote it (several workers share one log)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter["fmt"] = formatter["fmt"].replace("%(levelprefix)s", "%(levelprefix)s [%(process)d]", 1)
    return config


app.command("review", help="The same as `verbatim serve` (its former name).")(serve)


@app.command("export")
def export_command(
    run_id: Annotated[str, typer.Argument(help="the run to export (see the run folder's name or manifest)")],
    format: Annotated[
        str, typer.Option("--format", help="csv | xlsx | codebook | qdpx | report | respondents | specificities")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="file (csv, xlsx, qdpx; codebook .csv/.xlsx/.qdc; respondents .csv/.xlsx/.sav; specificities "
            ".csv/.xlsx) or folder (codebook, report)",
        ),
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
    qdpx_sources: Annotated[
        str,
        typer.Option(
            "--qdpx-sources",
            help="qdpx: respondent (one text source per answer, default) or question (one per question, each answer "
            "a paragraph headed by its respondent id)",
        ),
    ] = "respondent",
    database_url: DatabaseOption = None,
) -> None:
    """Export run RUN_ID as it stands after review: coded quotes, codebook, REFI-QDA project, quote report,
    respondents table or specificities (which groups over- or under-represent each theme)."""
    from verbatim.flows.export import ExportConfig, check_export
    from verbatim.models.store import Store
    from verbatim.models.store import database_url as resolve_url

    with reported():
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
            qdpx_sources=qdpx_sources,  # type: ignore[arg-type]
            database_url=database_url,
        )
        # Check the database, the run and the questions before starting Prefect: a typo fails in a second.
        url = resolve_url(config.database_url)
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
            raise fail(f"database file {url.removeprefix('sqlite:///')} not found: give --database-url")
        check_export(Store(url), config)

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from verbatim.flows.export import export_run

    with reported():
        result = export_run(config)
    out_console = Console()
    for path in result.files:
        out_console.print(str(path), highlight=False)


register_learning_commands(app)


def main() -> None:
    """The ``verbatim`` command. The process ends as usual (threads joined, every exit handler run: Prefect's logs
    and events sent, its server stopped), except that it does not then tear its modules down one by one: after a run
    that loaded spaCy, torch and BERTopic, that alone took 1.5 to 2.5 s, with nothing left to save."""
    code: list[object] = [0]
    atexit.register(_end_now, code)  # registered first of this command's exit handlers: it runs last
    try:
        app()
    except SystemExit as done:
        code[0] = done.code
        raise


def _end_now(code: list[object]) -> None:
    """The last exit handler: flush what is buffered and end the process with the command's exit status."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            stream.flush()
    status = code[0]
    os._exit(status if isinstance(status, int) else 0 if status is None else 1)


if __name__ == "__main__":
    main()
