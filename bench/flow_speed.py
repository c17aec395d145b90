"""Speed and memory of the ``analyse_survey`` flow on real answers: Grand Débat, one question, 10,000 answers asked.

Run from the repository root: ``python bench/flow_speed.py`` (``make bench-flow``). Options: ``--answers N``
(default 10,000; a question with fewer answers gives all of its answers), ``--question-id KEY`` (``theme/csv_column``
such as ``transition/16``, or a ``question_id_b64``; default: the question with the most answers), ``--seed``,
``--keep`` (keep the temporary folder), ``--skip-flow``, ``--skip-bertopic``.

One process, in this order, everything in a temporary folder (fresh embedding caches, its own SQLite files):

1. builds a survey export (``id`` ``GD000001``..., the file's ``theme``, ``csv_column``, ``question_short_label``
   as attributes, the answers in ``reponse``) and writes it as CSV;
2. warms numba up (UMAP compiles on its first fit in a process, and ``NUMBA_CACHE_DIR`` keeps only part of it)
   and loads the spaCy pipelines, so that the steps after measure work, not start-up;
3. runs the flow's steps one by one through the flow's own task functions (``task.fn``, outside any Prefect run,
   with the run logger disabled), in the batches its subflows make (``batch_size`` answers, one batch after
   another as their one-thread task runner does), with a fresh embedding cache; the last two steps do what the
   flow's body does after its tasks (records, then the run folder and the store) with the same functions;
4. BERTopic as its documentation shows it (``BERTopic()``, default parameters and ``CountVectorizer``) with
   ``fit_transform(docs, embeddings)`` on the same excerpts and the same USE embeddings as step 3;
5. the whole ``analyse_survey(config)`` flow twice under a Prefect test server: first with a fresh embedding cache,
   then reusing it; the two runs' files are compared (same seed: same bytes, apart from the run id).

Each measure gives wall seconds, CPU seconds (this process and its finished children: the figure to trust when
other work shares the machine) and the peak resident memory of the process (sampled every 50 ms in a background
thread, checked against the kernel's peak), alone and with the unique memory (USS) of the child processes started
during the step (spaCy's workers when ``n_process`` > 1). Tables are Markdown, readable as plain text.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
os.environ.setdefault("PREFECT_HOME", str(ROOT / ".cache" / "prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from _common import (  # noqa: E402
    Measure,
    load_average,
    machine,
    markdown_table,
    pick_question,
    read_grand_debat,
    survey_export,
)

from verbatim.flows import analyse, batches  # noqa: E402
from verbatim.flows.assemble import answer_outcomes, themes_and_codings  # noqa: E402
from verbatim.flows.config import AnalyseConfig  # noqa: E402
from verbatim.formats.run_folder import (  # noqa: E402
    answers_frame,
    coded_excerpts_frame,
    staged_run_folder,
    themes_frame,
    write_run_files,
)
from verbatim.models.store import Store  # noqa: E402
from verbatim.nlp.encoders import make_encoder  # noqa: E402

SEED = 42
QUESTION_COLUMN = "reponse"
ATTRIBUTES = ["theme", "csv_column", "question_short_label"]
OUTPUTS = ("coded_excerpts.csv", "themes.csv", "answers.csv")

warnings.filterwarnings("ignore", message=".*n_jobs value.*")


def _config(folder: Path, survey: Path, name: str, seed: int) -> AnalyseConfig:
    return AnalyseConfig(
        survey_file=survey,
        id_column="id",
        questions=[QUESTION_COLUMN],
        attributes=ATTRIBUTES,
        out_dir=folder / f"runs-{name}",
        database_url=f"sqlite:///{folder / f'{name}.db'}",
        cache_dir=folder / f"cache-{name}",
        seed=seed,
    )


def _mib(value: float) -> str:
    return f"{value:,.0f}"


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds > 0 else "-"


class Steps:
    """Rows of a step table: name, seconds, CPU seconds, items, items/s, RSS at start, peak RSS, with children."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.measures: dict[str, Measure] = {}

    @contextlib.contextmanager
    def step(self, name: str, items: list[Any]) -> Any:
        """Measure the block; ``items`` is filled by the block with (count, unit) once it knows them."""
        print(f"… {name}", flush=True)
        with Measure() as m:
            yield m
        self.measures[name] = m
        count, unit = items if items else (0, "")
        mem = m.memory
        self.rows.append(
            [
                name, f"{m.seconds:.1f}", f"{m.cpu_seconds:.1f}", f"{count:,} {unit}" if count else "-",
                _rate(count, m.seconds) if count else "-",
                _mib(mem.start_mib), _mib(mem.peak_mib), _mib(mem.peak_with_children_mib),
            ]
        )  # fmt: skip
        print(f"  {m.seconds:.1f} s, peak {mem.peak_mib:,.0f} MiB", flush=True)

    def table(self) -> str:
        header = [
            "step",
            "seconds",
            "CPU s",
            "items",
            "items/s",
            "RSS before (MiB)",
            "peak RSS (MiB)",
            "peak + children USS (MiB)",
        ]
        return markdown_table(header, self.rows)


