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


def test_ner_and_analyse_share_one_vocabulary_and_give_spacy_s_own_results() -> None:
    """A worker loads the "ner" pipeline, then the "analyse" one, which reads no vocabulary of its own: the two share
    it, and give the entities, sentences and lemmas of the model loaded for each alone."""
    import importlib

    import verbatim.nlp.spacy_pipeline as pipeline

    importlib.reload(pipeline)  # a process that has loaded nothing yet
    texts = _answers()
    ner, analyse = pipeline.load_pipeline("ner"), pipeline.load_pipeline("analyse")
    assert ner.vocab is analyse.vocab
    assert ner.pipe_names == ["ner"] and "ner" not in analyse.pipe_names and "senter" in analyse.pipe_names
    spacy = import_spacy()
    others = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "senter"]
    stock_ner = spacy.load(DEFAULT_MODEL, exclude=others)
    stock_analyse = spacy.load(DEFAULT_MODEL, exclude=["parser", "ner"])
    stock_analyse.enable_pipe("senter")

    def entities(nlp: object) -> list[list[tuple[str, str, int]]]:
        return [[(e.text, e.label_, e.start_char) for e in doc.ents] for doc in nlp.pipe(texts)]  # type: ignore[attr-defined]

    def analysed(nlp: object) -> list[list[tuple[str, str, str, bool]]]:
        return [
            [(t.text, t.pos_, t.lemma_, bool(t.is_sent_start)) for t in doc]
            for doc in nlp.pipe(texts)  # type: ignore[attr-defined]
        ]

    seen_entities = entities(ner)
    assert sum(len(doc) for doc in seen_entities) > 100
    assert seen_entities == entities(stock_ner)
    assert analysed(analyse) == analysed(stock_analyse)
    assert pipeline.pipeline_id(ner) == pipeline.pipeline_id(stock_ner)  # the caches' keys do not move
