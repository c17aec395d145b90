"""Search speed on a run the size of a large survey: 100,000 answers, 200,000 excerpts (the sample survey's excerpt
texts repeated under new ids), in a SQLite store (and a PostgreSQL one with ``--postgres URL``).

Run from the repository root: ``python bench/search_speed.py`` (``make bench-search``). Prints, per query, the
hits and the median of 5 timings of the store's search (words as written, then lemmas) with the texts of the first
500 hits (the concordance page shown), through the index and, as the baseline run beside it, by a scan of the run's
excerpts (SQLite; on PostgreSQL both columns use the trigram indexes). Goal: under 300 ms."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from verbatim.models.records import Answer, AnswerStatus, Excerpt, Respondent, Theme
from verbatim.models.search import excerpt_texts, search_lemmas, search_words
from verbatim.models.store import Store

ANSWERS = 100_000
QUERIES = ["formation", "messagerie sécurisée", "numéri*", "mot de passe", "zzzz introuvable"]
LEMMAS = [["former"], ["logiciel", "métier"]]
SHOWN = 500  # concordance lines on the search page


def build(store: Store) -> None:
    sample = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "sample_survey.csv", sep=";", dtype=str,
                         keep_default_na=False)  # fmt: skip
    texts = [t for t in sample["difficultes"].tolist() + sample["idees"].tolist() if len(t.split()) >= 3]
    words = [" ".join(w.lower().strip(".,;:!?") for w in t.split() if len(w) > 3) for t in texts]
    respondents, answers, excerpts = [], [], []
    for i in range(ANSWERS):
        rid = f"R{i:06d}"
        respondents.append(Respondent(respondent_id=rid, row=i + 1, attributes={}))
        text = texts[i % len(texts)]
        answers.append(Answer(question="q", respondent_id=rid, row=i + 1, text=text, status=AnswerStatus.CODED))
        for k in range(2):
            lemmas = tuple(words[(i + k) % len(words)].split())
            excerpts.append(Excerpt(excerpt_id=f"Q1-{rid}-{k:02d}", question="q", respondent_id=rid, start=0,
                                    end=len(text), text=texts[(i + k) % len(texts)], lemmas=lemmas))  # fmt: skip
    theme = Theme(question="q", theme_id=0, label="T", description="", keywords=(), n_excerpts=0, n_respondents=0,
                  representative_excerpt_ids=())  # fmt: skip
    manifest = {
        "input": {"file_name": "big.csv", "sha256": "0" * 64},
        "parameters": {"seed": 1},
        "encoder": {"id": "x"},
    }
    store.save_run("big", manifest, respondents, answers, {}, excerpts, [theme], [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="a PostgreSQL URL (an empty database) to measure as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        stores = {"sqlite": Store(f"sqlite:///{Path(folder) / 'big.db'}")}
        if args.postgres:
            stores["postgresql"] = Store(args.postgres)
        for name, store in stores.items():
            started = time.perf_counter()
            build(store)
            print(
                f"{name}: {ANSWERS:,} answers, {2 * ANSWERS:,} excerpts stored in {time.perf_counter() - started:.0f} s"
            )
            print(f"{'query':<28} {'hits':>7} {'scan ms':>8} {'index ms':>9} {'ratio':>6}")
            for query in QUERIES + LEMMAS:
                n, scan = measure(store, query, indexed=False)
                n_indexed, indexed = measure(store, query, indexed=True)
                assert n == n_indexed, f"{query}: {n} hits by a scan, {n_indexed} with the index"
                label = f"lemmes {' '.join(query)}" if isinstance(query, list) else query
                print(f"{label:<28} {n:>7,} {scan:>8.0f} {indexed:>9.0f} {scan / max(indexed, 0.5):>5.1f}x")


def measure(store: Store, query: str | list[str], indexed: bool) -> tuple[int, float]:
    """Hits and the median of 5 timings of a search and the texts of its first SHOWN hits; ``indexed=False``:
    without SQLite's full-text index (on PostgreSQL both use the trigram indexes, when there)."""
    timings, n = [], 0
    for _ in range(5):
        t0 = time.perf_counter()
        if isinstance(query, list):
            hits = search_lemmas(store, "big", query, indexed=indexed)
        else:
            hits = search_words(store, "big", query, indexed=indexed)
        excerpt_texts(store, "big", [h.excerpt_id for h in hits[:SHOWN]])
        timings.append((time.perf_counter() - t0) * 1000)
        n = len(hits)
    return n, statistics.median(timings)


if __name__ == "__main__":
    main()