def warm_numba(steps: Steps) -> None:
    """Compile UMAP's numba code (nearest-neighbour descent, layout) on random data, as the first fit would."""
    from umap import UMAP

    items: list[Any] = []
    with steps.step("warm-up: numba JIT (UMAP)", items):
        data = np.random.default_rng(0).normal(size=(600, 64)).astype(np.float32)
        UMAP(n_components=5, metric="cosine", random_state=0, force_approximation_algorithm=True).fit(data)


def run_steps(config: AnalyseConfig, steps: Steps) -> dict[str, Any]:
    """The flow's steps, through the flow's own task functions; returns what the comparisons need."""
    from prefect.logging import disable_run_logger

    from verbatim.nlp.spacy_pipeline import load_pipeline

    question = config.questions[0]
    with disable_run_logger():
        items: list[Any] = []
        with steps.step("load spaCy pipelines (ner, analyse)", items):
            load_pipeline("ner")  # what pseudonymise and split load on first use (once per process)
            load_pipeline("analyse")

        items = []
        with steps.step("read survey", items):
            table, ingested = analyse.read_survey_task.fn(config)
            items[:] = [len(ingested.answers), "rows"]

        items = []
        with steps.step("pseudonymise", items):
            answers, mask_counts = pseudonymise_like_the_flow(ingested.answers, config)
            items[:] = [sum(1 for a in answers if a.status is None), "answers"]

        mine = [a for a in answers if a.question == question]
        rejected = [a for a in mine if a.status is not None]
        todo = [a for a in mine if a.status is None]
        items = []
        with steps.step("split + lemmatise", items):
            # as the subflow ``excerpts_and_embeddings`` does: batches of ``batch_size`` answers, one after the other
            excerpts, no_text = [], []
            for batch in batches.batches(todo, config.batch_size):
                batch_excerpts, batch_no_text = batches.split_task.fn(0, batches.Parcel(batch), config)
                excerpts.extend(batch_excerpts)
                no_text.extend(batch_no_text)
            items[:] = [len(todo), "answers"]

        texts = [e.text for e in excerpts]
        items = []
        with steps.step("embed (USE, fresh cache)", items):
            parts = batches.batches(texts, 4 * config.batch_size)
            vectors = np.vstack([batches.embed_task.fn(batches.Parcel(batch), config) for batch in parts])
            items[:] = [len(texts), "excerpts"]

        items = []
        with steps.step("model themes", items):
            model, _ = analyse.themes_task.fn(question, excerpts, vectors, config)
            items[:] = [len(excerpts), "excerpts"]

        items = []
        with steps.step("code (records)", items):
            no_text_keys = {(a.question, a.respondent_id) for a in no_text}
            analysed = [a for a in todo if (a.question, a.respondent_id) not in no_text_keys]
            result = analyse.QuestionResult(question=question, answers=rejected + no_text)
            result.themes, result.codings = themes_and_codings(question, excerpts, model)
            coded, result.n_excerpts, result.answer_themes = answer_outcomes(analysed, excerpts, result.codings)
            result.answers = coded + rejected + no_text
            result.excerpts = excerpts
            result.granularity = dict(model.granularity)
            items[:] = [len(excerpts), "excerpts"]

        items = []
        with steps.step("write outputs + store", items):
            write_like_the_flow(config, table, ingested, answers, mask_counts, result)
            items[:] = [len(excerpts), "excerpts"]
    return {
        "rows": len(mine),
        "todo": len(todo),
        "rejected": len(rejected) + len(no_text),
        "texts": texts,
        "vectors": vectors,
        "model": model,
        "counts": analyse.question_counts(result),
        "masks": mask_counts,
    }


