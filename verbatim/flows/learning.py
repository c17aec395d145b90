"""Flows that learn from researchers' decisions: ``recode_run`` and ``code_new_answers``.

* ``recode_run``: per question of a run, a :class:`~verbatim.nlp.learning.CodeClassifier` learns from the
  validated excerpts (accepted or recoded, with the codebook as it stands after renames, merges and splits;
  rejected excerpts teach "queue"), plus the analysis's own codes of undecided excerpts as weak evidence, and codes
  every excerpt no researcher has decided. The result is a new machine version of the whole run
  (``verbatim.models.machine_codes``); decisions are never touched, earlier versions stay readable. A question
  with fewer than ``min_examples`` validated excerpts (or a single theme among them) keeps its codes unchanged in
  the new version.
* ``code_new_answers``: a new survey export is read, pseudonymised and split exactly as ``analyse_survey`` does
  (its tasks), then coded into the codebook of an earlier run as it stands: the classifier when that run has
  enough decisions, else the nearest theme centroid of its current codes. Excerpts that fit no theme are queued,
  and groups among them are proposed as candidate themes (``candidate_themes.csv``). The result is a new run, with
  its own run folder and ``codebook_run_id`` in its manifest.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from verbatim.errors import ConfigError
from verbatim.flows.analyse import (
    RUN_FILES,
    QuestionResult,
    RunResult,
    StepClock,
    analysis_outcome,
    finish_analysis,
    kept_originals,
    new_run_id,
    progress_reporter,
    question_step,
    read_survey_task,
    run_manifest,
    run_steps,
    write_run,
)
from verbatim.flows.assemble import answer_outcomes
from verbatim.flows.batches import embed_excerpts, pseudonymise_answers, split_answers
from verbatim.flows.config import AnalyseConfig
from verbatim.flows.params import as_is
from verbatim.models.analyses import AnalysisLog
from verbatim.models.decisions import DecisionLog, QuestionState
from verbatim.models.machine_codes import (
    DECIDED,
    ThemeChange,
    decided_codings,
    latest_version,
    run_questions,
    save_machine_version,
    training_labels,
    version_changes,
)
from verbatim.models.records import QUEUE_THEME_ID, Answer, Coding, Excerpt, Family, Theme
from verbatim.models.store import Store
from verbatim.nlp.encoders import EmbeddingCache, embed, make_encoder
from verbatim.nlp.learning import (
    CandidateTheme,
    CentroidCoder,
    CodeClassifier,
    Prediction,
    candidate_themes,
    training_set,
)
from verbatim.nlp.themes import common_lemmas
from verbatim.paths import cache_dir as default_cache_dir

CANDIDATE_COLUMNS = [
    "question", "candidate_id", "label", "keywords", "n_excerpts", "n_respondents", "excerpt_ids",
    "representative_excerpts",
]  # fmt: skip


class LearningSettings(BaseModel):
    """How the machine learns from decisions (shared by ``recode_run`` and ``code_new_answers``)."""

    model_config = ConfigDict(extra="forbid")

    min_examples: int = Field(default=10, ge=2, description="validated excerpts a question needs to learn from")
    min_probability: float = Field(default=0.4, ge=0.0, le=1.0, description="below this, an excerpt is queued")
    prior_weight: float = Field(
        default=0.1, ge=0.0, le=1.0, description="weight of the analysis's codes of undecided excerpts"
    )
    C: float = Field(default=1.0, gt=0.0, description="inverse regularisation of the logistic regression")


class RecodeConfig(BaseModel):
    """Parameters of ``recode_run`` (``verbatim recode RUN_ID``)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    learning: LearningSettings = Field(default_factory=LearningSettings)
    database_url: str | None = Field(
        default=None, description="default: VERBATIM_DATABASE_URL or VERBATIM_DATA_DIR/verbatim.db"
    )
    cache_dir: Path | None = Field(default=None, description="embedding cache; default: the run's own")
    analysis_id: str | None = Field(default=None, description="the app's analysis that launched it (progress, end)")


