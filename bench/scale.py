"""Scale: the whole analyse_survey flow on 10,000, 100,000 and all 429,112 Grand Débat answers.

Run from the repository root: ``python bench/scale.py [--sizes 10000,100000,all] [--question KEY]``
(``make bench-scale``). Each size is a survey export of that many answers in one open-question column (answers of
all questions pooled, drawn with a fixed seed), analysed end to end into a fresh store and cache. Printed:

* per size and step (from the run manifest's ``timings``): seconds and peak memory (RSS of this process plus the
  unique memory of its child processes, sampled every 0.2 s), answers per second; total time and peak memory;
* how the time grows with the size (seconds per 1,000 answers should stay about constant);
* a first and a second run of ``--rerun-size`` answers (100,000) on the same file and a fresh cache (the second
  reuses the cached excerpts, lemmas and embeddings), step by step: the speed-up of a re-run;
* for the largest size above the theme sample size: agreement (ARI) between the run's themes (fitted on a sample,
  then assigned) and a full fit on a random subset of 20,000 of its excerpts, over those excerpts.

The heavy steps run as a user's run of a large file does by default: on a local Dask cluster that the flow starts
with one single-threaded worker per core (``--no-dask`` runs them in the flow's process instead, ``workers=1``).
Peak memory counts this process and its children: the workers and the Prefect server are children of this process.

Goals (issue 7): 100,000 answers in under 10 minutes and 6 GiB; all 429,112 in under 40 minutes and 12 GiB.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MIB, load_average, machine, markdown_table, nonempty_answers, pooled_export, sample_until

os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache" / "numba"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

# Verbatim is imported inside the functions: the local Dask workers re-import this script when they start (spawn),
# and should load only what their tasks need, as they do under the ``verbatim`` command.

SEED = 42
QUESTION = "reponse"


@dataclass
class MemoryTrace:
    """RSS of this process plus the USS of its children, sampled in the background with timestamps (every
    ``interval`` seconds or less often, see ``_common.sample_until``)."""

    interval: float = 0.2
    samples: list[tuple[float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _rss(self, process: psutil.Process) -> float:
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_full_info().uss
            except psutil.Error:
                continue
        return total / MIB

    def now(self) -> float:
        return self._rss(psutil.Process())

    def _run(self) -> None:
        process = psutil.Process()
        sample_until(self._stop, self.interval, lambda: self.samples.append((time.time(), self._rss(process))))

    def __enter__(self) -> MemoryTrace:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float | None = None, end: float | None = None) -> float:
        values = [m for t, m in self.samples if (start is None or t >= start) and (end is None or t <= end)]
        return max(values, default=float("nan"))


def _export(data: pd.DataFrame, n: int | None, folder: Path) -> Path:
    return pooled_export(data, n, folder, SEED, QUESTION)


def _run(survey: Path, work: Path, cache: Path, tag: str, workers: int | None) -> tuple[dict, float, MemoryTrace]:  # type: ignore[type-arg]
    from verbatim.flows.analyse import analyse_survey
    from verbatim.flows.config import AnalyseConfig

    config = AnalyseConfig(
        workers=workers,
        survey_file=survey,
        id_column="id",
        questions=[QUESTION],
        attributes=["theme"],
        out_dir=work / "runs",
        database_url=f"sqlite:///{work / f'{tag}.db'}",
        cache_dir=cache,
    )
    started = time.perf_counter()
    with MemoryTrace() as trace:
        result = analyse_survey(config)
    return result.manifest, time.perf_counter() - started, trace


def _agreement(manifest: dict, work: Path, tag: str, subset: int) -> float:  # type: ignore[type-arg]
    """ARI between the run's themes and a full fit on ``subset`` of its excerpts, over those excerpts."""
    from sklearn.metrics import adjusted_rand_score

    from verbatim.models.store import Store
    from verbatim.nlp.encoders import EmbeddingCache, embed, make_encoder
    from verbatim.nlp.sampling import sample_indices
    from verbatim.nlp.themes import ThemeModel

    store = Store(f"sqlite:///{work / f'{tag}.db'}")
    run_id = manifest["run_id"]
    excerpts = sorted(store.excerpts(run_id), key=lambda e: e.excerpt_id)
    codes = {c.excerpt_id: c.theme_id for c in store.machine_codings(run_id)}
    picked = sample_indices(len(excerpts), subset, SEED + 1)
    chosen = [excerpts[i] for i in picked]
    texts = [e.text for e in chosen]
    vectors = embed(texts, make_encoder("use"), EmbeddingCache(work / "cache" / "embeddings.sqlite"))
    lemmas = [tuple(e.lemmas.split()) for e in chosen]
    model = ThemeModel(seed=SEED).fit(vectors, lemmas, lemmas, texts, [e.respondent_id for e in chosen])
    run_labels = np.array([codes[e.excerpt_id] for e in chosen])
    return float(adjusted_rand_score(run_labels, model.labels_))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10000,100000,all", help="comma-separated sizes, 'all' for every answer ('' for none)"
    )
    parser.add_argument("--no-dask", action="store_true", help="run the heavy steps in the flow's process")
    parser.add_argument(
        "--rerun-size",
        type=int,
        default=100_000,
        help="answers of the cache re-run, a large survey (default 100000; 0: the first size)",
    )
    args = parser.parse_args()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):  # one Prefect server for every run
        _bench(args, 1 if args.no_dask else None)


