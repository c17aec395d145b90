"""Small surveys are the normal case: 80 to 1,000 real answers give a sensible number of themes.

Real answers to one Grand Débat question (« Administration de la retraite », read by path from
``../shared/corpora/``), split, lemmatised and embedded as the flow does, then ``ThemeModel`` with its defaults.
Sensible means: more than one theme, no theme holding most of the excerpts, no swarm of tiny themes, and most
excerpts coded rather than queued.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CORPORA
from tests.excerpt_support import split_answers
from verbatim.nlp.clustering import QUEUE
from verbatim.nlp.themes import ThemeModel

pytestmark = pytest.mark.slow

GRAND_DEBAT = CORPORA / "granddebat" / "gd_answers_all_questions.csv.gz"


@pytest.fixture(scope="module")
def answers() -> list[str]:
    if not GRAND_DEBAT.exists():
        pytest.fail(f"the Grand Débat corpus is missing: expected {GRAND_DEBAT}", pytrace=False)
    data = pd.read_csv(GRAND_DEBAT, usecols=["theme", "csv_column", "answer"], dtype=str)
    data = data[(data["theme"] == "organisation") & (data["csv_column"] == "34")].dropna(subset=["answer"])
    data = data[data["answer"].str.split().str.len() > 2]  # placeholders ("RAS", "Non") are rejected at ingest
    return data.sample(1_000, random_state=0)["answer"].tolist()


@pytest.mark.parametrize("n_answers", [80, 300, 1_000])
def test_a_small_survey_gets_a_sensible_number_of_themes(  # type: ignore[no-untyped-def]
    answers: list[str], n_answers: int, splitter, use_encoder
) -> None:
    chosen = answers[:n_answers]
    data = split_answers(chosen, [str(a) for a in range(len(chosen))], splitter, use_encoder)
    model = ThemeModel(seed=42).fit(data.embeddings, data.lemmas, data.surfaces, data.texts, data.groups)
    sizes = sorted((len(t.members) for t in model.themes_), reverse=True)
    n = len(data.texts)
    assert 2 <= len(sizes) <= n / 15, sizes  # not one theme; not a swarm (60 themes of 3 excerpts)
    assert sizes[0] <= 0.5 * n, sizes
    assert min(sizes) >= 5, sizes
    assert np.mean(model.labels_ != QUEUE) >= 0.8
    assert len({t.label for t in model.themes_}) == len(sizes)  # each theme reads differently
