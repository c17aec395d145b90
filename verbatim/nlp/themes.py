"""The theme model of one question: BERTopic with every part chosen and seeded by us.

* Embeddings are computed beforehand (``verbatim.nlp.encoders``) and passed in.
* What is clustered is each excerpt's unit embedding beside its lemmas: their TF-IDF reduced to 100 dimensions by a
  seeded SVD (latent semantic analysis), as a unit vector times :data:`LEXICAL_WEIGHT` (0.5). Under UMAP's cosine
  metric two excerpts' similarity is then ``(semantic + 0.25 * lexical) / 1.25``: the encoder leads, and the words
  respondents share (a "carte vitale", a "mot de passe") pull their excerpts together where a general-purpose encoder
  sees only a vague resemblance. On the labelled corpora of ``bench/theme_quality.py`` (mean of four seeds) this
  raises ARI from 0.58 to 0.61 (wikit), 0.33 to 0.38 (MEL) and 0.51 to 0.54 (Grand Débat mix); SIB-200 (encyclopedic
  sentences that share few words) moves from 0.39 to 0.37. Weights 0.4 and 0.45 did as well on average but let
  single seeds collapse into a few themes more often. Centroids, scores and the assignment of new excerpts stay in
  the encoder's space.
  The SVD is seeded with :data:`LEXICAL_SEED`, not the run's seed: it approximates one decomposition, and letting
  the seed move it moved the themes of the sample survey a lot (the consensus below, before it filled the left-out
  excerpts: mean pairwise ARI 0.53 and 0.63 on the two questions with the run's seed here, 0.71 and 0.75 without).
* A consensus of :data:`CONSENSUS_RUNS` (10) seeded UMAP fits reduces them (:class:`ConsensusClusterer`, rule
  below); the run's seed draws their seeds, so the run stays deterministic (UMAP then runs on one thread). The fits
  run in ``jobs`` worker processes at once from :data:`PARALLEL_FITS_FROM` excerpts on (one fit:
  :func:`verbatim.nlp.clustering.labelled_fit`); on 2 cores the consensus of a 13,177-excerpt question took 12.3 s
  in two processes against 23.0 s in one, with the same themes.
* In each fit, :class:`AdaptiveClusterer` finds the themes with HDBSCAN, choosing its granularity among a few sizes
  around the rule below, and falls back when the data gives too few themes.
* c-TF-IDF over content lemmas (``CountVectorizer`` on lemmas and lemma pairs, ``reduce_frequent_words``) gives
  each theme its keywords (the top 10), recomputed once outliers are placed.

Granularity rule, from the number of excerpts ``n`` of the question:
``min_cluster_size = max(5, round(0.6 * sqrt(n)))`` (12 for 400 excerpts, 60 for 10,000, 190 for 100,000) and
``min_samples = max(2, min_cluster_size // 4)``. HDBSCAN ("excess of mass") is run with that size and with
1.2, 1.4, 1.7 and 2 times it (:data:`SIZE_FACTORS`, each with a quarter of its size as ``min_samples``), all
on the same UMAP coordinates, and each labelling is scored by its *separation*: the silhouette of the clustered
excerpts in UMAP space times the share of excerpts clustered (seeded sample of 5,000 above that). Another size
replaces the rule's only when its separation is higher by more than 0.5% and its largest theme holds at most half
of the clustered excerpts. HDBSCAN is cheap next to UMAP, so this costs a few seconds. The rule's size is the finest
granularity: the choice may only coarsen it. Finer sizes are not tried: on answers that repeat each other (the
sample survey) and on a Grand Débat question the
silhouette keeps rising as themes shrink (47 themes of 800 excerpts), which no researcher wants to review. On the
labelled corpora of ``bench/theme_quality.py`` the choice moves MEL from 9 to 7 themes (ARI 0.29 -> 0.31), SIB-200
from 16 to 11 (0.31 -> 0.36) and the Grand Débat mix from 8 to 7 (0.51 -> 0.51), and keeps wikit's 22. A size
given by the caller (``min_cluster_size``) is used as it is. "Excess of mass" sometimes keeps a parent theme
that swallows its neighbours (on SIB-200, 640 of 1,004 sentences in one theme for one seed): when a labelling's
largest theme holds more than half of the clustered excerpts, the tree is cut below it (HDBSCAN's
``max_cluster_size``), and the cut is kept when it still clusters three quarters as many excerpts (a large theme
with no sub-themes stays whole rather than turning into noise). If no size gives two themes, "leaf" selection is tried
at the rule's size, then agglomerative clustering with the number of themes that maximises the silhouette. Fewer
than ``MIN_EXCERPTS_TO_CLUSTER`` excerpts make a single theme.

Consensus (themes that hold when only the seed changes): one UMAP fit of 5 dimensions per seed, all on one exact
cosine graph of 15 neighbours (computed once), :data:`CONSENSUS_EPOCHS` (200) epochs each; each fit is labelled by
HDBSCAN as above and the excerpts it leaves out join the theme whose centroid is nearest in that fit's coordinates;
the co-association of two excerpts is the share of fits that put them together; average linkage over 1 minus it, cut
where groups share a theme in at most half of the fits (:data:`CONSENSUS_CUT`), gives the themes, and a group
smaller than half the rule's ``min_cluster_size`` (:data:`CONSENSUS_KEEP`, at least 5 excerpts) is left out (then
placed as outliers are, below). If fewer than two
themes remain, the first fit's own labelling is kept. Above :data:`CONSENSUS_SAMPLE` (3,000) excerpts the consensus
is fitted on a seeded sample of that many (sizes scaled by the sample's share) and the other excerpts are placed as
outliers are. A single fit with its own seed (``consensus_runs=1``) was what this module did before; a
``min_cluster_size`` given by the caller still gets a single fit.

Measured with seeds 0-4 (pairwise adjusted Rand index between the seeds' labellings, mean and minimum; themes): on
the sample survey, ``difficultes`` (817 excerpts) went from 0.39 (min 0.23; 7-20 themes) with a single fit to 0.78
(min 0.71; 16-18 themes), ``idees`` (755) from 0.50 (min 0.44; 17-21) to 0.80 (min 0.73; 18-21). Keeping consensus
groups from half the rule's size (:data:`CONSENSUS_KEEP`) instead of the whole size then gave, over seeds 0-4 and
5-9: ``difficultes`` 0.799 (min 0.708) and 0.781 (0.723) -> 0.816 (0.727) and 0.818 (0.762), 18-21 -> 21-25 themes;
``idees`` 0.816 (0.779) and 0.819 (0.793) -> 0.851 (0.800) and 0.858 (0.826), 18-22 -> 21-25 themes. Shares of 0.35,
0.65 and 0.8 gave 0.840-0.843, 0.811-0.817 and 0.793-0.806 on ``difficultes``: the smaller the kept groups, the more
stable and the more themes; half keeps the number of themes near the rule's. On the labelled corpora it changed
nothing measurable (NMI, ARI and coverage at seed 42, the multi-theme check, stability over seeds 0-4 within 0.005).
Earlier, in experiments on 25 cached UMAP fits (500 epochs, before outliers are placed): 5 fits pooled gave
0.76-0.79, 8 fits 0.83-0.84, without filling the left-out excerpts 0.70-0.75; cutting at 0.4 or 0.3 instead of 0.5
did not do better on both questions. On the labelled corpora of ``bench/theme_quality.py`` (seeds 0-2), already
stable with one fit, pairwise ARI went from 0.92 to 0.97 (MEL), 0.90 to 0.94 (SIB-200), 0.95 to 0.96 (wikit) and
0.97 to 0.99 (Grand Débat mix), and their agreement with the true labels held (ARI 0.323 -> 0.338 MEL, 0.390 ->
0.391 SIB-200, 0.609 -> 0.614 wikit, 0.543 -> 0.539 Grand Débat mix; NMI 0.466 -> 0.493, 0.518 -> 0.520, 0.764 ->
0.768, 0.562 -> 0.562); coverage rose to 1.00 on all four. Time: ten fits of 200 epochs on at most 3,000 excerpts,
on a graph computed once, cost less than one UMAP fit of 500 epochs on all excerpts with its own neighbour search:
on 8,720 excerpts of a Grand Débat question one fit took 39 s of processor time against 73 s before (on a shared
2-core machine), with 46 themes instead of 33 (the sample's sizes are scaled from the rule's for 8,720, which
HDBSCAN finds finer on the sparser sample). A cheaper consensus, measured on 2026-12-05 with the model as the flow
fits it (seeds 0-4 on the four labelled corpora and the sample survey's two questions, also 5-9 for ten and eight
fits; mean pairwise ARI between the seeds' themes, averaged over the corpora and questions): ten fits of 200 epochs
0.915; eight 0.906 (``idees`` 0.03 and 0.05 lower); six let SIB-200 fall to 0.852 (min 0.751, 11 to 17 themes) and
``difficultes`` to 0.792; ten of 100 epochs put ``difficultes`` at 0.783 and SIB-200 at 0.904, ten of 150 SIB-200
at 0.900. Agreement with the true labels moved by 0.03 at most (fewer epochs raised it a little on MEL and SIB-200).
A fit of 3,000 excerpts costs 1.6 s of UMAP at 200 epochs (linear in them) and 0.4 s of HDBSCAN; none of these was
kept: stability is what the consensus is for.

Outliers: an excerpt HDBSCAN leaves out joins its nearest theme (cosine similarity to the theme's centroid in
embedding space) when it is at least as similar as the theme's own members are: the threshold is the lower Tukey
fence of the members' similarities (``Q1 - 1.5 * IQR``), raised to the least similar member when that is higher.
Otherwise it goes to the review queue (theme ``-1``): nothing is forced into a theme. (A fixed ``outlier_quantile``
replaces the fence when given.) On the labelled corpora of ``bench/theme_quality.py`` this places 91 to 98% of the
texts with NMI and ARI no lower than with the stricter 5% quantile, which queued up to 13%.

Labels (``verbatim.nlp.labels.phrase_labels``): a phrase respondents wrote, found by spaCy's parser in the
:data:`~verbatim.nlp.labels.CENTRAL_EXCERPTS` excerpts most similar to the theme's centroid, ranked by its c-TF-IDF
against the other themes of the question, the centrality of the excerpts that wrote it and its length; one or two
phrases, never the same as another theme's. Lemmas found in more than a quarter of the question's excerpts (its
subject, "retraite" for a question on retirement) do not lead a label on their own.

Scores: the cosine similarity between the excerpt and its theme's centroid, clipped to [0, 1]. The runner-up is the
next most similar theme (for a queued excerpt, the nearest theme: a suggestion for the reviewer).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from verbatim.nlp.clustering import (
    MIN_EXCERPTS_TO_CLUSTER,
    QUEUE,
    SIZE_FACTORS,
    AdaptiveClusterer,
    import_fit_libraries,
    labelled_fit,
    n_clusters,
    reducer,
)
from verbatim.nlp.encoders import unit_rows
from verbatim.nlp.heavy_imports import import_bertopic
from verbatim.nlp.labels import (
    CENTRAL_EXCERPTS,
    describe,
    describing_excerpt,
    keyword_words,
    phrase_labels,
    representatives,
)
from verbatim.nlp.phrases import load_parser_in_background

if TYPE_CHECKING:  # BERTopic (with sentence-transformers and plotly: seconds) is imported by a fit, not before
    from bertopic import BERTopic


def _quiet_custom_topics(record: logging.LogRecord) -> bool:
    """BERTopic warns that topics set by hand must come last in a pipeline: ours do, by design."""
    return "custom list of topic assignments" not in record.getMessage()


logging.getLogger("BERTopic").addFilter(_quiet_custom_topics)
#: Share of a question's excerpts above which a lemma is the question's subject rather than a theme's.
COMMON_SHARE = 0.25
#: Weight of the excerpts' lemmas next to their embedding in the space UMAP reduces (see the module's rule).
LEXICAL_WEIGHT = 0.5
#: Dimensions of the lemmas' TF-IDF kept by the SVD (latent semantic analysis) before they join the embedding.
LEXICAL_DIMENSIONS = 100
#: State of the randomised SVD of the lemmas: the SVD approximates one decomposition, the run's seed need not move it.
LEXICAL_SEED = 0
#: Seeded UMAP fits whose themes are pooled into one consensus (see the module's consensus rule).
CONSENSUS_RUNS = 10
#: Excerpts the consensus is fitted on, at most (a seeded sample above that; the others are placed as outliers are).
CONSENSUS_SAMPLE = 3000
#: Epochs of each of the consensus's UMAP fits (UMAP's own default is 500 up to 10,000 points).
CONSENSUS_EPOCHS = 200
#: Two excerpts share a consensus theme when, on average over the pair of groups, they shared a theme in more than
#: this share of the fits (average linkage cut at ``1 - CONSENSUS_CUT``).
CONSENSUS_CUT = 0.5
#: A consensus group is a theme from this share of the granularity rule's ``min_cluster_size`` (at least 5 excerpts).
#: Groups the fits agree on but that are smaller than one fit's themes were left out before, and which of them ended
#: in the review queue or in a neighbour changed with the seed (see the module's measures).
CONSENSUS_KEEP = 0.5
#: The consensus's fits run in ``jobs`` worker processes from this many points on; below, starting the workers
#: costs more than it saves (see :class:`ConsensusClusterer`).
PARALLEL_FITS_FROM = 600


def _min_df(n_docs: int) -> int:
    """Documents a lemma must appear in to count as a word of the question: two from 200 documents on."""
    return 2 if n_docs >= 200 else 1


def lexical_coordinates(docs: Sequence[str], seed: int = 0, dimensions: int = LEXICAL_DIMENSIONS) -> np.ndarray:
    """Each document's lemmas as a unit vector: TF-IDF (sublinear, lemmas in two documents or more when there are
    200 documents or more), reduced by a seeded truncated SVD. Rows without a kept lemma are zero, as is everything
    when fewer than two lemmas are kept."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(docs)
    vectorizer = TfidfVectorizer(
        tokenizer=str.split, token_pattern=None, lowercase=False, sublinear_tf=True, min_df=_min_df(n)
    )
    try:
        tfidf = vectorizer.fit_transform(docs)
    except ValueError:  # no lemma at all
        return np.zeros((n, 1), dtype=np.float32)
    k = min(dimensions, tfidf.shape[1] - 1, n - 1)
    if k < 1:
        return np.zeros((n, 1), dtype=np.float32)
    reduced = TruncatedSVD(n_components=k, random_state=seed).fit_transform(tfidf)
    return settled(unit_rows(reduced))


