"""Heavy imports made lighter: BERTopic without Hugging Face's transformers, spaCy without torch and its 2 s regex.

**BERTopic**, without the part of its import that Verbatim never uses.

``import bertopic`` imports its optional backends and representations when their packages are installed:
sentence-transformers (for its multimodal backend) and transformers (for its text-generation and zero-shot
representations) come with it, 1.7 s of processor time in a process that has already imported spaCy, torch, UMAP and
HDBSCAN (2.1 s against 0.4 s), in every run that fits themes. Verbatim gives BERTopic its clusters, its vectoriser and
its c-TF-IDF; it never asks it for an embedding model or a generated label. BERTopic catches ``ModuleNotFoundError``
for each optional part and leaves it "not installed", so :func:`import_bertopic` imports it with both packages hidden
(and torch, which it imports only to save a model), then shows them again: a later ``import sentence_transformers``
(an ``st:`` encoder) imports it as usual.

Hiding a package is seen by every thread of the process, so :func:`import_sentence_transformers`,
:func:`import_bertopic` and :func:`import_spacy` hold one lock: an ``st:`` encoder loading in one thread while BERTopic
imports in another waits instead of finding its package missing.

**spaCy** pulls in torch through thinc (1 s of processor time), for transformer pipelines and PyTorch layers that
the French pipelines do not have, and its French language (``spacy.lang.fr``) compiles a regular expression of 1.45
million characters (2 s): in every process that splits, pseudonymises or labels, the command's and each worker's.
:func:`import_spacy` imports spaCy with torch hidden and the French language with that compile kept on disk
(:mod:`verbatim.nlp.regex_cache`). Verbatim's modules import spaCy through it (its types for annotations only), so
that it is the first import of spaCy in the process; torch still imports for whoever asks for it afterwards (an
``st:`` encoder), and thinc then simply does not use it.
"""

from __future__ import annotations

import functools
import importlib.abc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

#: Packages BERTopic imports for parts Verbatim does not use (torch: to save a model in PyTorch's format).
UNUSED_BY_BERTOPIC = ("sentence_transformers", "transformers", "torch")
#: What spaCy's import pulls in for pipelines Verbatim does not use: thinc imports torch when it is installed, for
#: transformer pipelines and PyTorch layers; the French pipelines are thinc's own networks on numpy.
UNUSED_BY_SPACY = ("torch",)

_LOCK = threading.Lock()


def import_bertopic() -> ModuleType:
    """``bertopic``, imported (once per process) without the packages of :data:`UNUSED_BY_BERTOPIC` that are not
    imported yet."""
    with _LOCK:
        if "bertopic" in sys.modules:
            return sys.modules["bertopic"]
        with _hidden(UNUSED_BY_BERTOPIC):
            import bertopic
        return bertopic


class _Hide(importlib.abc.MetaPathFinder):
    """An import finder that answers "not installed" for its packages, before the finders that would find them."""

    def __init__(self, names: list[str]) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


@contextmanager
def _hidden(names: tuple[str, ...]) -> Iterator[None]:
    """Within this block, ``import name`` raises ``ModuleNotFoundError`` for each of ``names`` not imported yet.
    (Not ``sys.modules[name] = None``: libraries look modules up there, scipy's array API checks ``torch``.)"""
    finder = _Hide([name for name in names if name not in sys.modules])
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


@functools.cache
def import_spacy() -> ModuleType:
    """``spacy``, imported (once per process) without :data:`UNUSED_BY_SPACY`, and its French language with the
    tokenizer exceptions' pattern read from the compiled-regex cache once it is there. Later calls return at once,
    without the lock (which BERTopic's import holds for a second in another thread)."""
    from verbatim.nlp.regex_cache import kept_compiles

    with _LOCK:  # a package is hidden from every thread: only while spaCy is not imported yet
        if "spacy" not in sys.modules:
            with _hidden(UNUSED_BY_SPACY):
                import spacy
        if "spacy.lang.fr" not in sys.modules:
            with kept_compiles():
                import spacy.lang.fr  # noqa: F401
        return sys.modules["spacy"]


def import_french() -> ModuleType:
    """``spacy.lang.fr`` (its stop words), through :func:`import_spacy`."""
    return import_spacy().lang.fr


def import_sentence_transformers() -> ModuleType:
    """``sentence_transformers``, never while :func:`import_bertopic` hides it."""
    with _LOCK:
        import sentence_transformers

        return sentence_transformers
