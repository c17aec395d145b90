"""The pipelines Verbatim loads give spaCy's own lemmas, with the lemmatizer's index of known lemmas as sets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from verbatim.nlp.heavy_imports import import_spacy
from verbatim.nlp.spacy_pipeline import DEFAULT_MODEL, load_pipeline

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_survey.csv"


def _answers() -> list[str]:
    table = pd.read_csv(SAMPLE, sep=None, engine="python", dtype=str, keep_default_na=False)
    answers = [a for column in ("difficultes", "idees") for a in table[column] if a.strip()]
    # Words the index lists and words it does not (rules, exceptions, the lookup table), in every part of speech.
    return [*answers, "Les usagers étaient perdus, ils se sont plaints des démarches dématérialisées.", "Fermé."]


def test_lemmas_are_spacy_s_own() -> None:
    """Every token of the sample survey's 840 answers gets the lemma and part of speech that spaCy's pipeline, loaded
    as it ships, gives it; ours scans no list for it."""
    texts = _answers()
    ours = load_pipeline("analyse")
    stock = import_spacy().load(DEFAULT_MODEL, exclude=["parser", "ner"])
    stock.enable_pipe("senter")
    index = ours.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    stock_index = stock.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    assert len(index) == len(stock_index) >= 4
    assert all(isinstance(index[key], frozenset) for key in index)
    assert all(set(index[key]) == set(stock_index[key]) for key in stock_index)

    def lemmas(nlp: object) -> list[list[tuple[str, str, str]]]:
        return [[(t.text, t.pos_, t.lemma_) for t in doc] for doc in nlp.pipe(texts)]  # type: ignore[attr-defined]

    seen, expected = lemmas(ours), lemmas(stock)
    assert sum(len(doc) for doc in seen) > 10_000
    assert seen == expected
