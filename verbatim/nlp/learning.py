"""Learning from researchers' decisions: a calibrated classifier of excerpts into the themes of a codebook.

* :class:`CodeClassifier` learns from validated excerpts (embeddings and the theme researchers confirmed; excerpts
  they rejected teach the class ``QUEUE``). A multinomial logistic regression on the L2-normalised sentence
  embeddings, with classes weighted to their size, then *temperature scaling*: one temperature, fitted on
  out-of-fold predictions, makes the probabilities honest (an excerpt coded with probability 0.8 is right about 8
  times out of 10). An excerpt goes to the review queue when its most probable theme is below ``min_probability``,
  or when ``QUEUE`` itself is the most probable class.
* :class:`CentroidCoder` codes with the current codebook when there are too few decisions to learn from: the
  nearest theme centroid, accepted only when the excerpt is as similar as the theme's own members are (the lower
  Tukey fence of their similarities, the rule of ``ThemeModel.assign``), else the queue.
* :func:`candidate_themes` proposes new themes among excerpts that fit no theme: HDBSCAN on their embeddings
  (groups of at least ``min_size`` excerpts), each labelled like a theme, from the phrases respondents wrote in its
  most central excerpts (``verbatim.nlp.labels.phrase_labels``), with c-TF-IDF keywords beside the label.

The order in which researchers should review excerpts is derived from the stored scores of these predictions:
see ``verbatim.models.machine_codes.rank_for_review`` (it lives with the store so that the review app can call it
with a run id).

Everything here is plain numpy / scikit-learn: no database, no prefect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from verbatim.nlp.heavy_imports import import_bertopic
from verbatim.nlp.labels import CENTRAL_EXCERPTS, keyword_words, phrase_labels, representatives
from verbatim.nlp.themes import joining_threshold

QUEUE = -1
#: Temperatures tried when calibrating (log-spaced); 1.0 means the regression's own probabilities.
_TEMPERATURES = np.exp(np.linspace(np.log(0.05), np.log(5.0), 61))


@dataclass
class Prediction:
    """Codes of excerpts: ``labels`` (theme id or ``QUEUE``), ``scores`` (the calibrated probability of the most
    probable theme, in [0, 1]), ``runner_up`` (the second most probable theme, ``QUEUE`` when none) and the full
    probability matrix over ``classes``."""

    labels: np.ndarray
    scores: np.ndarray
    runner_up: np.ndarray
    proba: np.ndarray = field(repr=False)
    classes: np.ndarray = field(repr=False)

    @property
    def margins(self) -> np.ndarray:
        """Probability of the best class minus the second best: small margins are the informative excerpts."""
        if self.proba.shape[1] < 2:
            return np.ones(len(self.proba))
        top2 = -np.sort(-self.proba, axis=1)[:, :2]
        return np.asarray(top2[:, 0] - top2[:, 1])


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


class CodeClassifier:
    """Excerpts to themes, learnt from decisions (scikit-learn style: ``fit`` returns self, state ends in ``_``).

    ``C`` is the inverse regularisation of the logistic regression; ``min_probability`` sends an excerpt to the queue
    when no theme is that probable; ``calibrate`` fits a temperature on ``n_folds`` out-of-fold predictions when
    there are at least ``min_calibration`` examples.
    """

    def __init__(
        self,
        C: float = 1.0,
        min_probability: float = 0.4,
        calibrate: bool = True,
        n_folds: int = 3,
        min_calibration: int = 30,
        seed: int = 42,
    ) -> None:
        self.C = C
        self.min_probability = min_probability
        self.calibrate = calibrate
        self.n_folds = n_folds
        self.min_calibration = min_calibration
        self.seed = seed

    def _regression(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000, random_state=self.seed)

    def fit(
        self, embeddings: np.ndarray, labels: Sequence[int] | np.ndarray, sample_weight: np.ndarray | None = None
    ) -> CodeClassifier:
        """Learn from ``embeddings`` (one row per validated excerpt) and their ``labels`` (theme ids, ``QUEUE``)."""
        x = np.asarray(embeddings, dtype=np.float64)
        y = np.asarray(labels, dtype=int)
        if len(x) != len(y) or len(y) == 0:
            raise ValueError("one label per embedding, and at least one")
        self.classes_ = np.array(sorted(set(y.tolist())), dtype=int)
        self.temperature_ = 1.0
        if len(self.classes_) == 1:
            self.model_: LogisticRegression | None = None
            return self
        # One BLAS thread: these matrices are small, and threads fighting over busy cores made fits 50x slower.
        with threadpool_limits(limits=1):
            self.model_ = self._regression().fit(x, y, sample_weight=sample_weight)
            if self.calibrate and len(y) >= self.min_calibration:
                self.temperature_ = self._fit_temperature(x, y, sample_weight)
        return self

    def _fit_temperature(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None) -> float:
        """The temperature that minimises the log loss of out-of-fold predictions (classes seen in each fold)."""
        counts = np.array([(y == c).sum() for c in self.classes_])
        n_folds = int(min(self.n_folds, counts.max()))
        if n_folds < 2:
            return 1.0
        # Classes too small to appear in every fold are left out of the calibration, not of the model.
        keep = np.isin(y, self.classes_[counts >= n_folds])
        if len(set(y[keep].tolist())) < 2:
            return 1.0
        folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=self.seed)
        logits, truth = [], []
        xk, yk = x[keep], y[keep]
        wk = None if sample_weight is None else sample_weight[keep]
        for train, test in folds.split(xk, yk):
            model = self._regression().fit(xk[train], yk[train], sample_weight=None if wk is None else wk[train])
            fold_logits = np.atleast_2d(model.decision_function(xk[test]))
            if fold_logits.shape[0] != len(test):  # binary: one column of log-odds
                fold_logits = fold_logits.T
            if model.classes_.size == 2:
                fold_logits = np.hstack([-fold_logits / 2, fold_logits / 2])
            column = {int(c): j for j, c in enumerate(model.classes_)}
            inside = np.array([int(t) in column for t in yk[test]])
            logits.append(fold_logits[inside])
            truth.append(np.array([column[int(t)] for t in yk[test][inside]], dtype=int))
            if len(logits) > 1 and logits[-1].shape[1] != logits[0].shape[1]:
                return 1.0  # folds with different classes: keep the regression's own probabilities
        all_logits, all_truth = np.vstack(logits), np.concatenate(truth)
        losses = []
        for t in _TEMPERATURES:
            p = _softmax(all_logits / t)
            losses.append(-np.mean(np.log(np.clip(p[np.arange(len(all_truth)), all_truth], 1e-12, 1.0))))
        return float(_TEMPERATURES[int(np.argmin(losses))])

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        x = np.asarray(embeddings, dtype=np.float64)
        if self.model_ is None:
            return np.ones((len(x), 1))
        with threadpool_limits(limits=1):
            logits = np.atleast_2d(self.model_.decision_function(x))
        if len(self.classes_) == 2:
            logits = np.column_stack([-logits.ravel() / 2, logits.ravel() / 2])
        return _softmax(logits / self.temperature_)

    def predict(self, embeddings: np.ndarray) -> Prediction:
        """Codes for ``embeddings``: the most probable theme, or ``QUEUE`` (see the class docstring)."""
        proba = self.predict_proba(embeddings)
        themes = self.classes_ != QUEUE
        order = np.argsort(-proba, axis=1, kind="stable")
        best = self.classes_[order[:, 0]]
        top = proba[np.arange(len(proba)), order[:, 0]]
        runner_up = np.full(len(proba), QUEUE, dtype=int)
        labels = np.where(top >= self.min_probability, best, QUEUE).astype(int)
        for i in range(len(proba)):
            ranked = [int(self.classes_[j]) for j in order[i] if themes[j]]
            others = [t for t in ranked if t != labels[i]]
            if labels[i] == QUEUE and ranked:
                runner_up[i] = ranked[0]  # the suggestion for the reviewer
            elif others:
                runner_up[i] = others[0]
        return Prediction(labels=labels, scores=np.clip(top, 0.0, 1.0), runner_up=runner_up, proba=proba,
                          classes=self.classes_)  # fmt: skip


class CentroidCoder:
    """Nearest theme centroid with the outlier rule of ``ThemeModel.assign``: used when decisions are too few.

    ``fit`` takes the embeddings of excerpts currently coded into each theme (queued ones left out).
    """

    def fit(self, embeddings: np.ndarray, labels: Sequence[int] | np.ndarray) -> CentroidCoder:
        x = np.asarray(embeddings, dtype=np.float32)
        y = np.asarray(labels, dtype=int)
        themes = sorted(set(y.tolist()) - {QUEUE})
        if not themes:
            raise ValueError("no excerpt coded into a theme: nothing to code with")
        centroids = np.vstack([x[y == t].mean(axis=0) for t in themes])
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        self.classes_ = np.array(themes, dtype=int)
        self.centroids_ = centroids.astype(np.float32)
        sims = x @ self.centroids_.T
        self.thresholds_ = np.array(
            [joining_threshold(sims[y == t, j]) for j, t in enumerate(themes)], dtype=np.float32
        )
        return self

    def predict(self, embeddings: np.ndarray) -> Prediction:
        sims = np.asarray(embeddings, dtype=np.float32) @ self.centroids_.T
        order = np.argsort(-sims, axis=1, kind="stable")
        best = order[:, 0]
        top = sims[np.arange(len(sims)), best]
        fits = top >= self.thresholds_[best]
        labels = np.where(fits, self.classes_[best], QUEUE).astype(int)
        runner_up = np.full(len(sims), QUEUE, dtype=int)
        for i in range(len(sims)):
            if not fits[i]:
                runner_up[i] = self.classes_[best[i]]
            elif sims.shape[1] > 1:
                runner_up[i] = self.classes_[order[i, 1]]
        return Prediction(labels=labels, scores=np.clip(top, 0.0, 1.0), runner_up=runner_up,
                          proba=np.clip(sims, 0.0, 1.0), classes=self.classes_)  # fmt: skip


def training_set(
    validated: np.ndarray,
    labels: Sequence[int],
    prior: np.ndarray | None = None,
    prior_labels: Sequence[int] = (),
    prior_weight: float = 0.1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :meth:`CodeClassifier.fit` learns from: the ``validated`` excerpts (weight 1) and, as weak evidence,
    the machine's own codes of excerpts no one has decided yet (``prior``, weight ``prior_weight``).

    The weak part keeps every theme of the codebook learnable before researchers have reviewed its excerpts, and
    keeps the first recodes from doing worse than the analysis they correct: on the labelled corpora of
    ``bench/learning.py`` a weight of 0.1 beat 0 (learning from the first 5% alone lost up to 0.4 of kappa on
    MEL), 0.05, 0.3, 0.5 and 1."""
    x = np.asarray(validated, dtype=np.float32)
    y = np.asarray(labels, dtype=int)
    w = np.ones(len(y))
    if prior is not None and len(prior_labels) and prior_weight > 0:
        x = np.vstack([x, np.asarray(prior, dtype=np.float32)])
        y = np.concatenate([y, np.asarray(prior_labels, dtype=int)])
        w = np.concatenate([w, np.full(len(prior_labels), prior_weight)])
    return x, y, w