#: Decimals kept of the clustering space's coordinates and of the neighbours' similarities (see :func:`settled`).
SETTLED_DECIMALS = 6


def settled(values: np.ndarray, decimals: int = SETTLED_DECIMALS) -> np.ndarray:
    """``values`` rounded to ``decimals``, in float32: a sum that a multi-threaded BLAS orders differently changes
    its last bits, and UMAP's optimisation turns such bits into other themes (the sample survey's ``difficultes``
    gave 17 themes on one thread and 19 on two, ARI 0.75, before the SVD's coordinates were rounded); rounded, the
    two agree bit for bit but for a value that falls on a rounding boundary."""
    return np.round(np.asarray(values, dtype=np.float64), decimals).astype(np.float32)


def clustering_space(
    embeddings: np.ndarray, docs: Sequence[str], seed: int = 0, weight: float = LEXICAL_WEIGHT
) -> np.ndarray:
    """What UMAP reduces: the unit embedding, then the unit lexical coordinates times ``weight``. Under the cosine
    metric two excerpts' similarity is then ``(semantic + weight**2 * lexical) / (1 + weight**2)``."""
    semantic = settled(unit_rows(np.asarray(embeddings, dtype=np.float64)))
    if weight <= 0:
        return semantic
    return np.hstack([semantic, weight * lexical_coordinates(docs, LEXICAL_SEED)]).astype(np.float32)