class CodeConfig(AnalyseConfig):
    """Parameters of ``code_new_answers`` (``verbatim code NEW_SURVEY --codebook RUN_ID``): those of the analysis
    (the encoder is always the codebook run's), plus the codebook run and how to learn."""

    codebook_run_id: str
    learning: LearningSettings = Field(default_factory=LearningSettings)
    min_candidate_size: int = Field(default=5, ge=2, description="smallest group of queued excerpts proposed")


@dataclass
class QuestionRecode:
    question: str
    method: str  # "classifier" or "unchanged (too few decisions)"
    n_examples: int
    classes: list[int]
    n_undecided: int
    n_queued: int
    changes: list[ThemeChange] = field(default_factory=list)

    @property
    def n_changed(self) -> int:
        return sum(c.gained for c in self.changes)


@dataclass
class RecodeResult:
    run_id: str
    previous_version: int
    version: int
    questions: list[QuestionRecode]


# -- shared steps ----------------------------------------------------------------------------------------------------
@task(name="embed texts", cache_policy=NO_CACHE)
def embed_texts_task(texts: list[str], encoder_spec: str, cache_dir: Path) -> np.ndarray:
    """Embeddings of ``texts`` with the run's encoder: the cache makes re-embedding a run's excerpts cheap."""
    logger = get_run_logger()
    started = time.perf_counter()
    encoder = make_encoder(encoder_spec)
    cache = EmbeddingCache(cache_dir / "embeddings.sqlite")
    try:
        vectors = embed(texts, encoder, cache)
    finally:
        cache.close()
    logger.info("%d texts embedded with %s in %.1fs", len(texts), encoder.encoder_id, time.perf_counter() - started)
    return vectors


def _encoder_and_cache(store: Store, run_id: str, cache_dir: Path | None) -> tuple[str, Path]:
    manifest = store.run(run_id).manifest
    spec = str(manifest.get("encoder", {}).get("spec") or "use")
    cache = cache_dir or Path(str(manifest.get("parameters", {}).get("cache_dir") or default_cache_dir()))
    return spec, cache


def _excerpt_texts(store: Store, run_id: str, question: str) -> tuple[list[str], list[str]]:
    rows = sorted((e for e in store.excerpts(run_id) if e.question == question), key=lambda e: e.excerpt_id)
    return [e.excerpt_id for e in rows], [e.text for e in rows]


def _learner(
    state: QuestionState,
    first: QuestionState,
    ids: Sequence[str],
    vectors: np.ndarray,
    settings: LearningSettings,
    seed: int,
) -> tuple[CodeClassifier | None, int]:
    """The classifier trained on the question's decisions (None when they are too few), and how many there are."""
    labels = training_labels(state)
    row = {e: i for i, e in enumerate(ids)}
    examples = [(row[e], t) for e, t in labels.items() if e in row]
    if len(examples) < settings.min_examples or len({t for _, t in examples}) < 2:
        return None, len(examples)
    active = {t.theme_id for t in state.active_themes()}
    prior = [
        (row[e], first.codes[e].theme_id)
        for e in ids
        if e not in labels
        and state.codes[e].status not in DECIDED
        and e in first.codes
        and first.codes[e].theme_id in active
    ]
    x, y, w = training_set(
        vectors[[i for i, _ in examples]],
        [t for _, t in examples],
        vectors[[i for i, _ in prior]] if prior else None,
        [t for _, t in prior],
        settings.prior_weight,
    )
    model = CodeClassifier(C=settings.C, min_probability=settings.min_probability, seed=seed)
    return model.fit(x, y, w), len(examples)


def _codings(ids: Sequence[str], prediction: Prediction) -> list[Coding]:
    return [
        Coding(
            excerpt_id=e,
            theme_id=int(label),
            score=float(np.round(score, 4)),
            runner_up_theme_id=None if runner < 0 else int(runner),
        )
        for e, label, score, runner in zip(ids, prediction.labels, prediction.scores, prediction.runner_up, strict=True)
    ]


