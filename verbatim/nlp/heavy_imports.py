"""BERTopic without Hugging Face's transformers: the part of its import that Verbatim never uses.

``import bertopic`` imports its optional backends and representations when their packages are installed:
sentence-transformers (for its multimodal backend) and transformers (for its text-generation and zero-shot
representations) come with it, 1.7 s of processor time in a process that has already imported spaCy, torch, UMAP and
HDBSCAN (2.1 s against 0.4 s), in every run that fits themes. Verbatim gives BERTopic its clusters, its vectoriser and
its c-TF-IDF; it never asks it for an embedding model or a generated label. BERTopic catches ``ModuleNotFoundError``
for each optional part and leaves it "not installed", so :func:`import_bertopic` imports it with both packages hidden
(``sys.modules[name] = None``), then shows them again: a later ``import sentence_transformers`` (an ``st:`` encoder)
imports it as usual.

Hiding a package is seen by every thread of the process, so :func:`import_sentence_transformers` and
:func:`import_bertopic` hold one lock: an ``st:`` encoder loading in one thread while BERTopic imports in another
waits instead of finding its package missing.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType

#: Packages BERTopic imports for parts Verbatim does not use.
UNUSED_BY_BERTOPIC = ("sentence_transformers", "transformers")

_LOCK = threading.Lock()


def import_bertopic() -> ModuleType:
    """``bertopic``, imported (once per process) without the packages of :data:`UNUSED_BY_BERTOPIC` that are not
    imported yet."""
    with _LOCK:
        if "bertopic" in sys.modules:
            return sys.modules["bertopic"]
        hidden = [name for name in UNUSED_BY_BERTOPIC if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # "import name" raises ModuleNotFoundError
        try:
            import bertopic
        finally:
            for name in hidden:
                if sys.modules.get(name, ...) is None:
                    del sys.modules[name]
        return bertopic


def import_sentence_transformers() -> ModuleType:
    """``sentence_transformers``, never while :func:`import_bertopic` hides it."""
    with _LOCK:
        import sentence_transformers

        return sentence_transformers