def joining_threshold(member_sims: np.ndarray) -> float:
    """The outlier rule: an excerpt joins a theme when at least this similar to its centroid, the lower Tukey fence
    of the members' similarities (Q1 - 1.5 IQR), or the least similar member when that is higher."""
    q1, q3 = np.quantile(member_sims, [0.25, 0.75])
    return float(max(member_sims.min(), q1 - 1.5 * (q3 - q1)))


def min_cluster_size_for(n_excerpts: int) -> int:
    """The smallest theme HDBSCAN may form, from the number of excerpts (see the module's rule)."""
    return max(5, round(0.6 * math.sqrt(max(n_excerpts, 1))))


def common_lemmas(lemmas: Sequence[Sequence[str]], share: float = COMMON_SHARE) -> frozenset[str]:
    """Lemmas found in more than ``share`` of the excerpts (none for fewer than 20 excerpts)."""
    if len(lemmas) < 20:
        return frozenset()
    df: Counter[str] = Counter(w for words in lemmas for w in set(words))
    return frozenset(w for w, count in df.items() if count > share * len(lemmas))


def candidate_sizes(n_excerpts: int) -> tuple[int, ...]:
    """The ``min_cluster_size`` values tried for ``n_excerpts`` excerpts: the rule's size times :data:`SIZE_FACTORS`."""
    base = min_cluster_size_for(n_excerpts)
    return tuple(sorted({max(5, round(base * f)) for f in SIZE_FACTORS}))


