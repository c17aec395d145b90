"""Search speed on a run the size of a large survey: 100,000 answers, 200,000 excerpts (the sample survey's excerpt
texts repeated under new ids, each respondent with the attributes of a sample respondent, each excerpt coded by the
machine), in a SQLite store and in a PostgreSQL one (a throwaway cluster with fsync on, like a server's, or
``--postgres URL``).

Run from the repository root: ``python bench/search_speed.py`` (``make bench-search``). Prints, per query, the
hits and the median of 5 timings of
- the store's search (words as written, then lemmas) with the texts of the first 500 hits, through the index and,
  as the baseline run beside it, by a scan of the run's excerpts (SQLite; on PostgreSQL both use the trigram
  indexes);
- the whole search as the page and ``GET /api/v1/runs/{run_id}/search`` make it (``run_search``): the hits, each
  with its theme and status, counted per theme and per attribute value, and the first 500 concordance lines.
The PostgreSQL store is measured at rest (``VACUUM ANALYZE`` after the load, as autovacuum does on a server).
Goal: under 300 ms."""

from __future__ import annotations

import argparse
import importlib
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import text as sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_average, machine

from tests.postgres import INSTALL_HINT, Cluster, find_bin_dir
from verbatim.models.decisions import DecisionLog, Role, User
from verbatim.models.records import Answer, AnswerStatus, Coding, Excerpt, Respondent, Theme
from verbatim.models.search import excerpt_texts, search_lemmas, search_words
from verbatim.models.store import Store
from verbatim.web.data import ReviewData, state_at
from verbatim.web.search import run_search

ANSWERS = 100_000
QUERIES = ["formation", "messagerie sécurisée", "numéri*", "mot de passe", "zzzz introuvable"]
LEMMAS = [["former"], ["logiciel", "métier"]]
SHOWN = 500  # concordance lines on the search page
THEMES = 12
ATTRIBUTES = ["profession", "structure", "region", "anciennete"]


def build(store: Store) -> None:
    sample = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "sample_survey.csv", sep=";", dtype=str,
                         keep_default_na=False)  # fmt: skip
    texts = [t for t in sample["difficultes"].tolist() + sample["idees"].tolist() if len(t.split()) >= 3]
    words = [" ".join(w.lower().strip(".,;:!?") for w in t.split() if len(w) > 3) for t in texts]
    people = sample[ATTRIBUTES].to_dict("records")
    respondents, answers, excerpts, codings = [], [], [], []
    for i in range(ANSWERS):
        rid = f"R{i:06d}"
        respondents.append(Respondent(respondent_id=rid, row=i + 1, attributes=people[i % len(people)]))
        text = texts[i % len(texts)]
        answers.append(Answer(question="q", respondent_id=rid, row=i + 1, text=text, status=AnswerStatus.CODED))
        for k in range(2):
            lemmas = tuple(words[(i + k) % len(words)].split())
            excerpt_id = f"Q1-{rid}-{k:02d}"
            excerpts.append(Excerpt(excerpt_id=excerpt_id, question="q", respondent_id=rid, start=0,
                                    end=len(text), text=texts[(i + k) % len(texts)], lemmas=lemmas))  # fmt: skip
            theme_id = (i + k) % (THEMES + 1) - 1  # -1: the review queue
            codings.append(Coding(excerpt_id=excerpt_id, theme_id=theme_id, score=0.8))
    themes = [
        Theme(question="q", theme_id=t, label=f"Thème {t}", description="", keywords=(), n_excerpts=0,
              n_respondents=0, representative_excerpt_ids=())
        for t in range(THEMES)
    ]  # fmt: skip
    manifest = {
        "input": {"file_name": "big.csv", "sha256": "0" * 64},
        "parameters": {"seed": 1},
        "encoder": {"id": "x"},
    }
    store.save_run("big", manifest, respondents, answers, {}, excerpts, themes, codings)
    if store.engine.dialect.name == "postgresql":  # at rest, as autovacuum leaves a server's tables
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sql("VACUUM ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres", help="a PostgreSQL URL (an empty database) instead of a throwaway cluster")
    args = parser.parse_args()
    print(f"{machine()}; {load_average()} at the start")
    with tempfile.TemporaryDirectory() as folder:
        if args.backend in ("sqlite", "both"):
            bench("sqlite", Store(f"sqlite:///{Path(folder) / 'big.db'}"))
        if args.backend in ("postgresql", "both") and args.postgres:
            bench("postgresql", Store(args.postgres))
        elif args.backend in ("postgresql", "both") and find_bin_dir() is None:
            print(f"PostgreSQL skipped: {INSTALL_HINT}")
        elif args.backend in ("postgresql", "both"):
            cluster = Cluster(durable=True)
            try:
                bench("postgresql", Store(cluster.new_database()))
            finally:
                cluster.stop()
    print(f"{load_average()} at the end")


