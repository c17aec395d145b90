"""The heavy maps of the flows: pseudonymise, split into excerpts with lemmas, embed; batch by batch.

Each map sends its batches to the flow's task runner: one process, or the workers of a Dask cluster. This module is
what a worker imports to run them, so it imports only what they need (spaCy, the encoder, the records), not the
theme model and its libraries: a worker starts in seconds.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np
from prefect import get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from verbatim.flows.assemble import build_excerpts
from verbatim.flows.config import AnalyseConfig
from verbatim.models.bulk import chunks
from verbatim.models.records import Answer, Excerpt
from verbatim.nlp.cache import ValueCache, text_key
from verbatim.nlp.encoders import EmbeddingCache, embed, make_encoder
from verbatim.nlp.excerpts import ExcerptSplitter, SegmentCache
from verbatim.nlp.pseudonymise import MaskCache, Pseudonymiser, PseudonymiserConfig


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "-"


batches = chunks  # the answers of a run in batches of ``batch_size``

P = TypeVar("P")
R = TypeVar("R")


class Parcel(Generic[P]):
    """A batch of records (answers, texts) sent to a task as one opaque value. Prefect visits a task's parameters for
    futures and Dask hashes them to name the task: both open every field of every record (5,000 ``Answer`` models a
    batch), which took the flow's process 1.3 of the 1.8 s it spent sending the split batches of 20,000 answers
    (py-spy), while the workers waited for their first one. Prefect does not open an object it does not know, and a
    parcel's token for Dask is drawn once: it is only pickled, to travel."""

    __slots__ = ("_token", "items")

    def __init__(self, items: list[P]) -> None:
        self.items = items
        self._token = uuid.uuid4().hex

    def __dask_tokenize__(self) -> str:
        return self._token


def map_parts(
    parts: list[P], cached: Callable[[P], bool], submit: Callable[[P], PrefectFuture[R]], here: Callable[[P], R]
) -> Iterator[R]:
    """The result of each part, in order: parts whose every result the cache holds run ``here``, in the flow's own
    process, while the others are ``submit``-ted to the task runner. A re-run whose batches are all cached sends
    nothing to the workers, and does not wait for them to start (their imports and models: about 15 s)."""
    futures = [None if cached(part) else submit(part) for part in parts]
    for part, future in zip(parts, futures, strict=True):
        yield here(part) if future is None else future.result()


def stored_keys(cache: ValueCache, namespace: str, texts: Sequence[str]) -> set[bytes]:
    """The hashes of those ``texts`` whose values ``cache`` holds under ``namespace``."""
    try:
        return cache.stored(namespace, [text_key(t) for t in texts])
    finally:
        cache.close()


def make_pseudonymiser(config: AnalyseConfig) -> Pseudonymiser:
    settings = config.pseudonymisation
    return Pseudonymiser(
        PseudonymiserConfig(
            categories=frozenset(settings.categories),
            extra_names=tuple(settings.extra_names),
            never_mask=tuple(settings.never_mask),
        )
    )


@task(name="pseudonymise batch", cache_policy=NO_CACHE)
def pseudonymise_batch_task(parcel: Parcel[str], config: AnalyseConfig) -> tuple[list[str], dict[str, int]]:
    """Mask personal data in a batch of answer texts; returns the masked texts and mask counts per category."""
    texts = parcel.items
    pseudonymiser = make_pseudonymiser(config)
    cache = MaskCache(config.cache_dir / "masks.sqlite")
    started = time.perf_counter()
    try:
        masked = pseudonymiser.mask_cached(texts, cache)
    finally:
        cache.close()
    counts: Counter[str] = Counter()
    for result in masked:
        counts.update(result.counts)
    elapsed = time.perf_counter() - started
    get_run_logger().info("pseudonymised %d answers in %.1fs (%s)", len(texts), elapsed, rate(len(texts), elapsed))
    return [m.text for m in masked], dict(counts)


