"""Commands that learn from decisions and carry them through spreadsheets.

``verbatim recode RUN_ID``, ``verbatim code NEW_SURVEY --codebook RUN_ID``, ``verbatim decisions export RUN_ID --out
FILE.xlsx`` and ``verbatim decisions import RUN_ID FILE.xlsx --as NAME``. Registered on the main app by
:func:`register` (``verbatim.cli.main``). Every command reads the database named by ``VERBATIM_DATABASE_URL``
(default ``VERBATIM_DATA_DIR/verbatim.db``), like ``verbatim analyse``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from verbatim.cli.common import (
    AttributeOption,
    DaskAddressOption,
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

out = Console()

decisions_app = typer.Typer(
    help="Review decisions in a spreadsheet: export a run's excerpts, import the edited sheet.",
    no_args_is_help=True,
)


def recode(run_id: Annotated[str, typer.Argument(help="the run whose decisions the machine learns from")]) -> None:
    """Learn from the researchers' decisions on RUN_ID and write a new version of the machine's codes."""
    from verbatim.models.store import Store

    with reported():
        Store().run(run_id)  # a wrong run id fails in a second, before Prefect starts
    prefect_environment()
    server_ready = start_prefect_server()
    from verbatim.flows.learning import RecodeConfig, recode_run

    with reported():
        server_ready()
        result = recode_run(RecodeConfig(run_id=run_id))
    for q in result.questions:
        table = Table(title=f"{q.question}: {q.method}, {q.n_examples} validated excerpts, "
                            f"{q.n_changed} excerpts changed theme")  # fmt: skip
        for column in ("theme", "label", f"v{result.previous_version}", f"v{result.version}", "gained", "lost"):
            table.add_column(column, justify="left" if column == "label" else "right")
        for c in q.changes:
            table.add_row(str(c.theme_id), c.label, str(c.before), str(c.after), str(c.gained), str(c.lost))
        out.print(table)
    out.print(f"Run {run_id}: machine version {result.version} written (version {result.previous_version} kept).")


def code(
    survey_file: Annotated[Path, typer.Argument(help="the new survey export (CSV or XLSX)")],
    codebook: Annotated[str, typer.Option("--codebook", help="run whose codebook (themes as they stand) to use")],
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="respondent id column (default: the codebook run's)")
    ] = None,
    question: Annotated[
        list[str] | None, typer.Option("--question", help="open-question column (default: the codebook run's)")
    ] = None,
    attribute: AttributeOption = None,
    sheet: SheetOption = None,
    out_dir: OutOption = None,
    seed: SeedOption = 42,
    dask_address: DaskAddressOption = None,
    workers: WorkersOption = None,
) -> None:
    """Code the answers of SURVEY_FILE into the codebook of an earlier run: a new run, with candidate new themes."""
    from verbatim.flows.config import check_survey, checked_surveys_kept
    from verbatim.models.store import Store

    with checked_surveys_kept(), reported():  # the flow's read step takes the checked file instead of reading it again
        parameters = Store().run(codebook).manifest.get("parameters", {})
        from verbatim.flows.learning import CodeConfig

        config = CodeConfig(
            survey_file=survey_file,
            codebook_run_id=codebook,
            id_column=id_column or parameters.get("id_column", ""),
            questions=question or parameters.get("questions", []),
            attributes=attribute if attribute is not None else parameters.get("attributes", []),
            sheet=sheet,
            out_dir=out_folder(out_dir),
            seed=seed,
            encoder=parameters.get("encoder", "use"),
            dask_address=dask_address,
            workers=workers,
        )
        table = check_survey(config)
        prefect_environment()  # the server starts once the input passed its checks
        server_ready = start_prefect_server()
        from verbatim.flows.learning import code_new_answers

        console.print(f"Coding {survey_file} ({table.n_rows} rows) into the codebook of run {codebook}…")
        server_ready()
        result = code_new_answers(config)
    summary = Table(title=f"Run {result.run_id} (codebook of {codebook})")
    for column in ("question", "rows", "coded", "queued", "rejected", "excerpts", "method", "candidates"):
        summary.add_column(column, justify="left" if column in ("question", "method") else "right")
    for q, c in result.manifest["counts"].items():
        info = result.manifest["coding"][q]
        summary.add_row(q, *(str(c[k]) for k in ("rows", "coded", "queued", "rejected", "excerpts")),
                        str(info["method"]), str(info["candidate_themes"]))  # fmt: skip
    out.print(summary)
    out.print(f"Results: {result.folder}/ (coded_excerpts.csv, themes.csv, answers.csv, candidate_themes.csv, "
              "manifest.json)")  # fmt: skip


@decisions_app.command("export")
def export(
    run_id: Annotated[str, typer.Argument(help="the run to review")],
    out_file: Annotated[Path, typer.Option("--out", help="the .xlsx file to write")],
) -> None:
    """Write a spreadsheet of RUN_ID's excerpts: edit the 'code' column (drop-down of themes) or mark 'accept'."""
    from verbatim.formats.decision_sheet import export_decisions
    from verbatim.models.store import Store

    if out_file.suffix.lower() != ".xlsx":
        raise fail(f"{out_file}: the sheet is written as .xlsx; give a file name ending in .xlsx")
    with reported():
        n = export_decisions(Store(), run_id, out_file)
    out.print(f"{n} excerpts written to {out_file}: edit 'code' (or mark 'accept'), then "
              f"`verbatim decisions import {run_id} {out_file} --as NAME`.")  # fmt: skip


@decisions_app.command("import")
def import_(
    run_id: Annotated[str, typer.Argument(help="the run the sheet was exported from")],
    sheet_file: Annotated[Path, typer.Argument(help="the edited .xlsx sheet")],
    coder: Annotated[str, typer.Option("--as", help="the researcher whose decisions these are")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report what would be recorded, record nothing")] = False,
) -> None:
    """Record the changed rows of an edited sheet as decisions of the researcher named by --as."""
    from verbatim.formats.decision_sheet import import_decisions
    from verbatim.models.store import Store

    if not sheet_file.is_file():
        raise fail(f"{sheet_file} not found")
    with reported():
        report = import_decisions(Store(), run_id, sheet_file, coder, dry_run=dry_run)
    counts = report.counts()
    verb = "would record" if dry_run else "recorded"
    out.print(f"{verb}: {counts['recode']} recodes, {counts['reject']} rejections, {counts['accept']} accepts; "
              f"{counts['unchanged']} rows unchanged; {counts['refused']} rows refused")  # fmt: skip
    if report.problems:
        table = Table(title="Rows not applied (nothing recorded for them)")
        for column in ("row", "excerpt", "reason"):
            table.add_column(column)
        for p in report.problems:
            table.add_row(str(p.row), p.excerpt_id, p.reason)
        out.print(table)
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add ``recode``, ``code`` and ``decisions export|import`` to the ``verbatim`` command line."""
    app.command("recode")(recode)
    app.command("code")(code)
    app.add_typer(decisions_app, name="decisions")
