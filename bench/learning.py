"""Learning from decisions: how fast the machine's codes reach a researcher's, on labelled French corpora.

Run from the repository root: ``python bench/learning.py`` (``make bench-learning``). Corpora are read by path from
``../shared/corpora/`` (wikit, MEL, SIB-200), one text = one excerpt; lemmas and USE embeddings as in
``bench/theme_quality.py`` (cached under ``.cache/bench``).

A simulated researcher who knows the true labels:

1. runs the analysis: ``ThemeModel(seed=42)`` on the texts, the flow's code path (the first machine codes);
2. maps the true labels onto themes as a researcher would: each theme is renamed after the true label most of its
   excerpts carry, themes with the same majority label are merged, a theme is created for each label no theme
   stands for (it has no excerpt until one is recoded into it); queued excerpts stay queued;
3. reviews excerpts in batches of 5% of the corpus, recoding each with its true label, and the machine retrains
   after every batch (``CodeClassifier`` and ``training_set`` with the defaults of ``verbatim recode``: the reviewed
   excerpts, plus the analysis's codes of the others as weak evidence).

Printed per corpus, for the share reviewed: Cohen's kappa and accuracy between the machine's codes and the truth on
the excerpts *not yet reviewed* (a queued excerpt counts as a disagreement), and the share the machine codes
(coverage), for:

* **learning, review order**: batches chosen by ``rank_for_review`` (what the review app shows: least confident
  first, in turn across themes), the classifier retrained after each;
* **(a) no learning**: the first machine codes after the mapping, never retrained; batches in random order;
* **(b) learning, random order**: retrained after each batch, batches drawn at random.

A random order is one draw among many: the references (a) and (b) are the means over ``RANDOM_DRAWS`` seeded draws
(b's standard deviation of kappa is printed beside it), so the review order is compared with what random review
gives on average, not with one lucky or unlucky draw.

Options: ``--only wikit,mel``; ``--max-share 0.5`` (default 0.3).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from sklearn.metrics import accuracy_score, cohen_kappa_score  # noqa: E402
from theme_quality import LOADERS, Corpus, prepare, run_verbatim  # noqa: E402

from verbatim.models.machine_codes import ReviewCandidate, rank_for_review  # noqa: E402
from verbatim.nlp.learning import QUEUE, CodeClassifier, training_set  # noqa: E402

SEED = 42
STEP = 0.05
CORPORA = ("wikit", "mel", "sib200")
GOAL_KAPPA, GOAL_SHARE = 0.80, 0.15

warnings.filterwarnings("ignore")


@dataclass
class Point:
    share: float
    kappa: float
    accuracy: float
    coverage: float


def researcher_mapping(themes: np.ndarray, truth: np.ndarray) -> dict[int, int]:
    """Theme -> true label a researcher would give it: the majority label of its excerpts (merging themes that
    share one). Labels with no theme get a theme of their own, created empty."""
    mapping = {}
    for t in sorted(set(themes.tolist()) - {QUEUE}):
        counts = Counter(truth[themes == t].tolist())
        mapping[t] = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return mapping


def measure(share: float, codes: np.ndarray, truth: np.ndarray, reviewed: np.ndarray) -> Point:
    rest = ~reviewed
    pred, true = codes[rest], truth[rest]
    labels = sorted(set(true.tolist()) | set(pred.tolist()))
    kappa = float(cohen_kappa_score(true, pred, labels=labels))
    return Point(share, kappa, float(accuracy_score(true, pred)), float((pred != QUEUE).mean()))


RANDOM_DRAWS = 5


def simulate(
    embeddings: np.ndarray,
    truth: np.ndarray,
    first_codes: np.ndarray,
    first_scores: np.ndarray,
    strategy: str,
    max_share: float,
    draw: int = 0,
) -> list[Point]:
    """One review campaign: ``strategy`` is ``order`` (rank_for_review + learning), ``random`` (random batches +
    learning) or ``none`` (random batches, no learning)."""
    n = len(truth)
    batch = max(1, round(STEP * n))
    rng = np.random.default_rng(SEED + draw)
    random_order = rng.permutation(n)
    reviewed = np.zeros(n, dtype=bool)
    codes, scores = first_codes.copy(), first_scores.copy()
    points = [measure(0.0, codes, truth, reviewed)]
    ids = [f"{i:06d}" for i in range(n)]
    steps = round(max_share / STEP)
    for step in range(1, steps + 1):
        if strategy == "order":
            candidates = [ReviewCandidate(ids[i], int(codes[i]), float(scores[i])) for i in np.flatnonzero(~reviewed)]
            picked = [int(c.excerpt_id) for c in rank_for_review(candidates, batch)]
        else:
            picked = [int(i) for i in random_order if not reviewed[i]][:batch]
        reviewed[picked] = True
        if strategy != "none":
            train = np.flatnonzero(reviewed)
            weak = np.flatnonzero(~reviewed & (first_codes != QUEUE))  # the analysis's codes: weak evidence
            x, y, w = training_set(embeddings[train], truth[train], embeddings[weak], first_codes[weak])
            model = CodeClassifier(seed=SEED).fit(x, y, w)
            prediction = model.predict(embeddings)
            codes, scores = prediction.labels.copy(), prediction.scores.copy()
        points.append(measure(step * batch / n, codes, truth, reviewed))
    return points


def _mean(points: tuple[Point, ...]) -> Point:
    return Point(
        points[0].share,
        float(np.mean([p.kappa for p in points])),
        float(np.mean([p.accuracy for p in points])),
        float(np.mean([p.coverage for p in points])),
    )


def run_corpus(corpus: Corpus, max_share: float) -> tuple[dict[str, list[Point]], dict[str, float]]:
    started = time.perf_counter()
    prepare(corpus)
    assert corpus.embeddings is not None
    names = sorted(set(corpus.labels))
    truth = np.array([names.index(label) for label in corpus.labels], dtype=int)
    result, _model = run_verbatim(corpus, SEED)
    themes = np.asarray(result.labels, dtype=int)
    mapping = researcher_mapping(themes, truth)
    first = np.array([mapping.get(int(t), QUEUE) for t in themes], dtype=int)
    info = {
        "texts": len(truth),
        "labels": len(names),
        "themes": len(mapping),
        "labels_with_theme": len(set(mapping.values())),
        "queued": float((themes == QUEUE).mean()),
    }
    scores = np.asarray(_model.scores_, dtype=float)
    curves = {"order": simulate(corpus.embeddings, truth, first, scores, "order", max_share)}
    for strategy in ("none", "random"):
        draws = [
            simulate(corpus.embeddings, truth, first, scores, strategy, max_share, draw) for draw in range(RANDOM_DRAWS)
        ]
        curves[strategy] = [_mean(points) for points in zip(*draws, strict=True)]
        curves[f"{strategy}_sd"] = [
            Point(p[0].share, float(np.std([q.kappa for q in p])), 0.0, 0.0) for p in zip(*draws, strict=True)
        ]
    info["seconds"] = time.perf_counter() - started
    return curves, info


def print_curves(name: str, curves: dict[str, list[Point]], info: dict[str, float]) -> bool:
    print(
        f"\n## {name}: {info['texts']} texts, {info['labels']} labels; analysis: {info['themes']} themes standing for "
        f"{info['labels_with_theme']} labels, {info['queued']:.0%} queued ({info['seconds']:.0f}s)\n"
    )
    header = (
        "| reviewed | learning, review order: kappa / acc / coded | (a) no learning (mean) "
        f"| (b) learning, random order (mean of {RANDOM_DRAWS}) | (b) kappa sd |"
    )
    print(header)
    print("|---:|---|---|---|---:|")
    ok = True
    reached = None
    for i, point in enumerate(curves["order"]):
        a, b = curves["none"][i], curves["random"][i]
        cells = [f"{p.kappa:.3f} / {p.accuracy:.3f} / {p.coverage:.2f}" for p in (point, a, b)]
        print(f"| {point.share:.0%} | " + " | ".join(cells) + f" | {curves['random_sd'][i].kappa:.3f} |")
        if point.share > 0 and (point.kappa <= a.kappa or point.kappa <= b.kappa):
            ok = False
        if reached is None and point.kappa >= GOAL_KAPPA:
            reached = point.share
    goal = reached is not None and reached <= GOAL_SHARE + 1e-9
    where = "never" if reached is None else f"at {reached:.0%} reviewed"
    print(
        f"\nkappa >= {GOAL_KAPPA} on the unreviewed excerpts: {where} "
        f"({'goal met' if goal else 'GOAL MISSED'}: at most {GOAL_SHARE:.0%}); "
        f"above both references at every effort: {'yes' if ok else 'NO'}"
    )
    return goal and ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(CORPORA))
    parser.add_argument("--max-share", type=float, default=0.3)
    args = parser.parse_args()
    started = time.perf_counter()
    print("# Learning from decisions: kappa / accuracy / share coded, on the excerpts not yet reviewed")
    all_ok = True
    for name in args.only.split(","):
        curves, info = run_corpus(LOADERS[name](), args.max_share)
        all_ok &= print_curves(name, curves, info)
    print(f"\nAll goals met: {'yes' if all_ok else 'NO'}. Total {time.perf_counter() - started:.0f}s.")


if __name__ == "__main__":
    main()