def pseudonymise_like_the_flow(answers: list[Any], config: AnalyseConfig) -> tuple[list[Any], dict[str, int]]:
    """What the subflow ``pseudonymise_answers`` does, its batch task called with ``.fn`` (one batch after another,
    as its default one-thread task runner runs them)."""
    todo = [a.text for a in answers if a.status is None]
    results = [
        batches.pseudonymise_batch_task.fn(batches.Parcel(batch), config)
        for batch in batches.batches(todo, config.batch_size)
    ]
    return batches.with_masked_texts(answers, results)


def write_like_the_flow(
    config: AnalyseConfig,
    table: Any,
    ingested: Any,
    answers: list[Any],
    mask_counts: dict[str, int],
    result: analyse.QuestionResult,
) -> None:
    """What ``analyse_survey`` does after its tasks (manifest, run folder, store), for one question."""
    store = Store(config.database_url)
    run_id = analyse.new_run_id()
    originals = None
    if config.pseudonymisation.keep_original:
        originals = {(a.question, a.respondent_id): a.text for a in ingested.answers if a.status is None}
    manifest: dict[str, Any] = {
        "run_id": run_id,
        "parameters": config.model_dump(mode="json", exclude={"database_url"}),
        "seed": config.seed,
        "encoder": {"spec": config.encoder, "id": make_encoder(config.encoder).encoder_id},
        "packages": analyse.package_versions(),
        "input": {"file_name": table.path.name, "sha256": table.sha256, "rows": table.n_rows},
        "counts": {result.question: analyse.question_counts(result)},
        "masks": dict(sorted(mask_counts.items())),
    }
    all_answers = sorted(result.answers, key=lambda a: a.row)
    with staged_run_folder(config.out_dir, run_id) as staging:
        write_run_files(
            staging,
            manifest,
            coded_excerpts_frame(
                run_id, result.excerpts, result.codings, result.themes, ingested.respondents, config.attributes
            ),
            themes_frame(result.themes, result.excerpts),
            answers_frame(all_answers, result.n_excerpts, result.answer_themes, result.themes),
        )
        store.save_run(
            run_id,
            manifest,
            ingested.respondents,
            all_answers,
            result.n_excerpts,
            result.excerpts,
            result.themes,
            result.codings,
            originals,
        )
    analyse._summary_markdown(run_id, [result])  # the flow builds it for its artifact


def run_bertopic(texts: list[str], vectors: np.ndarray, steps: Steps) -> dict[str, Any]:
    """BERTopic as its documentation shows it, on the same excerpts and embeddings."""
    from bertopic import BERTopic

    items: list[Any] = []
    with steps.step("BERTopic() defaults: fit_transform", items):
        topic_model = BERTopic()
        topics, _ = topic_model.fit_transform(texts, vectors)
        items[:] = [len(texts), "excerpts"]
    labels = np.asarray(topics)
    return {"themes": len(set(labels.tolist()) - {-1}), "outliers": float((labels == -1).mean())}


