"""The validated parameters of each flow: one pydantic object, no hidden tunables."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from verbatim.formats.survey import DEFAULT_PLACEHOLDERS, Ingested, SurveyTable, build_answers, read_survey
from verbatim.nlp.mask_categories import MaskCategory
from verbatim.paths import cache_dir, runs_dir


def available_cores() -> int:
    """Cores this process may use (the CPU affinity where the system tells it, as in containers)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


#: Survey files this large (or larger) get a local Dask cluster for the heavy steps by default.
PARALLEL_FILE_BYTES = 2**20
MAX_LOCAL_WORKERS = 4


def one_per_core() -> int:
    """Processes that use each core once: the cores this process may use, at most :data:`MAX_LOCAL_WORKERS`."""
    return min(available_cores(), MAX_LOCAL_WORKERS)


class PseudonymisationConfig(BaseModel):
    """What to mask in answers before anything is stored (see ``verbatim.nlp.pseudonymise``)."""

    model_config = ConfigDict(extra="forbid")

    categories: list[MaskCategory] = Field(default_factory=lambda: list(MaskCategory))
    extra_names: list[str] = Field(default_factory=list, description="more names to mask, e.g. partners' staff")
    never_mask: list[str] = Field(default_factory=list, description="terms never to mask, added to the built-in list")
    keep_original: bool = Field(
        default=False, description="also keep the unmasked text, in the store only, never in files or exports"
    )


class AnalyseConfig(BaseModel):
    """Parameters of the ``analyse_survey`` flow (and of ``verbatim analyse``)."""

    model_config = ConfigDict(extra="forbid")

    survey_file: Path = Field(description="CSV (UTF-8, UTF-8 BOM, Windows-1252; , ; or tab) or XLSX export")
    id_column: str = Field(description="column holding the respondent id")
    questions: list[str] = Field(min_length=1, description="open-question columns to analyse")
    attributes: list[str] = Field(default_factory=list, description="respondent attribute columns to keep")
    sheet: str | None = Field(default=None, description="XLSX sheet name (default: the first sheet)")
    out_dir: Path = Field(
        default_factory=runs_dir, description="where the run folder is created (VERBATIM_DATA_DIR/runs)"
    )
    seed: int = Field(default=42, ge=0, description="seed of every random step: same input + seed = same output")
    encoder: str = Field(default="use", description="'use' (bundled multilingual USE v3) or 'st:NAME_OR_PATH'")
    placeholders: list[str] | None = Field(
        default=None, description="answers counted as empty ('RAS', 'non', '-'...); default: the built-in list"
    )
    min_words: int = Field(default=3, ge=1, description="sentences shorter than this join a neighbour")
    min_cluster_size: int | None = Field(default=None, ge=2, description="smallest theme; default: from corpus size")
    pseudonymisation: PseudonymisationConfig = Field(default_factory=PseudonymisationConfig)
    database_url: str | None = Field(
        default=None, description="default: VERBATIM_DATABASE_URL or VERBATIM_DATA_DIR/verbatim.db"
    )
    cache_dir: Path = Field(
        default_factory=cache_dir,
        description="cache of masks, excerpts with lemmas and embeddings by text hash (VERBATIM_DATA_DIR/cache)",
    )
    n_process: int = Field(
        default=1,
        ge=1,
        description="spaCy processes inside the split step (forked from the flow's process; for both cores on large "
        "surveys prefer a Dask cluster: see README, Large surveys)",
    )
    batch_size: int = Field(default=5_000, ge=100, description="answers per batch of the heavy steps")
    theme_sample_size: int = Field(
        default=20_000, ge=500, description="above this many excerpts, themes are fitted on a sample of this size"
    )
    dask_address: str | None = Field(
        default=None, description="tcp://HOST:PORT of a Dask scheduler: the heavy steps run on its workers"
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        description="without dask_address, worker processes of a local Dask cluster for the heavy steps; 1 runs "
        f"them in the flow's process. Default: one per core (at most {MAX_LOCAL_WORKERS}) for survey files of "
        f"{PARALLEL_FILE_BYTES // 2**20} MiB or more (a few thousand answers), else 1. Also how many processes "
        f"fit a question's themes at once (default: one per core, at most {MAX_LOCAL_WORKERS})",
    )

    analysis_id: str | None = Field(
        default=None, description="the analysis of the app that launched this run: its progress and end are reported"
    )
    remove_survey_file: bool = Field(
        default=False, description="delete survey_file once the run is written (an upload: it holds personal data)"
    )

    def local_workers(self) -> int:
        """How many local worker processes run the heavy steps (1: the flow's own process); see ``workers``."""
        if self.dask_address:
            return 1
        if self.workers is not None:
            return self.workers
        try:
            large = self.survey_file.stat().st_size >= PARALLEL_FILE_BYTES
        except OSError:
            return 1
        return one_per_core() if large else 1

    def theme_jobs(self) -> int:
        """How many processes run the seeded fits of a question's theme consensus at once, in the flow's machine:
        ``workers`` when given, else one per core (at most :data:`MAX_LOCAL_WORKERS`), whatever the file's size."""
        return self.workers if self.workers is not None else one_per_core()

    @field_validator("questions", "attributes")
    @classmethod
    def _no_duplicates(cls, value: list[str]) -> list[str]:
        seen = [v for i, v in enumerate(value) if v in value[:i]]
        if seen:
            raise ValueError(f"column given twice: {', '.join(seen)}")
        return value


