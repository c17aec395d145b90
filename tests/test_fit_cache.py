"""Fitted themes kept on disk (``verbatim.nlp.fit_cache``), on the sample survey with the real encoder and spaCy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from verbatim.formats.survey import build_answers, read_survey
from verbatim.nlp.fit_cache import FitCache, fit_key, fit_themes_cached
from verbatim.nlp.themes import ThemeModel

from .conftest import SAMPLE
from .excerpt_support import Excerpts, split_answers

SAMPLE_SIZE = 400  # below the question's ~800 excerpts: the sampled path, with the placement of the others


@pytest.fixture(scope="module")
def idees(splitter, use_encoder) -> Excerpts:  # type: ignore[no-untyped-def]
    ingested = build_answers(read_survey(SAMPLE), "id", ["idees"], [])
    answers = [a for a in ingested.answers if a.status is None]
    return split_answers([a.text for a in answers], [a.respondent_id for a in answers], splitter, use_encoder)


def _inputs(data: Excerpts) -> tuple[np.ndarray, list[list[str]], list[list[str]], list[str], list[str]]:
    return (
        data.embeddings,
        [list(w) for w in data.lemmas],
        [list(w) for w in data.surfaces],
        list(data.texts),
        list(data.groups),
    )


def test_a_fit_read_from_the_cache_is_the_fit_itself(idees: Excerpts, tmp_path: Path) -> None:
    path = tmp_path / "themes.sqlite"
    cache = FitCache(path)
    first, cached = fit_themes_cached(ThemeModel(seed=7), _inputs(idees), SAMPLE_SIZE, cache)
    cache.close()
    assert not cached and first.sample_size == SAMPLE_SIZE < len(idees.texts)
    assert len(first.themes) >= 2 and first.families
    # Another process, another number of worker processes for the consensus: the same key, read back.
    again, cached = fit_themes_cached(ThemeModel(seed=7, jobs=2), _inputs(idees), SAMPLE_SIZE, FitCache(path))
    assert cached
    for name in ("labels", "scores", "runner_up"):
        stored, read = getattr(first, name), getattr(again, name)
        assert read.dtype == stored.dtype and np.array_equal(read, stored), name
    assert again.themes == first.themes
    assert again.families == first.families
    assert again.granularity == first.granularity
    assert again.sample_size == first.sample_size


def test_the_key_is_the_one_earlier_runs_stored_their_fits_under(idees: Excerpts) -> None:
    """The key hashes the inputs where they lie, without copies: the same bytes as the copies it hashed before (the
    vectors' bytes, the JSON texts of the lists), so a fit cached by an earlier version is still found. Texts with
    quotes, accents and a list without words check the JSON, item by item."""
    import hashlib
    import json

    from verbatim.nlp.fit_cache import NOT_IN_KEY

    vectors, lemmas, surfaces, texts, groups = _inputs(idees)
    lemmas[0] = []
    texts[1] = 'Il a dit "non" à l\'État, ça ; ok'
    model = ThemeModel(seed=7)
    params = {k: v for k, v in sorted(vars(model).items()) if not k.endswith("_") and k not in NOT_IN_KEY}
    copies = hashlib.sha256()
    copies.update(json.dumps({"model": params, "sample_size": SAMPLE_SIZE}, sort_keys=True).encode())
    copies.update(f"{vectors.shape}".encode())
    copies.update(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    for column in (lemmas, surfaces):
        copies.update(json.dumps([list(words) for words in column], ensure_ascii=False).encode())
    copies.update(json.dumps([list(texts), list(groups)], ensure_ascii=False).encode())
    assert fit_key(model, (vectors, lemmas, surfaces, texts, groups), SAMPLE_SIZE) == copies.digest()


def test_the_key_changes_with_whatever_the_fit_depends_on(idees: Excerpts) -> None:
    inputs = _inputs(idees)
    vectors, lemmas, surfaces, texts, groups = inputs
    base = fit_key(ThemeModel(seed=7), inputs, SAMPLE_SIZE)
    assert fit_key(ThemeModel(seed=7, jobs=4), inputs, SAMPLE_SIZE) == base
    nudged = vectors.copy()
    nudged[5, 0] += 1e-6  # a vector of another encoder batch moves by that much
    other_lemma = [*lemmas[:3], [*lemmas[3], "numérique"], *lemmas[4:]]
    other_group = [*groups[:-1], "R-9999"]
    changed = {
        "seed": fit_key(ThemeModel(seed=8), inputs, SAMPLE_SIZE),
        "min_cluster_size": fit_key(ThemeModel(seed=7, min_cluster_size=12), inputs, SAMPLE_SIZE),
        "sample size": fit_key(ThemeModel(seed=7), inputs, SAMPLE_SIZE + 1),
        "a vector": fit_key(ThemeModel(seed=7), (nudged, lemmas, surfaces, texts, groups), SAMPLE_SIZE),
        "a lemma": fit_key(ThemeModel(seed=7), (vectors, other_lemma, surfaces, texts, groups), SAMPLE_SIZE),
        "a surface": fit_key(ThemeModel(seed=7), (vectors, lemmas, other_lemma, texts, groups), SAMPLE_SIZE),
        "a text": fit_key(ThemeModel(seed=7), (vectors, lemmas, surfaces, [*texts[:-1], "autre"], groups), SAMPLE_SIZE),
        "a respondent": fit_key(ThemeModel(seed=7), (vectors, lemmas, surfaces, texts, other_group), SAMPLE_SIZE),
    }
    assert all(key != base for key in changed.values()), [name for name, key in changed.items() if key == base]
    assert len(set(changed.values())) == len(changed)


def test_a_fit_of_other_inputs_is_not_read(idees: Excerpts, tmp_path: Path) -> None:
    cache = FitCache(tmp_path / "themes.sqlite")
    inputs = _inputs(idees)
    n = len(idees.texts)
    first, _ = fit_themes_cached(ThemeModel(seed=7, min_cluster_size=10), inputs, n, cache)
    half = n // 2
    vectors, lemmas, surfaces, texts, groups = inputs
    halves = (vectors[:half], lemmas[:half], surfaces[:half], texts[:half], groups[:half])
    fitted, cached = fit_themes_cached(ThemeModel(seed=7, min_cluster_size=10), halves, n, cache)
    assert not cached and len(fitted.labels) == half < len(first.labels)
    again, cached = fit_themes_cached(ThemeModel(seed=7, min_cluster_size=10), inputs, n, cache)
    assert cached and np.array_equal(again.labels, first.labels), "both fits are kept"
