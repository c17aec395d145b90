"""One seeded fit of a question's themes: UMAP coordinates labelled by HDBSCAN with a choice of granularity.

What :mod:`verbatim.nlp.themes` runs once per seed of its consensus (the rules are in that module's docstring). It
imports UMAP, HDBSCAN and scikit-learn only, neither BERTopic nor spaCy, so that worker processes running fits in
parallel (:func:`labelled_fit`) start in about two seconds.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from verbatim.nlp.jit_cache import keep_compiled_code

if TYPE_CHECKING:  # UMAP (with numba and pynndescent) and HDBSCAN are imported by a fit, not before
    from umap import UMAP

QUEUE = -1
MIN_EXCERPTS_TO_CLUSTER = 10
#: Multiples of the rule's ``min_cluster_size`` among which the granularity is chosen (see the themes' rule).
SIZE_FACTORS = (1.0, 1.2, 1.4, 1.7, 2.0)
#: A size other than the rule's is chosen only when its separation is higher by more than this share.
RULE_MARGIN = 0.005
#: A candidate granularity whose largest theme holds more than this share of the clustered excerpts is not chosen.
MAX_THEME_SHARE = 0.5
#: A labelling cut below a theme that swallowed too much is kept when it clusters this share of what it clustered.
CUT_KEEPS = 0.75


def n_clusters(labels: np.ndarray) -> int:
    return len(set(labels.tolist()) - {QUEUE})


def largest_share(labels: np.ndarray) -> float:
    """Share of the clustered points held by the largest theme (0 when none is clustered)."""
    clustered = labels[labels != QUEUE]
    return float(np.bincount(clustered).max() / len(clustered)) if len(clustered) else 0.0


def separation(X: np.ndarray, labels: np.ndarray, seed: int = 0, max_points: int = 5_000) -> float:
    """How well HDBSCAN's themes stand apart, discounted by what it leaves out (see the module's rule).

    The silhouette of the clustered points in the reduced space, times the share of points clustered. Above
    ``max_points`` points the silhouette is estimated on a seeded sample of that many.
    """
    clustered = labels != QUEUE
    if n_clusters(labels) < 2 or clustered.sum() <= n_clusters(labels):
        return -1.0
    from sklearn.metrics import silhouette_score

    n = int(clustered.sum())
    sample = max_points if n > max_points else None
    score = float(silhouette_score(X[clustered], labels[clustered], sample_size=sample, random_state=seed))
    return score * float(clustered.mean())


class AdaptiveClusterer:
    """HDBSCAN with a choice of granularity and fallbacks, in the shape BERTopic expects (``fit`` sets ``labels_``).

    Each size of ``min_cluster_size`` (one or several) is tried, with ``min_samples`` or, when it is ``None``, a
    quarter of the size. The labelling with the best :func:`separation` wins (ties: the smaller size), except that
    the ``preferred`` size (the rule's) is kept unless another beats it by more than ``margin`` (relative), and that
    a size whose largest theme holds more than :data:`MAX_THEME_SHARE` of the clustered points is never chosen over
    it. ``selection_`` keeps each candidate's score, ``chosen_`` the ``(min_cluster_size, min_samples)`` used.
    """

    def __init__(
        self,
        min_cluster_size: int | Sequence[int],
        min_samples: int | None = None,
        min_themes: int = 2,
        max_agglomerative: int = 12,
        seed: int = 0,
        preferred: int | None = None,
        margin: float = RULE_MARGIN,
    ):
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.min_themes = min_themes
        self.max_agglomerative = max_agglomerative
        self.seed = seed
        self.preferred = preferred
        self.margin = margin

    def _sizes(self) -> list[int]:
        sizes = self.min_cluster_size
        return [int(sizes)] if isinstance(sizes, int) else [int(s) for s in sizes]

    def _hdbscan(self, X: np.ndarray, size: int, method: str, max_size: int = 0) -> tuple[np.ndarray, int]:
        n = len(X)
        size = min(size, max(2, n // 2))
        samples = min(self.min_samples if self.min_samples is not None else max(2, size // 4), size)
        from hdbscan import HDBSCAN

        model = HDBSCAN(
            min_cluster_size=size,
            min_samples=samples,
            cluster_selection_method=method,
            max_cluster_size=max_size,
            core_dist_n_jobs=1,
        )
        return np.asarray(model.fit(X).labels_, dtype=int), samples

    def _eom(self, X: np.ndarray, size: int) -> tuple[np.ndarray, int]:
        """HDBSCAN's "excess of mass" labelling at ``size``, unless it lets one theme swallow more than
        :data:`MAX_THEME_SHARE` of the clustered points: then the same tree is cut below that theme (HDBSCAN's
        ``max_cluster_size``), and the cut is kept when it still clusters :data:`CUT_KEEPS` of those points (a
        theme with no sub-themes is not cut into noise)."""
        labels, samples = self._hdbscan(X, size, "eom")
        if largest_share(labels) <= MAX_THEME_SHARE:
            return labels, samples
        clustered = int((labels != QUEUE).sum())
        cut, _ = self._hdbscan(X, size, "eom", max_size=max(size + 1, int(MAX_THEME_SHARE * clustered)))
        if n_clusters(cut) >= self.min_themes and (cut != QUEUE).sum() >= CUT_KEEPS * clustered:
            return cut, samples
        return labels, samples

    def fit(self, X: np.ndarray, y: Any = None) -> AdaptiveClusterer:
        n = len(X)
        sizes = self._sizes()
        self.selection_: list[dict[str, float | int]] = []
        if n < MIN_EXCERPTS_TO_CLUSTER:
            self.labels_, self.method_, self.chosen_ = np.zeros(n, dtype=int), "single", (sizes[0], 0)
            return self
        best: tuple[float, np.ndarray, int, int] | None = None
        preferred: tuple[float, np.ndarray, int, int] | None = None
        for size in sizes:
            labels, samples = self._eom(X, size)
            if n_clusters(labels) < self.min_themes:
                continue
            largest = largest_share(labels)
            score = separation(X, labels, self.seed) if len(sizes) > 1 else 0.0
            self.selection_.append(
                {
                    "min_cluster_size": size,
                    "themes": n_clusters(labels),
                    "largest": round(largest, 3),
                    "score": round(score, 4),
                }
            )
            if largest > MAX_THEME_SHARE and size != self.preferred and len(sizes) > 1:
                continue
            if best is None or score > best[0]:
                best = (score, labels, size, samples)
            if size == self.preferred:
                preferred = (score, labels, size, samples)
        if best is not None and preferred is not None and best[0] <= preferred[0] + self.margin * abs(preferred[0]):
            best = preferred
        if best is not None:
            self.labels_, self.method_, self.chosen_ = best[1], "hdbscan-eom", (best[2], best[3])
            return self
        base = self.preferred if self.preferred in sizes else sizes[0]
        labels, samples = self._hdbscan(X, base, "leaf")
        if n_clusters(labels) >= self.min_themes:
            self.labels_, self.method_, self.chosen_ = labels, "hdbscan-leaf", (base, samples)
            return self
        self.labels_, self.method_, self.chosen_ = self._agglomerative(X), "agglomerative", (base, 0)
        return self

    def _agglomerative(self, X: np.ndarray) -> np.ndarray:
        from sklearn.cluster import AgglomerativeClustering
        from sklearn.metrics import silhouette_score

        best_labels, best_score = np.zeros(len(X), dtype=int), -1.0
        for k in range(2, max(2, min(self.max_agglomerative, len(X) // 5)) + 1):
            labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
            score = float(silhouette_score(X, labels))
            if score > best_score:
                best_labels, best_score = labels, score
        return np.asarray(best_labels, dtype=int)


def reducer(n: int, n_neighbors: int, n_components: int, seed: int, **options: Any) -> UMAP:
    """UMAP as the themes use it on ``n`` points (cosine, ``min_dist`` 0, a spectral start from 50 points, the
    neighbours and dimensions bounded by ``n``); ``options`` add to it (the consensus's epochs and shared graph)."""
    from umap import UMAP

    return UMAP(
        n_neighbors=max(2, min(n_neighbors, n - 1)),
        n_components=max(2, min(n_components, n - 2)),
        min_dist=0.0,
        metric="cosine",
        init="spectral" if n >= 50 else "random",
        random_state=seed,
        **options,
    )


def filled(labels: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``labels`` with every point left out given the theme whose centroid (in ``X``) is nearest."""
    themes = sorted(set(labels.tolist()) - {QUEUE})
    out = labels == QUEUE
    if not themes or not out.any():
        return labels
    centroids = np.vstack([X[labels == t].mean(axis=0) for t in themes])
    distances = ((X[out][:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    result = labels.copy()
    result[out] = np.asarray(themes)[np.argmin(distances, axis=1)]
    return result


def labelled_fit(
    points: np.ndarray,
    knn: tuple[np.ndarray, np.ndarray],
    seed: int,
    clusterer: AdaptiveClusterer,
    n_components: int,
    epochs: int,
) -> tuple[np.ndarray, AdaptiveClusterer]:
    """One fit of the consensus: UMAP of ``points`` seeded with ``seed`` on the shared neighbour graph ``knn``,
    labelled by ``clusterer``; returns the labels with every point left out given its nearest theme (:func:`filled`)
    and the fitted clusterer. A module-level function, so that worker processes can run it; each keeps numba's
    compiled code on disk (:func:`~verbatim.nlp.jit_cache.keep_compiled_code`), as the parent does."""
    keep_compiled_code()
    m = len(points)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")  # these fits never transform new points
        warnings.filterwarnings("ignore", message="n_jobs value")  # seeded, so one thread: what we want
        umap = reducer(m, knn[0].shape[1], n_components, seed, n_epochs=epochs, precomputed_knn=(knn[0], knn[1], None))
        reduced = umap.fit_transform(points)
    clusterer.fit(reduced)
    return filled(clusterer.labels_, reduced), clusterer


def import_fit_libraries() -> None:
    """Import UMAP and HDBSCAN (seconds, with numba and pynndescent) and turn numba's disk cache on: what a fit
    needs before its first point, done ahead in a process that will fit (see ``ThemeModel.prepare_in_background``)."""
    keep_compiled_code()
    import hdbscan  # noqa: F401
    import umap  # noqa: F401
