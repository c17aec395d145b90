"""What the specificities cost a theme's page on a large question: 20,000 answers (40,000 excerpts) in 15 themes,
respondents with three attributes (profession, structure, region), in a SQLite store.

Run from the repository root: ``python bench/theme_page_speed.py`` (``make bench-theme-page``). Prints the median of
5 timings of the question's specificities: computed (what every view of a theme's page paid before the cache), read
from the cache (the next views, until a decision), and after a decision (computed once again)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.records import Answer, AnswerStatus, Coding, Excerpt, Respondent, Theme
from verbatim.models.review import DecisionKind
from verbatim.models.store import Store
from verbatim.web.data import ReviewData, specificities_at

ANSWERS = 20_000
THEMES = 15
PROFESSIONS = ["CESF", "aide à domicile", "assistante sociale", "éducatrice", "conseillère", "cadre", "autre"]
STRUCTURES = ["CCAS", "association", "département", "CAF", "hôpital"]
REGIONS = ["Bretagne", "Occitanie", "Grand Est", "Île-de-France", "Hauts-de-France", "Normandie", "PACA", "Corse"]


def build(store: Store) -> None:
    rng = np.random.default_rng(1)
    respondents, answers, excerpts, codings = [], [], [], []
    for i in range(ANSWERS):
        rid = f"R{i:06d}"
        attributes = {"profession": PROFESSIONS[rng.integers(len(PROFESSIONS))],
                      "structure": STRUCTURES[rng.integers(len(STRUCTURES))],
                      "region": REGIONS[rng.integers(len(REGIONS))]}  # fmt: skip
        respondents.append(Respondent(respondent_id=rid, row=i + 1, attributes=attributes))
        text = f"Réponse {i} : les logiciels changent trop souvent. Et la formation manque."
        answers.append(Answer(question="q", respondent_id=rid, row=i + 1, text=text, status=AnswerStatus.CODED))
        for k, (start, end) in enumerate(((0, 50), (51, len(text)))):
            eid = f"Q1-{rid}-{k:02d}"
            excerpts.append(Excerpt(excerpt_id=eid, question="q", respondent_id=rid, start=start, end=end,
                                    text=text[start:end], lemmas=("logiciel", "formation")))  # fmt: skip
            theme = int(rng.integers(-1, THEMES))
            codings.append(Coding(excerpt_id=eid, theme_id=theme, score=0.8))
    themes = [Theme(question="q", theme_id=t, label=f"Thème {t}", description="", keywords=(), n_excerpts=0,
                    n_respondents=0, representative_excerpt_ids=()) for t in range(THEMES)]  # fmt: skip
    manifest = {"input": {"file_name": "big.csv", "sha256": "0" * 64},
                "parameters": {"seed": 1, "attributes": ["profession", "structure", "region"]},
                "encoder": {"id": "x"}}  # fmt: skip
    store.save_run("big", manifest, respondents, answers, {}, excerpts, themes, codings)


def median_ms(work: Callable[[], object], times: int = 5) -> float:
    timings = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'big.db'}")
        started = time.perf_counter()
        build(store)
        print(f"{ANSWERS:,} answers, {2 * ANSWERS:,} excerpts stored in {time.perf_counter() - started:.0f} s")
        data = ReviewData(store)
        log = DecisionLog(store)
        log.add_user("bench", Role.RESEARCHER, "x")
        cells = data.specificities("big", "q")
        print(f"{len(cells)} cells (theme x attribute value)")

        def computed() -> object:
            specificities_at.cache_clear()
            return data.specificities("big", "q")

        print(f"{'specificities of the question':<40} {'median ms':>10}")
        print(f"{'computed (load_run + tests)':<40} {median_ms(computed):>10.0f}")
        data.specificities("big", "q")
        print(f"{'from the cache':<40} {median_ms(lambda: data.specificities('big', 'q')):>10.0f}")
        excerpt = "Q1-R000000-00"

        def after_a_decision() -> object:
            log.decide("big", "q", DecisionKind.RECODE, "bench", excerpt_id=excerpt, theme_id=None, to_theme_id=1)
            return data.specificities("big", "q")

        print(f"{'after a decision (computed again)':<40} {median_ms(after_a_decision):>10.0f}")


if __name__ == "__main__":
    main()