def with_masked_texts(
    answers: list[Answer], results: Iterable[tuple[list[str], dict[str, int]]]
) -> tuple[list[Answer], dict[str, int]]:
    """The answers with the masked texts of the batches put back (answers to analyse, in order), and the mask
    counts added up."""
    todo = [a for a in answers if a.status is None]
    texts: list[str] = []
    counts: Counter[str] = Counter()
    for batch_texts, batch_counts in results:
        texts.extend(batch_texts)
        counts.update(batch_counts)
    by_key = {(a.question, a.respondent_id): t for a, t in zip(todo, texts, strict=True)}
    out = [
        a if a.status is not None else a.model_copy(update={"text": by_key[(a.question, a.respondent_id)]})
        for a in answers
    ]
    return out, dict(counts)


def pseudonymise_answers(answers: list[Answer], config: AnalyseConfig) -> tuple[list[Answer], dict[str, int]]:
    """Mask personal data in every answer to analyse, in batches; rejected answers are left as they are.

    A plain function mapping tasks, not a subflow: a subflow's parameters are stored by Prefect, and answers
    must never be stored before they are masked.
    """
    todo = [a.text for a in answers if a.status is None]
    cache = MaskCache(config.cache_dir / "masks.sqlite")
    known = stored_keys(cache, make_pseudonymiser(config).cache_namespace, todo)
    results = map_parts(
        batches(todo, config.batch_size),
        lambda part: all(text_key(t) in known for t in part),
        lambda part: pseudonymise_batch_task.submit(Parcel(part), config),
        lambda part: pseudonymise_batch_task.fn(Parcel(part), config),
    )
    out, counts = with_masked_texts(answers, results)
    get_run_logger().info(
        "pseudonymised %d answers: %s",
        len(todo), ", ".join(f"{n} {c}" for c, n in sorted(counts.items()) if n) or "nothing to mask",
    )  # fmt: skip
    return out, counts


@task(name="split into excerpts", cache_policy=NO_CACHE)
def split_task(
    question_index: int, parcel: Parcel[Answer], config: AnalyseConfig
) -> tuple[list[Excerpt], list[Answer]]:
    """Excerpts with lemmas of a batch of answers; answers left with no text come back rejected."""
    logger = get_run_logger()
    answers = parcel.items
    # On a Dask cluster each worker is one process: spaCy's own processes are for local runs.
    n_process = 1 if config.dask_address else config.n_process
    splitter = ExcerptSplitter(min_words=config.min_words, n_process=n_process)
    cache = SegmentCache(config.cache_dir / "segments.sqlite")
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done == 0:
            logger.info("%d of %d answers to split, the others are cached or repeated", total, len(answers))
        elif done % 2000 < 1000 or done == total:
            logger.info("split %d/%d new answers (%s)", done, total, rate(done, time.perf_counter() - started))

    try:
        segments = splitter.split_cached([a.text for a in answers], cache, progress)
    finally:
        cache.close()
    excerpts, no_text = build_excerpts(question_index, answers, segments)
    elapsed = time.perf_counter() - started
    logger.info(
        "%d answers -> %d excerpts with lemmas in %.1fs (%s); %d answers with no text",
        len(answers), len(excerpts), elapsed, rate(len(answers), elapsed), len(no_text),
    )  # fmt: skip
    return excerpts, no_text


@task(name="embed excerpts", cache_policy=NO_CACHE)
def embed_task(parcel: Parcel[str], config: AnalyseConfig) -> np.ndarray:
    logger = get_run_logger()
    texts = parcel.items
    encoder = make_encoder(config.encoder)
    cache = EmbeddingCache(config.cache_dir / "embeddings.sqlite")
    started = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - last[0] > 10:
            last[0] = now
            logger.info("embedded %d/%d new texts (%s)", done, total, rate(done, now - started))

    try:
        vectors = embed(texts, encoder, cache, progress=progress)
    finally:
        cache.close()
    logger.info("%d excerpts embedded with %s in %.1fs", len(texts), encoder.encoder_id, time.perf_counter() - started)
    return vectors