# -- recode_run ------------------------------------------------------------------------------------------------------
@task(name="recode question", cache_policy=NO_CACHE)
def recode_question_task(
    store: Store, run_id: str, question: str, encoder_spec: str, cache_dir: Path, config: RecodeConfig, seed: int
) -> tuple[list[Coding], QuestionRecode]:
    logger = get_run_logger()
    log = DecisionLog(store)
    state = log.state(run_id, question)
    first = log.state(run_id, question, machine_version=1)
    ids, texts = _excerpt_texts(store, run_id, question)
    vectors = embed_texts_task(texts, encoder_spec, cache_dir)
    model, n_examples = _learner(state, first, ids, vectors, config.learning, seed)
    todo = [i for i, e in enumerate(ids) if state.codes[e].status not in DECIDED]
    decided = decided_codings(state)
    if model is None:
        logger.warning(
            "%s: %d validated excerpts, %d needed (and two themes): codes unchanged",
            question, n_examples, config.learning.min_examples,
        )  # fmt: skip
        kept = [
            Coding(
                excerpt_id=ids[i],
                theme_id=state.machine[ids[i]].theme_id,
                score=state.machine[ids[i]].score,
                runner_up_theme_id=state.machine[ids[i]].runner_up_theme_id,
            )
            for i in todo
        ]
        summary = QuestionRecode(question, "unchanged (too few decisions)", n_examples, [], len(todo),
                                 sum(1 for c in kept if c.theme_id == QUEUE_THEME_ID))  # fmt: skip
        return decided + kept, summary
    prediction = model.predict(vectors[todo]) if todo else None
    coded = _codings([ids[i] for i in todo], prediction) if prediction is not None else []
    n_queued = sum(1 for c in coded if c.theme_id == QUEUE_THEME_ID)
    logger.info(
        "%s: learnt from %d validated excerpts (%d classes, temperature %.2f); %d undecided excerpts coded, %d queued",
        question, n_examples, len(model.classes_), model.temperature_, len(todo), n_queued,
    )  # fmt: skip
    summary = QuestionRecode(question, "classifier", n_examples, [int(c) for c in model.classes_], len(todo), n_queued)
    return decided + coded, summary


@flow(name="recode_run")
def recode_run(config: RecodeConfig) -> RecodeResult:
    """Learn from the decisions on a run and write a new machine version of its codes (decisions untouched)."""
    with analysis_outcome(config.analysis_id, config.database_url):
        return _recode(config)


def _recode(config: RecodeConfig) -> RecodeResult:
    logger = get_run_logger()
    started = time.perf_counter()
    store = Store(config.database_url)
    run = store.run(config.run_id)
    encoder_spec, cache_dir = _encoder_and_cache(store, config.run_id, config.cache_dir)
    previous = latest_version(store, config.run_id)
    codings: list[Coding] = []
    summaries = []
    questions = run_questions(store, config.run_id)
    report = progress_reporter(store, config.analysis_id)
    for qi, question in enumerate(questions):
        if report is not None:
            report(
                f"question {qi + 1}/{len(questions)} « {question} » : apprentissage des décisions", qi / len(questions)
            )
        mine, summary = recode_question_task(store, config.run_id, question, encoder_spec, cache_dir, config, run.seed)
        codings += mine
        summaries.append(summary)
    version = save_machine_version(store, config.run_id, codings)
    rows = []
    for s in summaries:
        s.changes = version_changes(store, config.run_id, s.question, previous, version)
        logger.info("%s: %d excerpts changed machine theme from version %d to %d", s.question, s.n_changed,
                    previous, version)  # fmt: skip
        rows += [
            {"question": s.question, "theme_id": c.theme_id, "label": c.label, "before": c.before, "after": c.after,
             "gained": c.gained, "lost": c.lost}
            for c in s.changes
        ]  # fmt: skip
    create_table_artifact(rows, key="verbatim-recode-changes", description=f"{config.run_id} v{previous} -> v{version}")
    logger.info("run %s: machine version %d written in %.0fs", config.run_id, version, time.perf_counter() - started)
    if config.analysis_id is not None:
        AnalysisLog(store).complete(config.analysis_id, config.run_id)
    return RecodeResult(config.run_id, previous, version, summaries)