def _bench(args: argparse.Namespace, workers: int | None) -> None:
    sizes = [None if s == "all" else int(s) for s in args.sizes.split(",") if s]

    where = "heavy steps in the flow's process" if workers == 1 else "heavy steps on the flow's local Dask cluster"
    print(f"# Verbatim scale benchmark\n\n{machine()}\n{load_average()}\n{where}\n")
    data = nonempty_answers()
    work = Path(tempfile.mkdtemp(prefix="verbatim-scale-"))
    # The survey files are written first and the corpus dropped, so that it does not count in the flow's memory.
    surveys = [_export(data, n, work) for n in sizes]
    del data
    gc.collect()
    print(f"memory before the first run (this process and its Prefect server): {MemoryTrace().now() / 1024:.2f} GiB\n")
    step_rows: list[list[str]] = []
    totals: list[list[str]] = []
    manifests = {}
    for survey in surveys:
        rows = sum(1 for _ in survey.open(encoding="utf-8")) - 1
        tag = f"n{rows}"
        manifest, seconds, trace = _run(survey, work, work / "cache", tag, workers)
        manifests[tag] = (manifest, rows)
        for step in manifest["timings"]:
            start = step["start"]
            peak = trace.peak(start, start + step["seconds"])
            rate = rows / step["seconds"] if step["seconds"] else float("nan")
            step_rows.append([f"{rows:,}", step["step"], f"{step['seconds']:.1f}", f"{peak:,.0f}", f"{rate:,.0f}"])
        c = manifest["counts"][QUESTION]
        totals.append(
            [f"{rows:,}", f"{seconds:.0f}", f"{seconds / rows * 1000:.2f}", f"{trace.peak() / 1024:.2f}",
             f"{rows / seconds:,.0f}", str(c["excerpts"]), str(c["themes"]), f"{c['coded'] / rows:.2f}"]
        )  # fmt: skip
        print(
            markdown_table(
                ["answers", "step", "seconds", "peak MiB", "answers/s"], step_rows[-len(manifest["timings"]) :]
            )
        )
        print(f"{rows:,} answers: {seconds:.0f} s end to end, peak {trace.peak() / 1024:.2f} GiB\n", flush=True)

    print("## Growth\n")
    print(
        markdown_table(
            ["answers", "seconds", "s per 1k answers", "peak GiB", "answers/s", "excerpts", "themes", "coded share"],
            totals,
        )
    )
    first = surveys[0] if not args.rerun_size else _export(nonempty_answers(), args.rerun_size, work)
    rows = sum(1 for _ in first.open(encoding="utf-8")) - 1
    cold_manifest, cold, _ = _run(first, work / "cold", work / "cold-cache", "cold", workers)
    warm_manifest, warm, _ = _run(first, work / "cold", work / "cold-cache", "warm", workers)
    print(f"\n## Re-run with the cache ({rows:,} answers)\n")
    steps = [
        [c["step"], f"{c['seconds']:.1f}", f"{w['seconds']:.1f}"]
        for c, w in zip(cold_manifest["timings"], warm_manifest["timings"], strict=True)
    ]
    print(markdown_table(["step", "first run s", "second run s"], steps))
    print(f"\nend to end: first {cold:.0f} s, second {warm:.0f} s: {cold / warm:.1f}x faster")
    largest = max(manifests, key=lambda k: manifests[k][1], default=None)
    manifest, rows = manifests[largest] if largest else ({}, 0)
    if largest and manifest["counts"][QUESTION]["granularity"].get("sample_size"):
        ari = _agreement(manifest, work, largest, 20_000)
        print(
            f"\n## Themes fitted on a sample ({rows:,} answers)\n\n"
            f"ARI with a full fit on 20,000 of its excerpts: {ari:.3f}"
        )
    print(f"\nRun folders and stores: {work}")
    (work / "manifests.json").write_text(json.dumps({k: v[0] for k, v in manifests.items()}, indent=1, default=str))


if __name__ == "__main__":
    main()