def split_answers(
    question_index: int, answers: list[Answer], config: AnalyseConfig
) -> tuple[list[Excerpt], list[Answer]]:
    """Excerpts with lemmas of one question's answers, batch by batch (a map over the task runner)."""
    cache = SegmentCache(config.cache_dir / "segments.sqlite")
    namespace = ExcerptSplitter(min_words=config.min_words).cache_namespace
    known = stored_keys(cache, namespace, [a.text for a in answers])
    split = map_parts(
        batches(answers, config.batch_size),
        lambda part: all(text_key(a.text) in known for a in part),
        lambda part: split_task.submit(question_index, Parcel(part), config),
        lambda part: split_task.fn(question_index, Parcel(part), config),
    )
    excerpts: list[Excerpt] = []
    no_text: list[Answer] = []
    for batch_excerpts, batch_no_text in split:
        excerpts.extend(batch_excerpts)
        no_text.extend(batch_no_text)
    return excerpts, no_text


def embed_excerpts(
    excerpts: list[Excerpt], config: AnalyseConfig, while_embedding: Callable[[], None] | None = None
) -> np.ndarray:
    """One vector per excerpt: those the cache holds when the step starts, and the others, each distinct text once,
    batch by batch (a map over the task runner). ``while_embedding`` is called once the batches are sent, when there
    are new texts (new vectors: the question's themes will be fitted, not read from a cache).

    The cache is read once, here, before any batch is sent: which texts are embedded, and in which batches, then
    depends on the excerpts and the cache as the run found it, not on which task finishes first. A text's vector
    moves with the other texts of its encoder batch (rounding, see ``verbatim.nlp.encoders``), so every runner (one
    process, Dask workers) gives the same vectors, and the same themes."""
    texts = [e.text for e in excerpts]
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    rows_of: dict[bytes, list[int]] = {}  # each distinct text's rows, in the order texts first appear
    for row, text in enumerate(texts):
        rows_of.setdefault(text_key(text), []).append(row)
    cache = EmbeddingCache(config.cache_dir / "embeddings.sqlite")
    try:
        known = cache.get(make_encoder(config.encoder).encoder_id, list(rows_of))
    finally:
        cache.close()
    vectors = RowFiller(rows_of)
    vectors.fill(list(known), list(known.values()))
    todo = [(key, texts[rows[0]]) for key, rows in rows_of.items() if key not in known]
    del known
    # Parts of half a batch: an excerpt embeds about three times faster than an answer is split, and with parts this
    # small the workers end together (24,718 excerpts in parts of 20,000 and 4,718 left one worker idle 37 s).
    parts = batches(todo, config.batch_size // 2)  # batch_size >= 100
    futures: list[Any] = []
    if parts:  # all cached: nothing to send
        futures = list(embed_task.map([Parcel([text for _, text in part]) for part in parts], unmapped(config)))
        if while_embedding is not None:
            while_embedding()
    for i, part in enumerate(parts):
        vectors.fill([key for key, _ in part], futures[i].result())
        futures[i] = None  # each batch's vectors are let go once copied into their rows
    return vectors.matrix()


class RowFiller:
    """The matrix of one vector per row, filled as vectors come (from the cache, then batch by batch): each
    distinct text's vector is copied into its rows at once, so that the vectors are held once, not also in a
    dictionary beside the matrix (1 GiB at 500,000 excerpts)."""

    def __init__(self, rows_of: dict[bytes, list[int]]) -> None:
        self.rows_of = rows_of
        self.n_rows = sum(len(rows) for rows in rows_of.values())
        self._matrix: np.ndarray | None = None
        self._filled = 0

    def fill(self, keys: Sequence[bytes], vectors: Sequence[np.ndarray] | np.ndarray) -> None:
        for key, vector in zip(keys, vectors, strict=True):
            if self._matrix is None:  # the encoder's dimension: from the first vector
                self._matrix = np.empty((self.n_rows, len(vector)), dtype=np.float32)
            rows = self.rows_of[key]
            self._matrix[rows] = vector
            self._filled += len(rows)

    def matrix(self) -> np.ndarray:
        if self._matrix is None or self._filled != self.n_rows:
            raise RuntimeError(f"{self._filled} of {self.n_rows} rows have a vector")
        return self._matrix