# -- code_new_answers ------------------------------------------------------------------------------------------------
def _codebook_themes(
    question: str,
    state: QuestionState,
    keywords: dict[int, tuple[str, ...]],
    excerpts: Sequence[Excerpt],
    codings: Sequence[Coding],
) -> list[Theme]:
    """The codebook's active themes with their current labels, counted and illustrated on the new excerpts."""
    themes = []
    for t in state.active_themes():
        members = [(c.score, e) for e, c in zip(excerpts, codings, strict=True) if c.theme_id == t.theme_id]
        members.sort(key=lambda m: (-m[0], m[1].excerpt_id))
        reps: list[str] = []
        seen: set[str] = set()
        for _, e in members:
            if e.respondent_id not in seen and len(reps) < 5:
                reps.append(e.excerpt_id)
                seen.add(e.respondent_id)
        themes.append(
            Theme(
                question=question,
                theme_id=t.theme_id,
                label=t.label,
                description=t.description,
                keywords=keywords.get(t.theme_id, ()),
                n_excerpts=len(members),
                n_respondents=len({e.respondent_id for _, e in members}),
                representative_excerpt_ids=tuple(reps),
                family_id=family.family_id if (family := state.family_of(t.theme_id)) else None,
            )
        )
    return themes


def codebook_families(store: Store, run_id: str, question: str) -> list[Family]:
    """The codebook's families as they stand (renamed, with the moves): the new run's families."""
    state = DecisionLog(store).state(run_id, question)
    return [
        Family(question=question, family_id=f.family_id, label=f.label, keywords=f.keywords)
        for f, _ in state.active_families()
    ]


@task(name="code into the codebook", cache_policy=NO_CACHE)
def code_question_task(
    store: Store, config: CodeConfig, question: str, excerpts: list[Excerpt], vectors: np.ndarray, cache_dir: Path
) -> tuple[list[Coding], list[Theme], list[CandidateTheme], dict[str, Any]]:
    logger = get_run_logger()
    log = DecisionLog(store)
    codebook = config.codebook_run_id
    state = log.state(codebook, question)
    first = log.state(codebook, question, machine_version=1)
    ids, texts = _excerpt_texts(store, codebook, question)
    known = embed_texts_task(texts, config.encoder, cache_dir)
    model, n_examples = _learner(state, first, ids, known, config.learning, config.seed)
    if model is not None:
        prediction, method = model.predict(vectors), "classifier"
    else:
        current = [state.codes[e].theme_id for e in ids]
        prediction, method = CentroidCoder().fit(known, current).predict(vectors), "centroids"
    codings = _codings([e.excerpt_id for e in excerpts], prediction)
    keywords = {t.theme_id: tuple(t.keywords) for t in store.themes(codebook) if t.question == question}
    themes = _codebook_themes(question, state, keywords, excerpts, codings)
    queued = prediction.labels == QUEUE_THEME_ID
    lemmas = [e.lemmas for e in excerpts]
    candidates = candidate_themes(
        vectors, lemmas, [e.text for e in excerpts],
        [e.respondent_id for e in excerpts], queued, min_size=config.min_candidate_size,
        common=sorted(common_lemmas(lemmas)),
    )  # fmt: skip
    logger.info(
        "%s: %d excerpts coded into %d themes by %s (%d validated excerpts in the codebook); %d queued, "
        "%d candidate themes among them",
        question, len(excerpts), len(themes), method, n_examples, int(queued.sum()), len(candidates),
    )  # fmt: skip
    info = {"method": method, "training_examples": n_examples, "candidate_themes": len(candidates)}
    return codings, themes, candidates, info


def candidates_frame(
    question_candidates: Sequence[tuple[str, Sequence[Excerpt], Sequence[CandidateTheme]]],
) -> pd.DataFrame:
    rows = []
    for question, excerpts, candidates in question_candidates:
        for c in candidates:
            rows.append(
                [
                    question, c.candidate_id, c.label, "; ".join(c.keywords), len(c.members), c.n_respondents,
                    " ".join(excerpts[i].excerpt_id for i in c.members),
                    "\n".join(excerpts[i].text for i in c.representatives),
                ]
            )  # fmt: skip
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)