def nearest_neighbours(X: np.ndarray, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """The exact ``k`` nearest neighbours of each row under the cosine distance (itself first), as UMAP's
    ``precomputed_knn`` takes them: indices and distances. Computed once and shared by the consensus's fits."""
    x = unit_rows(np.asarray(X, dtype=np.float64))
    n = len(x)
    k = min(k, n)
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        sims = np.round(x[start : start + block] @ x.T, 2 * SETTLED_DECIMALS)  # the same order on any BLAS
        rows = np.arange(len(sims))
        sims[rows, start + rows] = np.inf  # each point is its own nearest neighbour, whatever the ties
        order = most_similar_first(sims, k)
        indices[start : start + block] = order
        found = np.take_along_axis(sims, order, axis=1)
        found[:, 0] = 1.0
        distances[start : start + block] = np.clip(1.0 - found, 0.0, 2.0)
    return indices, distances


def most_similar_first(sims: np.ndarray, k: int) -> np.ndarray:
    """The columns of each row's ``k`` largest values, largest first and, among equal values, the lowest column
    first: ``np.argsort(-sims, axis=1, kind="stable")[:, :k]``, without sorting whole rows (the neighbours of
    3,000 points: 0.9 s -> 0.2 s). Each row's ``2 * k`` largest are sorted; a row where values equal to its k-th
    reach beyond them (repeated excerpts) is sorted whole."""
    candidates = min(sims.shape[1], 2 * k)
    if candidates == sims.shape[1]:
        return np.argsort(-sims, axis=1, kind="stable")[:, :k]
    parted = np.argpartition(-sims, candidates, axis=1)
    top = parted[:, :candidates]
    values = np.take_along_axis(sims, top, axis=1)
    ranked = np.lexsort((top, -values), axis=1)
    order = np.take_along_axis(top, ranked, axis=1)[:, :k]
    kth = np.take_along_axis(values, ranked[:, k - 1 : k], axis=1)[:, 0]
    first_left_out = np.take_along_axis(sims, parted[:, candidates : candidates + 1], axis=1)[:, 0]
    tied = np.flatnonzero(kth <= first_left_out)
    if len(tied):
        order[tied] = np.argsort(-sims[tied], axis=1, kind="stable")[:, :k]
    return order


def co_association(labelings: Sequence[np.ndarray]) -> np.ndarray:
    """Share of the labelings in which each pair of points is in the same theme (never, for a point left out)."""
    n = len(labelings[0])
    together = np.zeros((n, n), dtype=np.float32)
    for labels in labelings:
        clustered = np.flatnonzero(labels != QUEUE)
        for t in np.unique(labels[clustered]):
            members = np.flatnonzero(labels == t)
            together[np.ix_(members, members)] += 1.0
    return together / len(labelings)


def consensus_labels(labelings: Sequence[np.ndarray], min_size: int, cut: float = CONSENSUS_CUT) -> np.ndarray:
    """One labelling from several: average-linkage clustering of the co-association, cut where groups shared a
    theme in at most ``cut`` of the labelings on average; groups under ``min_size`` are left out (``QUEUE``).
    Themes are numbered by their first point, so the result does not depend on the labelings' own numbers."""
    n = len(labelings[0])
    if n < 2:
        return np.zeros(n, dtype=int)
    distance = 1.0 - co_association(labelings).astype(np.float64)
    np.fill_diagonal(distance, 0.0)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    groups = fcluster(linkage(squareform(distance, checks=False), method="average"), t=1.0 - cut, criterion="distance")
    sizes = np.bincount(groups)
    kept = [g for g in dict.fromkeys(groups.tolist()) if sizes[g] >= min_size]
    number = {g: i for i, g in enumerate(kept)}
    return np.array([number.get(g, QUEUE) for g in groups.tolist()], dtype=int)


class ConsensusClusterer:
    """Themes that hold when the seed changes: several seeded UMAP fits, each labelled by
    :class:`AdaptiveClusterer`, pooled by :func:`consensus_labels` (see the module's consensus rule).

    ``fit`` takes the clustering space itself (BERTopic is given no reduction of its own) and sets ``labels_``,
    ``method_``, ``chosen_`` and ``selection_`` (the first fit's candidates) like :class:`AdaptiveClusterer`.
    Above ``sample`` points the consensus is fitted on a seeded sample and the others are left out (``QUEUE``), for
    the model to place as it places outliers. ``jobs`` worker processes run the fits at once when there are
    :data:`PARALLEL_FITS_FROM` points or more to fit (joblib's reusable pool); each fit has its own seed, so the
    themes are the same whatever ``jobs``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        preferred: int,
        min_samples: int | None = None,
        seed: int = 0,
        runs: int = CONSENSUS_RUNS,
        sample: int = CONSENSUS_SAMPLE,
        n_neighbors: int = 15,
        n_components: int = 5,
        epochs: int = CONSENSUS_EPOCHS,
        jobs: int = 1,
    ):
        self.sizes = sizes
        self.preferred = preferred
        self.min_samples = min_samples
        self.seed = seed
        self.runs = runs
        self.sample = sample
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.epochs = epochs
        self.jobs = jobs

    def jobs_for(self, n: int) -> int:
        """Processes that run the fits on ``n`` points: ``jobs`` from :data:`PARALLEL_FITS_FROM` points to fit on
        (``sample`` at most), else 1 (this process)."""
        return self.jobs if min(n, self.sample) >= PARALLEL_FITS_FROM else 1

    def fit(self, X: np.ndarray, y: Any = None) -> ConsensusClusterer:
        n = len(X)
        picked = np.arange(n)
        if n > self.sample:
            picked = np.sort(np.random.default_rng(self.seed).choice(n, size=self.sample, replace=False))
        m = len(picked)
        scale = m / n
        sizes = sorted({max(5, round(s * scale)) for s in self.sizes})
        preferred = max(5, round(self.preferred * scale))
        points = X[picked]
        neighbours = max(2, min(self.n_neighbors, m - 1))
        knn = nearest_neighbours(points, neighbours)
        seeds = np.random.SeedSequence(self.seed).generate_state(self.runs).tolist()
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=self.jobs_for(n))(
            delayed(labelled_fit)(
                points,
                knn,
                int(run_seed),
                AdaptiveClusterer(sizes, self.min_samples, seed=self.seed, preferred=preferred),
                self.n_components,
                self.epochs,
            )
            for run_seed in seeds
        )
        labelings = [labels for labels, _ in results]
        first = results[0][1]
        labels = consensus_labels(labelings, max(5, round(preferred * CONSENSUS_KEEP)))
        self.selection_ = first.selection_
        self.fit_themes_ = [n_clusters(labelling) for labelling in labelings]
        if n_clusters(labels) >= 2:
            samples = self.min_samples if self.min_samples is not None else max(2, preferred // 4)
            self.method_, self.chosen_ = "consensus", (preferred, samples)
        else:  # no theme shared by most fits: the first fit's own labelling and fallbacks
            labels, self.method_, self.chosen_ = first.labels_, first.method_, first.chosen_
        self.labels_ = np.full(n, QUEUE, dtype=int)
        self.labels_[picked] = labels
        return self


@dataclass(frozen=True)
class FittedTheme:
    """One theme: indices refer to the excerpts given to :meth:`ThemeModel.fit`."""

    theme_id: int
    label: str
    description: str
    keywords: tuple[str, ...]
    members: tuple[int, ...]
    n_respondents: int
    representatives: tuple[int, ...]


@dataclass
class Assignment:
    labels: np.ndarray
    scores: np.ndarray
    runner_up: np.ndarray = field(repr=False)


class ThemeModel:
    """Themes of one question's excerpts.

    scikit-learn style: the constructor stores parameters, ``fit`` returns self, fitted state ends in ``_``.
    """

    def __init__(
        self,
        seed: int = 42,
        min_cluster_size: int | None = None,
        min_samples: int | None = None,
        n_neighbors: int = 15,
        n_components: int = 5,
        top_n_words: int = 10,
        n_representatives: int = 5,
        outlier_quantile: float | None = None,
        lexical_weight: float = LEXICAL_WEIGHT,
        consensus_runs: int = CONSENSUS_RUNS,
        jobs: int = 1,
    ) -> None:
        self.seed = seed
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.top_n_words = top_n_words
        self.n_representatives = n_representatives
        self.outlier_quantile = outlier_quantile
        self.lexical_weight = lexical_weight
        self.consensus_runs = consensus_runs
        self.jobs = jobs

    # -- fitting -------------------------------------------------------------------------------------------------
    def processes_for(self, n: int) -> int:
        """Processes a fit on ``n`` excerpts runs the consensus's fits in (1: this process; no consensus either)."""
        clusterer = self._clusterer(n)
        return clusterer.jobs_for(n) if isinstance(clusterer, ConsensusClusterer) else 1

    def prepare_in_background(self, n: int) -> None:
        """Get this process ready to fit on ``n`` excerpts, in a thread: import BERTopic, UMAP and HDBSCAN and, when
        the consensus will run in worker processes, start them with UMAP and HDBSCAN imported. For a process that
        meanwhile waits on others (the flow while Dask workers embed the excerpts): about 7 s of imports and 2 s of
        pool start that the theme step then does not wait for. The fit waits for what is still under way (Python's
        import lock; joblib reuses the pool)."""
        workers = self.processes_for(n)

        def prepare() -> None:
            from joblib import Parallel, delayed

            import_fit_libraries()
            import_bertopic()

            if workers > 1:
                Parallel(n_jobs=workers)(delayed(import_fit_libraries)() for _ in range(workers))

        threading.Thread(target=prepare, name="prepare-theme-fit", daemon=True).start()

    def _clusterer(self, n: int) -> AdaptiveClusterer | ConsensusClusterer:
        if self.min_cluster_size:
            return AdaptiveClusterer(self.min_cluster_size, self.min_samples, seed=self.seed)
        if self.consensus_runs > 1:
            return ConsensusClusterer(
                candidate_sizes(n),
                min_cluster_size_for(n),
                self.min_samples,
                seed=self.seed,
                runs=self.consensus_runs,
                n_neighbors=self.n_neighbors,
                n_components=self.n_components,
                jobs=self.jobs,
            )
        return AdaptiveClusterer(
            candidate_sizes(n), self.min_samples, seed=self.seed, preferred=min_cluster_size_for(n)
        )

    def _bertopic(self, n: int, n_docs_with_words: int) -> BERTopic:
        import_bertopic()
        from bertopic import BERTopic
        from bertopic.dimensionality import BaseDimensionalityReduction
        from bertopic.vectorizers import ClassTfidfTransformer
        from sklearn.feature_extraction.text import CountVectorizer

        clusterer = self._clusterer(n)
        umap: Any = BaseDimensionalityReduction()  # the consensus reduces the space itself, several times
        if not isinstance(clusterer, ConsensusClusterer):
            umap = reducer(n, self.n_neighbors, self.n_components, self.seed)
        vectorizer = CountVectorizer(
            tokenizer=str.split,
            token_pattern=None,
            lowercase=False,
            ngram_range=(1, 2),
            min_df=_min_df(n_docs_with_words),
        )
        return BERTopic(
            language="multilingual",  # "english" would strip every accented letter from the documents
            umap_model=umap,
            hdbscan_model=clusterer,
            vectorizer_model=vectorizer,
            ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
            top_n_words=self.top_n_words,
            calculate_probabilities=False,
        )

    def fit(
        self,
        embeddings: np.ndarray,
        lemmas: Sequence[Sequence[str]],
        surfaces: Sequence[Sequence[str]],
        texts: Sequence[str],
        groups: Sequence[str],
    ) -> ThemeModel:
        """Find the themes of ``texts`` (excerpts) from their ``embeddings`` and ``lemmas``.

        ``groups`` names the respondent of each excerpt (for sizes in respondents and diverse representatives).
        """
        n = len(texts)
        if n == 0:
            raise ValueError("no excerpt to model")
        docs = [" ".join(words) for words in lemmas]
        if not any(docs):  # no content word at all: fall back on the lower-cased words
            docs = [" ".join(t.lower().split()) for t in texts]
        embeddings = np.asarray(embeddings, dtype=np.float32)
        n_clusterable = n if n >= MIN_EXCERPTS_TO_CLUSTER else 0
        if n_clusterable:
            topic_model = self._bertopic(n, sum(1 for d in docs if d))
            clusterer = topic_model.hdbscan_model
            if self.processes_for(n) > 1:
                load_parser_in_background()  # while the fits run in worker processes; the labels need it
            space = clustering_space(embeddings, docs, self.seed, self.lexical_weight)
            raw = np.asarray(topic_model.fit_transform(docs, space)[0], dtype=int)
            self.granularity_ = {
                "min_cluster_size": clusterer.chosen_[0],
                "min_samples": clusterer.chosen_[1],
                "method": clusterer.method_,
                "candidates": list(clusterer.selection_),
            }
        else:
            topic_model, raw = None, np.zeros(n, dtype=int)
            self.granularity_ = {"min_cluster_size": None, "min_samples": None, "method": "single", "candidates": []}
        self._set_centroids(embeddings, raw)
        assigned = self.assign(embeddings)
        labels = np.where(raw != QUEUE, raw, assigned.labels)
        # Renumber themes by size (largest first; ties by first excerpt) so ids are stable and meaningful.
        ids = sorted(set(labels.tolist()) - {QUEUE}, key=lambda t: (-(labels == t).sum(), int(np.argmax(labels == t))))
        mapping = {old: new for new, old in enumerate(ids)}
        mapping[QUEUE] = QUEUE
        final = np.array([mapping[t] for t in labels.tolist()], dtype=int)
        self._set_centroids(embeddings, np.array([mapping[t] for t in raw.tolist()], dtype=int))
        keywords = self._keywords(topic_model, docs, final)
        self._finish(embeddings, final, keywords, lemmas, surfaces, texts, groups)
        return self

    def _set_centroids(self, embeddings: np.ndarray, labels: np.ndarray) -> None:
        themes = sorted(set(labels.tolist()) - {QUEUE})
        centroids = np.vstack([embeddings[labels == t].mean(axis=0) for t in themes])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        self.theme_ids_ = np.array(themes, dtype=int)
        self.centroids_ = centroids.astype(np.float32)
        sims = embeddings @ self.centroids_.T
        self.thresholds_ = np.array(
            [self._threshold(sims[labels == t, j]) for j, t in enumerate(themes)],
            dtype=np.float32,
        )

    def _threshold(self, member_sims: np.ndarray) -> float:
        """How similar to a theme's centroid an excerpt must be to join it (see the module's outlier rule)."""
        if self.outlier_quantile is not None:
            return float(np.quantile(member_sims, self.outlier_quantile))
        return joining_threshold(member_sims)

    def _keywords(self, topic_model: BERTopic | None, docs: list[str], labels: np.ndarray) -> dict[int, list[str]]:
        if topic_model is None:
            counts: dict[str, int] = {}
            for doc in docs:
                for word in doc.split():
                    counts[word] = counts.get(word, 0) + 1
            top = sorted(counts, key=lambda w: (-counts[w], w))[: self._n_words()]
            return {0: top} if len(labels) else {}
        # Our vectorizer and c-TF-IDF again: without them, update_topics falls back on BERTopic's defaults (single
        # words of the default token pattern, which splits "rendez-vous", and no reduce_frequent_words).
        topic_model.update_topics(
            docs,
            topics=labels.tolist(),
            top_n_words=self._n_words(),
            vectorizer_model=topic_model.vectorizer_model,
            ctfidf_model=topic_model.ctfidf_model,
        )
        result: dict[int, list[str]] = {}
        for t in sorted(set(labels.tolist()) - {QUEUE}):
            words = topic_model.get_topic(t) or []
            result[t] = [w for w, score in words if w and score > 0]
        return result

    def _n_words(self) -> int:
        """Terms computed per theme: the ``top_n_words`` keywords shown."""
        return self.top_n_words

    def _finish(
        self,
        embeddings: np.ndarray,
        labels: np.ndarray,
        keywords: dict[int, list[str]],
        lemmas: Sequence[Sequence[str]],
        surfaces: Sequence[Sequence[str]],
        texts: Sequence[str],
        groups: Sequence[str],
    ) -> None:
        sims = embeddings @ self.centroids_.T
        self.labels_ = labels
        self.scores_, self.runner_up_ = self._scores(sims, labels)
        all_members = [np.flatnonzero(labels == t).tolist() for t in self.theme_ids_.tolist()]
        central = [
            [m[i] for i in np.argsort(-sims[m, j], kind="stable")[:CENTRAL_EXCERPTS].tolist()]
            for j, m in enumerate(all_members)
        ]
        theme_labels = phrase_labels(texts, lemmas, all_members, central, common=common_lemmas(lemmas))
        themes = []
        for j, t in enumerate(self.theme_ids_.tolist()):
            members = all_members[j]
            picks = representatives(
                embeddings[members],
                self.centroids_[j],
                [groups[i] for i in members],
                k=self.n_representatives,
                lemmas=[lemmas[i] for i in members],
                keywords=keyword_words(keywords.get(t, [])[: self.top_n_words]),
            )
            reps = tuple(int(members[p]) for p in picks)
            themes.append(
                FittedTheme(
                    theme_id=t,
                    label=theme_labels[j],
                    description=describe(describing_excerpt([texts[i] for i in reps])),
                    keywords=tuple(keywords.get(t, [])[: self.top_n_words]),
                    members=tuple(int(i) for i in members),
                    n_respondents=len({groups[i] for i in members}),
                    representatives=reps,
                )
            )
        self.themes_ = themes

    # -- assigning -----------------------------------------------------------------------------------------------
    def _scores(self, sims: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        column = {t: j for j, t in enumerate(self.theme_ids_.tolist())}
        order = np.argsort(-sims, axis=1, kind="stable")
        scores = np.empty(len(labels), dtype=np.float64)
        runner_up = np.full(len(labels), QUEUE, dtype=int)
        for i, t in enumerate(labels.tolist()):
            if t == QUEUE:
                scores[i] = sims[i, order[i, 0]]
                runner_up[i] = self.theme_ids_[order[i, 0]]
                continue
            scores[i] = sims[i, column[t]]
            others = [j for j in order[i, :2].tolist() if j != column[t]]
            if others:
                runner_up[i] = self.theme_ids_[others[0]]
        return np.clip(scores, 0.0, 1.0), runner_up

    def assign(self, embeddings: np.ndarray) -> Assignment:
        """Place new excerpts: the nearest theme when similar enough (see the module's outlier rule), else the queue."""
        sims = np.asarray(embeddings, dtype=np.float32) @ self.centroids_.T
        best = np.argmax(sims, axis=1)
        fits = sims[np.arange(len(best)), best] >= self.thresholds_[best]
        labels = np.where(fits, self.theme_ids_[best], QUEUE)
        scores, runner_up = self._scores(sims, labels)
        return Assignment(labels=labels, scores=scores, runner_up=runner_up)