# -- candidate themes among the queue ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CandidateTheme:
    """A group of queued excerpts that could become a theme: indices refer to the excerpts given."""

    candidate_id: int
    label: str
    keywords: tuple[str, ...]
    members: tuple[int, ...]
    n_respondents: int
    representatives: tuple[int, ...]


def _class_keywords(docs: Sequence[str], labels: np.ndarray, top_n: int) -> dict[int, list[str]]:
    """c-TF-IDF keywords (lemmas and lemma pairs) of each group, against all the documents given."""
    import_bertopic()
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    if not any(docs):
        return {}
    vectorizer = CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, ngram_range=(1, 2))
    counts = vectorizer.fit_transform(docs)
    vocab = np.array(vectorizer.get_feature_names_out())
    groups = sorted(set(labels.tolist()))
    per_group = np.vstack([np.asarray(counts[labels == g].sum(axis=0)).ravel() for g in groups])
    from scipy.sparse import csr_matrix

    scores = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(csr_matrix(per_group)).toarray()
    result = {}
    for row, g in enumerate(groups):
        order = np.lexsort((vocab, -scores[row]))[:top_n]
        result[g] = [str(vocab[j]) for j in order if scores[row, j] > 0]
    return result


def candidate_themes(
    embeddings: np.ndarray,
    lemmas: Sequence[Sequence[str]],
    texts: Sequence[str],
    groups: Sequence[str],
    queued: np.ndarray,
    min_size: int = 5,
    common: Sequence[str] = (),
    top_n_words: int = 10,
) -> list[CandidateTheme]:
    """New themes proposed among the ``queued`` excerpts (a boolean mask over all excerpts given).

    HDBSCAN (``min_cluster_size=min_size``) on the queued excerpts' normalised embeddings; each group of at least
    ``min_size`` excerpts becomes a candidate, largest first, labelled from its c-TF-IDF lemmas against all the
    excerpts given (so that words of the whole question do not lead).
    """
    from hdbscan import HDBSCAN

    index = np.flatnonzero(np.asarray(queued, dtype=bool))
    if len(index) < 2 * min_size:
        return []
    x = np.asarray(embeddings, dtype=np.float64)[index]
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    clusters = HDBSCAN(min_cluster_size=min_size, min_samples=max(2, min_size // 2), core_dist_n_jobs=1).fit(x).labels_
    found = sorted(
        set(clusters.tolist()) - {QUEUE}, key=lambda c: (-(clusters == c).sum(), int(np.argmax(clusters == c)))
    )
    if not found:
        return []
    everything = np.full(len(texts), QUEUE, dtype=int)  # -1: the rest of the question, the c-TF-IDF background
    for rank, c in enumerate(found):
        everything[index[clusters == c]] = rank
    docs = [" ".join(words) for words in lemmas]
    keywords = _class_keywords(docs, everything, top_n_words)
    chosen = []
    for c in found:
        members = index[clusters == c]
        centroid = x[clusters == c].mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        similarity = x[clusters == c] @ centroid
        central = members[np.lexsort((members, -similarity))[:CENTRAL_EXCERPTS]]
        chosen.append((members, centroid, central))
    labels = phrase_labels(
        texts, lemmas, [m.tolist() for m, _, _ in chosen], [c.tolist() for _, _, c in chosen], common=common
    )
    result = []
    for rank, (c, (members, centroid, _), label) in enumerate(zip(found, chosen, labels, strict=True)):
        words = keywords.get(rank, [])
        picks = representatives(x[clusters == c].astype(np.float32), centroid.astype(np.float32),
                                [groups[i] for i in members], k=5, lemmas=[lemmas[i] for i in members],
                                keywords=keyword_words(words[:10]))  # fmt: skip
        result.append(
            CandidateTheme(
                candidate_id=rank,
                label=label,
                keywords=tuple(words),
                members=tuple(int(i) for i in members),
                n_respondents=len({groups[i] for i in members}),
                representatives=tuple(int(members[p]) for p in picks),
            )
        )
    return result