def _code_question(
    store: Store, config: CodeConfig, question_index: int, question: str, answers: list[Answer], cache_dir: Path
) -> tuple[QuestionResult, list[CandidateTheme], dict[str, Any]]:
    rejected = [a for a in answers if a.status is not None]
    todo = [a for a in answers if a.status is None]
    excerpts, no_text = split_answers(question_index, todo, config)
    vectors = embed_excerpts(excerpts, config) if excerpts else np.zeros((0, 0), dtype=np.float32)
    no_text_keys = {(a.question, a.respondent_id) for a in no_text}
    analysed = [a for a in todo if (a.question, a.respondent_id) not in no_text_keys]
    result = QuestionResult(question=question, answers=rejected + no_text)
    if not excerpts:
        get_run_logger().warning("%s: no answer left to code after splitting", question)
        return result, [], {"method": "none", "training_examples": 0, "candidate_themes": 0}
    result.codings, result.themes, candidates, info = code_question_task(
        store, config, question, as_is(excerpts), as_is(vectors), cache_dir
    )
    result.families = codebook_families(store, config.codebook_run_id, question)
    coded, result.n_excerpts, result.answer_themes = answer_outcomes(analysed, excerpts, result.codings)
    result.answers = coded + rejected + no_text
    result.excerpts = excerpts
    result.granularity = {"method": info["method"]}
    return result, candidates, info


def _check_codebook(store: Store, config: CodeConfig) -> tuple[CodeConfig, list[str]]:
    codebook = store.run(config.codebook_run_id)
    questions = run_questions(store, config.codebook_run_id)
    unknown = [q for q in config.questions if q not in questions]
    if unknown:
        raise ConfigError(
            f"question(s) {', '.join(map(repr, unknown))} are not in the codebook of run '{config.codebook_run_id}'; "
            f"its questions are: {', '.join(questions)}"
        )
    spec = str(codebook.manifest.get("encoder", {}).get("spec") or "use")
    return config.model_copy(update={"encoder": spec}), questions


@flow(name="code_new_answers")
def code_new_answers(config: CodeConfig) -> RunResult:
    """Code a new survey export into the codebook of an earlier run; write a new run folder and store the run.

    Like ``analyse_survey``: the steps run in a subflow on the task runner ``config.dask_address`` asks for (or on
    a local cluster for a large file), and the only parameter Prefect stores is the configuration (never answers).
    """
    with analysis_outcome(config.analysis_id, config.database_url):
        return run_steps(coding_steps, config)


@flow(name="code_new_answers steps")
def coding_steps(config: CodeConfig) -> RunResult:
    """The steps of :func:`code_new_answers`, on the task runner it chose."""
    logger = get_run_logger()
    started = time.perf_counter()
    run_id = new_run_id()
    store = Store(config.database_url)
    config, codebook_questions = _check_codebook(store, config)
    clock = StepClock(progress_reporter(store, config.analysis_id), 3 + len(config.questions))
    with clock.step("read survey", "lecture du fichier"):
        table, ingested = read_survey_task(config)
    with clock.step("pseudonymise", "pseudonymisation des réponses"):
        answers, mask_counts = pseudonymise_answers(ingested.answers, config)
    originals = kept_originals(ingested, config)
    results, infos, candidate_rows = [], {}, []
    for question in config.questions:
        logger.info("question %s, coded into the codebook of run %s", question, config.codebook_run_id)
        mine = [a for a in answers if a.question == question]
        qi = config.questions.index(question)
        with clock.step(f"{question}: code", question_step(config, qi, "codage dans le livre de codes")):
            result, candidates, info = _code_question(
                store, config, codebook_questions.index(question), question, mine, config.cache_dir
            )
        results.append(result)
        infos[question] = info
        candidate_rows.append((question, result.excerpts, candidates))

    manifest = run_manifest(
        run_id,
        config,
        table,
        results,
        mask_counts,
        [*RUN_FILES, "candidate_themes.csv"],
        codebook_run_id=config.codebook_run_id,
        codebook_machine_version=latest_version(store, config.codebook_run_id),
        coding=infos,
    )

    def write_candidates(staging: Path) -> None:
        candidates_frame(candidate_rows).to_csv(
            staging / "candidate_themes.csv", index=False, encoding="utf-8", lineterminator="\n"
        )

    with clock.step("write run", "écriture des résultats"):
        folder = write_run(store, config, run_id, manifest, ingested.respondents, results, originals, write_candidates)
    finish_analysis(store, config, run_id)
    logger.info(
        "run %s (codebook of %s) written to %s in %.0fs",
        run_id, config.codebook_run_id, folder, time.perf_counter() - started,
    )  # fmt: skip
    return RunResult(run_id=run_id, folder=folder, manifest=manifest)