def check_survey(config: AnalyseConfig) -> SurveyTable:
    """Read the file and check its columns and ids before any work starts, so that a typo fails in a second: the
    command line and the app's upload form run the same checks. Raises ``VerbatimError`` with what to fix. Inside
    :func:`checked_surveys_kept`, what it read is kept for the flow's read step."""
    key = None
    if _kept is not None:
        # The file's size and time before it is read: a change while it is read makes the flow read it again.
        with suppress(OSError):  # no such file: read_answers says so
            key = _read_key(config)
    table, ingested = read_answers(config)
    if _kept is not None and key is not None:
        _kept[key] = (table, ingested)
    return table


def read_answers(config: AnalyseConfig) -> tuple[SurveyTable, Ingested]:
    """The survey file read, and its respondents and answers to the questions (checked: columns, ids)."""
    table = read_survey(config.survey_file, sheet=config.sheet)
    return table, build_answers(table, config.id_column, config.questions, config.attributes, placeholders_of(config))


def placeholders_of(config: AnalyseConfig) -> Iterable[str]:
    return DEFAULT_PLACEHOLDERS if config.placeholders is None else config.placeholders


#: What :func:`check_survey` read, by :func:`_read_key`, while :func:`checked_surveys_kept` is open (else None).
_kept: dict[tuple[object, ...], tuple[SurveyTable, Ingested]] | None = None


@contextmanager
def checked_surveys_kept() -> Iterator[None]:
    """While open, the survey that :func:`check_survey` reads and checks is kept for the flow's read step
    (:func:`checked_answers`), which then does not read and parse the file again: the command line checks the file
    before it starts the flow in its own process, and the second read took 0.9 s at 20,000 answers, 3.7 s at 100,000
    and 13 s at 429,114. The flow takes what is kept (it is not kept after that), and the block's end lets go of the
    rest: the unmasked answers do not stay in memory after the command."""
    global _kept
    _kept = {}
    try:
        yield
    finally:
        _kept = None


def checked_answers(config: AnalyseConfig) -> tuple[SurveyTable, Ingested]:
    """What :func:`check_survey` read of ``config``'s file inside :func:`checked_surveys_kept`, when the file has not
    changed since (size, modification time); else the file read and checked now (:func:`read_answers`)."""
    if _kept is not None:
        with suppress(OSError):  # the file is gone: read_answers says so
            kept = _kept.pop(_read_key(config), None)
            if kept is not None:
                return kept
    return read_answers(config)


def _read_key(config: AnalyseConfig) -> tuple[object, ...]:
    """What a read and check depend on: the file as it is now, and the options."""
    stat = config.survey_file.stat()
    return (
        str(config.survey_file.resolve()), stat.st_size, stat.st_mtime_ns, config.sheet, config.id_column,
        tuple(config.questions), tuple(config.attributes), tuple(sorted(placeholders_of(config))),
    )  # fmt: skip