def run_flow(config: AnalyseConfig, rows: int, steps: Steps) -> dict[str, Any]:
    """``analyse_survey(config)`` twice under one Prefect test server: fresh cache, then the same cache."""
    from prefect.testing.utilities import prefect_test_harness

    with contextlib.ExitStack() as stack:
        items: list[Any] = []
        with steps.step("Prefect test server start", items):
            stack.enter_context(prefect_test_harness(server_startup_timeout=180))
        items = []
        with steps.step("analyse_survey: 1st run (fresh cache)", items):
            first = analyse.analyse_survey(config)
            items[:] = [rows, "answers"]
        items = []
        with steps.step("analyse_survey: 2nd run (cache reused)", items):
            second = analyse.analyse_survey(config)
            items[:] = [rows, "answers"]
    same = all(
        (first.folder / name).read_text(encoding="utf-8").replace(first.run_id, "RUN")
        == (second.folder / name).read_text(encoding="utf-8").replace(second.run_id, "RUN")
        for name in OUTPUTS
    )
    return {"same": same, "counts": first.manifest["counts"][QUESTION_COLUMN]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=10_000, help="answers to draw (default 10,000)")
    parser.add_argument("--question-id", default=None, help="theme/csv_column (e.g. transition/16) or question_id_b64")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    parser.add_argument("--skip-flow", action="store_true", help="skip the two end-to-end flow runs")
    parser.add_argument("--skip-bertopic", action="store_true", help="skip the BERTopic comparison")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load_at_start = load_average()

    data = read_grand_debat()
    question = pick_question(data, args.question_id)
    export = survey_export(data, question, args.answers, args.seed)
    label = export["question_short_label"].iloc[0]
    available = int((data["question"] == question).sum())
    del data
    folder = Path(tempfile.mkdtemp(prefix="verbatim-bench-flow-"))
    survey = folder / "survey.csv"
    export.to_csv(survey, index=False, encoding="utf-8", lineterminator="\n")
    n = len(export)
    words = export[QUESTION_COLUMN].str.split().str.len()
    print(f"survey: {n:,} answers to {question} « {label} » in {survey}", flush=True)

    try:
        steps = Steps()
        warm_numba(steps)
        found = run_steps(_config(folder, survey, "steps", args.seed), steps)
        comparison = Steps()
        verbatim_themes = steps.measures["model themes"]
        bertopic = None if args.skip_bertopic else run_bertopic(found["texts"], found["vectors"], comparison)
        flow_steps = Steps()
        flow = None if args.skip_flow else run_flow(_config(folder, survey, "flow", args.seed), n, flow_steps)
    finally:
        if args.keep:
            print(f"kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)

    counts = found["counts"]
    model = found["model"]
    print()
    print(f"## Verbatim flow speed: Grand Débat « {label} » ({question})")
    print()
    asked = "" if n >= args.answers else f" (asked {args.answers:,}: the question has {available:,})"
    print(
        f"- survey: {n:,} answers{asked}, seed {args.seed}; words per answer: median {words.median():.0f}, "
        f"mean {words.mean():.1f}, max {words.max()}"
    )
    print(
        f"- outcome: {counts['coded']:,} coded, {counts['queued']:,} queued, {counts['rejected']:,} rejected "
        f"{counts['rejected_reasons']}; {counts['excerpts']:,} excerpts in {counts['themes']} themes "
        f"({counts['granularity']}), {counts['excerpts_queued']:,} excerpts queued; masks {found['masks']}"
    )
    print(f"- machine: {machine()}")
    print(f"- {load_at_start} at the start, {load_average()} at the end (above the core count, other work shared it)")
    print(f"- packages: {', '.join(f'{k} {v}' for k, v in analyse.package_versions().items())}")
    print()
    print("### Steps (the flow's task functions via .fn, no Prefect run, fresh embedding cache)")
    print()
    print(steps.table())
    total = sum(m.seconds for name, m in steps.measures.items() if not name.startswith(("warm-up", "load")))
    print(f"\nsum of the steps (without warm-up and loads): {total:.1f} s, {_rate(n, total)} answers/s")
    if bertopic is not None:
        bt = comparison.measures["BERTopic() defaults: fit_transform"]
        print()
        print("### Theme step: Verbatim vs BERTopic defaults (same excerpts, same USE embeddings)")
        print()
        queued = float((model.labels == -1).mean())
        rows = [
            [
                "Verbatim themes_task", f"{verbatim_themes.seconds:.1f}", _mib(verbatim_themes.memory.peak_mib),
                str(len(model.themes)), f"{100 * queued:.1f}%",
            ],
            [
                "BERTopic() defaults", f"{bt.seconds:.1f}", _mib(bt.memory.peak_mib), str(bertopic["themes"]),
                f"{100 * bertopic['outliers']:.1f}%",
            ],
        ]  # fmt: skip
        header = ["model", "seconds", "peak RSS (MiB)", "themes", "excerpts queued / outliers"]
        print(markdown_table(header, rows))
        print(
            f"\nBERTopic / Verbatim: time {bt.seconds / verbatim_themes.seconds:.2f}×, "
            f"peak RSS {bt.memory.peak_mib / verbatim_themes.memory.peak_mib:.2f}× "
            f"(RSS before: Verbatim {_mib(verbatim_themes.memory.start_mib)}, BERTopic {_mib(bt.memory.start_mib)} MiB)"
        )
    if flow is not None:
        print()
        print("### End to end: analyse_survey(config) under a Prefect test server")
        print()
        print(flow_steps.table())
        first = flow_steps.measures["analyse_survey: 1st run (fresh cache)"].seconds
        second = flow_steps.measures["analyse_survey: 2nd run (cache reused)"].seconds
        print(
            f"\nfirst / second run: {first / second:.2f}×; first run minus the sum of the steps (models already "
            f"loaded, numba warm): {first - total:+.1f} s; same files on re-run (apart from run_id): "
            f"{'yes' if flow['same'] else 'NO'}; same counts as the steps: "
            f"{'yes' if flow['counts'] == counts else 'NO'}"
        )
    print(f"\nbenchmark total: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