def bench(name: str, store: Store) -> None:
    started = time.perf_counter()
    build(store)
    print(f"{name}: {ANSWERS:,} answers, {2 * ANSWERS:,} excerpts stored in {time.perf_counter() - started:.0f} s")
    print(f"{'query':<28} {'hits':>7} {'scan ms':>8} {'index ms':>9} {'ratio':>6} {'page ms':>8}")
    data = ReviewData(store)
    for query in QUERIES + LEMMAS:
        n, scan = measure(store, query, indexed=False)
        n_indexed, indexed = measure(store, query, indexed=True)
        assert n == n_indexed, f"{query}: {n} hits by a scan, {n_indexed} with the index"
        n_page, page = measure_page(data, query)
        assert n_page == n, f"{query}: {n} hits in the store, {n_page} on the page"
        label = f"lemmes {' '.join(query)}" if isinstance(query, list) else query
        print(f"{label:<28} {n:>7,} {scan:>8.0f} {indexed:>9.0f} {scan / max(indexed, 0.5):>5.1f}x {page:>8.0f}")
    pages(store)
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        DecisionLog(store).state("big", "q")
        timings.append((time.perf_counter() - t0) * 1000)
    print(f"the question's state (200,000 codes), which the page reads: {statistics.median(timings):,.0f} ms to "
          "compute, once per decision, then kept (`state_at`): the page's timings read it kept")  # fmt: skip
    store.engine.dispose()


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


def pages(store: Store) -> None:
    """The run's pages in a logged-in client (FastAPI's TestClient, no network): the first view (the question's
    state computed) and the median of 5 next views (the state kept, as between two decisions)."""
    from fastapi.testclient import TestClient

    from verbatim.web.app import LATER_MODULES, create_app
    from verbatim.web.auth import hash_password

    for module in LATER_MODULES:  # as a worker that has served a while: its start imports these in the background,
        importlib.import_module(module)  # seconds of imports whose lock would stall the first pages measured
    password = secrets.token_urlsafe(12)
    DecisionLog(store).add_user("banc", Role.RESEARCHER, hash_password(password))
    state_at.cache_clear()
    with TestClient(create_app(store.url, secret=secrets.token_hex(16)), follow_redirects=False) as client:
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert csrf, "the login page carries a CSRF token"
        login = {"csrf": csrf.group(1), "name": "banc", "password": password, "next": "/"}
        assert client.post("/login", data=login).status_code == 303, "logged in"
        print(f"{'page':<44} {'first ms':>9} {'next ms':>8}")
        for label, path in (
            ("question (12 themes)", "/runs/big/q/1"),
            ("theme (16,000 excerpts, 20 a page)", "/runs/big/q/1/themes/0"),
            ("search formation", "/runs/big/search?q=formation"),
            ("search numéri*", "/runs/big/search?q=num%C3%A9ri*"),
        ):
            timings = []
            for _ in range(6):
                t0 = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            print(f"{label:<44} {timings[0]:>9,.0f} {statistics.median(timings[1:]):>8,.0f}")
            state_at.cache_clear()  # each page's first view computes the state, as after a decision


def measure_page(data: ReviewData, query: str | list[str]) -> tuple[int, float]:
    """Hits and the median of 5 timings of the search as the page and the API make it, for a researcher."""
    me = User("bench", Role.RESEARCHER, "")
    mode, words = ("lemmes", " ".join(query)) if isinstance(query, list) else ("mots", query)
    timings, n = [], 0
    for _ in range(5):
        t0 = time.perf_counter()
        n = run_search(data, "big", me, words, mode, shown=SHOWN).n
        timings.append((time.perf_counter() - t0) * 1000)
    return n, statistics.median(timings)


if __name__ == "__main__":
    main()
