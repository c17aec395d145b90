"""The ``export_run`` flow: a run of the store, as it stands after the researchers' decisions, into files.

Two thin tasks around :mod:`verbatim.formats.exports`: read the run (codebook and current codes), write the format.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from verbatim.errors import ConfigError
from verbatim.flows.params import as_is
from verbatim.formats.exports import (
    DEFAULT_ATTRIBUTION,
    ExportFormat,
    QdpxSources,
    RunView,
    check_output,
    check_questions,
    export,
    load_run,
)
from verbatim.models.store import Store


class ExportConfig(BaseModel):
    """Parameters of the ``export_run`` flow (and of ``verbatim export``)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1, description="the run to export")
    format: ExportFormat = Field(description="csv | xlsx | codebook | qdpx | report | respondents | specificities")
    out: Path = Field(
        description="file (csv, xlsx, qdpx; codebook .csv/.xlsx/.qdc; respondents .csv/.xlsx/.sav; specificities "
        ".csv/.xlsx) "
        "or folder (codebook, report)"
    )
    validated_only: bool = Field(default=False, description="only excerpts accepted or recoded by a researcher")
    excel_fr: bool = Field(default=False, description="CSV for French Excel: UTF-8 BOM, ';', decimal comma")
    questions: list[str] = Field(default_factory=list, description="questions to export (default: all)")
    quotes: int = Field(default=5, ge=1, le=50, description="quotes per theme in the report")
    chart_attribute: str | None = Field(default=None, description="attribute of the report's charts (profession)")
    attribution: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ATTRIBUTION), description="attributes naming a quote's author"
    )
    qdpx_sources: QdpxSources = Field(
        default=QdpxSources.RESPONDENT,
        description="qdpx: one text source per answer (respondent) or per question (question)",
    )
    database_url: str | None = Field(
        default=None, description="default: VERBATIM_DATABASE_URL or VERBATIM_DATA_DIR/verbatim.db"
    )


def check_export(store: Store, config: ExportConfig) -> None:
    """What can be checked before anything is written (a ``ConfigError`` or ``StoreError`` saying what to fix): the
    output's name, the run, its questions and the charts' attribute."""
    check_output(config.format, config.out, config.excel_fr, config.qdpx_sources)
    check_questions(store, config.run_id, config.questions)
    attributes = set(store.run(config.run_id).manifest.get("parameters", {}).get("attributes", []))
    if config.chart_attribute and config.chart_attribute not in attributes:
        raise ConfigError(
            f"--chart-attribute {config.chart_attribute!r} is not an attribute of run {config.run_id}; "
            f"its attributes are: {', '.join(sorted(attributes)) or 'none'}"
        )


@dataclass
class ExportResult:
    run_id: str
    format: str
    files: list[Path]


@task(name="read run", cache_policy=NO_CACHE)
def read_run_task(config: ExportConfig) -> RunView:
    logger = get_run_logger()
    started = time.perf_counter()
    run = load_run(Store(config.database_url), config.run_id, config.questions or None)
    for q in run.questions:
        validated = sum(e.validated for e in q.excerpts)
        logger.info(
            "%s: %d excerpts (%d validated), %d active themes",
            q.question, len(q.excerpts), validated, len(q.active_themes()),
        )  # fmt: skip
    logger.info("run %s read in %.1fs", run.run_id, time.perf_counter() - started)
    return run


@task(name="write export", cache_policy=NO_CACHE)
def write_export_task(run: RunView, config: ExportConfig) -> list[Path]:
    logger = get_run_logger()
    started = time.perf_counter()
    files = export(
        run, config.format, config.out, validated_only=config.validated_only, excel_fr=config.excel_fr,
        n_quotes=config.quotes, chart_attribute=config.chart_attribute, attribution_columns=config.attribution,
        qdpx_sources=config.qdpx_sources,
    )  # fmt: skip
    logger.info(
        "%s: %d file(s) written to %s in %.1fs", config.format, len(files), config.out, time.perf_counter() - started
    )
    return files


@flow(name="export_run")
def export_run(config: ExportConfig) -> ExportResult:
    """Export a run of the store (codebook and codes as they stand now) as CSV, XLSX, codebook, REFI-QDA, report or
    respondents table."""
    check_output(config.format, config.out, config.excel_fr, config.qdpx_sources)
    run = read_run_task(config)
    files = write_export_task(as_is(run), config)
    return ExportResult(config.run_id, str(config.format), files)
