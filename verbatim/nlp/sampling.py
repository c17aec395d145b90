"""Themes for large questions: fit the theme model on a representative sample, then place every excerpt.

UMAP and HDBSCAN grow faster than linearly with the number of excerpts and their memory with it; a sample of
``sample_size`` excerpts (20,000 by default) drawn uniformly at random with the run's seed represents the themes of
a question of any size well (``bench/scale.py`` measures the agreement with a full fit). Every excerpt, sampled or
not, is then placed by :meth:`ThemeModel.assign` (its nearest theme when similar enough, else the review queue), so
all excerpts follow one rule. Keywords, labels and representative excerpts come from the sample; sizes count all
excerpts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from verbatim.nlp.clustering import QUEUE
from verbatim.nlp.families import FittedFamily, fit_families
from verbatim.nlp.jit_cache import keep_compiled_code
from verbatim.nlp.themes import FittedTheme, ThemeModel, common_lemmas

DEFAULT_SAMPLE_SIZE = 20_000


@dataclass(frozen=True)
class SampledFit:
    """The outcome for every excerpt, and the themes with members and sizes over all excerpts."""

    labels: np.ndarray
    scores: np.ndarray
    runner_up: np.ndarray
    themes: list[FittedTheme]
    granularity: dict[str, object]
    sample_size: int
    families: list[FittedFamily] = field(default_factory=list)


def _families(
    embeddings: np.ndarray,
    themes: Sequence[FittedTheme],
    lemmas: Sequence[Sequence[str]],
    surfaces: Sequence[Sequence[str]],
    texts: Sequence[str],
) -> list[FittedFamily]:
    """The families of the fitted themes (``verbatim.nlp.families``), from the excerpts the model was fitted on."""
    kept = [t for t in themes if t.members]
    return fit_families(
        embeddings,
        [t.theme_id for t in kept],
        [t.members for t in kept],
        lemmas,
        surfaces,
        texts,
        common=sorted(common_lemmas(lemmas)),
    )


def sample_indices(n: int, sample_size: int, seed: int) -> np.ndarray:
    """Sorted indices of a uniform random sample of ``sample_size`` among ``n`` (all of them when n is smaller)."""
    if n <= sample_size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=sample_size, replace=False))


def fit_themes(
    model: ThemeModel,
    embeddings: np.ndarray,
    lemmas: Sequence[Sequence[str]],
    surfaces: Sequence[Sequence[str]],
    texts: Sequence[str],
    groups: Sequence[str],
    sample_size: int = DEFAULT_SAMPLE_SIZE,
) -> SampledFit:
    """Fit ``model`` on all excerpts, or on a sample of them when there are more than ``sample_size``."""
    keep_compiled_code()  # UMAP's numba code: compiled once per machine, not once per process
    n = len(texts)
    picked = sample_indices(n, sample_size, model.seed)
    if len(picked) == n:
        model.fit(embeddings, lemmas, surfaces, texts, groups)
        families = _families(embeddings, model.themes_, lemmas, surfaces, texts)
        return SampledFit(
            model.labels_, model.scores_, model.runner_up_, list(model.themes_), dict(model.granularity_), n, families
        )
    sampled = ([lemmas[i] for i in picked], [surfaces[i] for i in picked], [texts[i] for i in picked])
    model.fit(embeddings[picked], *sampled, [groups[i] for i in picked])
    families = _families(embeddings[picked], model.themes_, *sampled)
    placed = model.assign(embeddings)
    themes = []
    for theme in model.themes_:
        members = np.flatnonzero(placed.labels == theme.theme_id)
        # A consensus theme's member may lie nearer another theme's centroid: it then represents that one no more.
        kept = [int(picked[i]) for i in theme.representatives if placed.labels[picked[i]] == theme.theme_id]
        if not kept:  # the theme's members most similar to its centroid
            kept = members[np.argsort(-placed.scores[members], kind="stable")][: len(theme.representatives)].tolist()
        themes.append(
            replace(
                theme,
                members=tuple(int(i) for i in members),
                n_respondents=len({groups[i] for i in members.tolist()}),
                representatives=tuple(kept),
            )
        )
    granularity = {**model.granularity_, "sample_size": len(picked)}
    return SampledFit(placed.labels, placed.scores, placed.runner_up, themes, granularity, len(picked), families)


__all__ = ["DEFAULT_SAMPLE_SIZE", "QUEUE", "SampledFit", "fit_themes", "sample_indices"]
