"""Families of themes: a question's themes grouped into a few families, each with a label made like a theme's.

* The number of families follows the number of themes (:func:`n_families`): one family for up to three themes,
  else about one family per 3.5 themes, between 2 and :data:`MAX_FAMILIES` (4 or 5 families for 15 themes, 6 for
  20 and more).
* The themes' centres (the mean of their excerpts' embeddings, unit length: the encoder's space, where themes are
  scored) are grouped by agglomerative clustering (Ward linkage, deterministic: no seed needed), cut at that number.
* Each family's terms are the c-TF-IDF terms of its excerpts against the other families' (lemmas and lemma pairs,
  ``reduce_frequent_words``, as for themes), its keywords. Its label is made as a theme's
  (:func:`verbatim.nlp.labels.phrase_labels`: phrases respondents wrote in the family's excerpts most similar to its
  centre, specific to the family against the others). Families are numbered from 1, largest (in excerpts) first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from verbatim.nlp.heavy_imports import import_bertopic
from verbatim.nlp.labels import CENTRAL_EXCERPTS, phrase_labels

MAX_FAMILIES = 6
#: Themes per family the cut aims at.
THEMES_PER_FAMILY = 3.5
#: Terms a family keeps (the label reads them all; the first ten are shown).
FAMILY_TERMS = 30


@dataclass(frozen=True)
class FittedFamily:
    """A family of themes: ``theme_ids`` are the ids of :class:`verbatim.nlp.themes.FittedTheme`."""

    family_id: int
    label: str
    keywords: tuple[str, ...]
    theme_ids: tuple[int, ...]


def n_families(n_themes: int) -> int:
    """How many families ``n_themes`` themes make (see the module's rule)."""
    if n_themes <= 3:
        return 1 if n_themes else 0
    return min(MAX_FAMILIES, max(2, round(n_themes / THEMES_PER_FAMILY)))


def theme_centres(embeddings: np.ndarray, members: Sequence[Sequence[int]]) -> np.ndarray:
    """Each theme's centre: the mean of its members' embeddings, of unit length."""
    centres = np.vstack([np.asarray(embeddings[list(m)], dtype=np.float64).mean(axis=0) for m in members])
    norms = np.linalg.norm(centres, axis=1, keepdims=True)
    return np.divide(centres, norms, out=np.zeros_like(centres), where=norms > 0)


def group_themes(centres: np.ndarray, k: int) -> np.ndarray:
    """The family index (0 to k-1) of each theme centre: Ward clustering cut at ``k`` groups."""
    n = len(centres)
    if k <= 1 or n <= 1:
        return np.zeros(n, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    return np.asarray(AgglomerativeClustering(n_clusters=min(k, n), linkage="ward").fit_predict(centres), dtype=int)


def family_terms(
    docs: Sequence[str], family_of_doc: Sequence[int], n_groups: int, top: int = FAMILY_TERMS
) -> list[list[str]]:
    """Each family's c-TF-IDF terms (lemmas and lemma pairs of its documents, the other families as background)."""
    if n_groups == 0:
        return []
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    rows = np.asarray(family_of_doc, dtype=int)
    kept = np.flatnonzero(rows >= 0)  # excerpts of no family (the review queue) are no family's background
    vectorizer = CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, ngram_range=(1, 2))
    try:
        counts = vectorizer.fit_transform([docs[i] for i in kept.tolist()])
    except ValueError:  # no word at all
        return [[] for _ in range(n_groups)]
    indicator = sparse.csr_matrix((np.ones(len(kept)), (rows[kept], np.arange(len(kept)))), shape=(n_groups, len(kept)))
    per_family = indicator @ counts
    import_bertopic()  # seconds: when families are made
    from bertopic.vectorizers import ClassTfidfTransformer

    weights = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(per_family).toarray()
    words = vectorizer.get_feature_names_out()
    result = []
    for row in weights:
        order = np.lexsort((words, -row))
        result.append([str(words[i]) for i in order[:top] if row[i] > 0])
    return result


def fit_families(
    embeddings: np.ndarray,
    theme_ids: Sequence[int],
    members: Sequence[Sequence[int]],
    lemmas: Sequence[Sequence[str]],
    surfaces: Sequence[Sequence[str]],
    texts: Sequence[str],
    common: Sequence[str] = (),
) -> list[FittedFamily]:
    """The families of a question's themes (``members``: each theme's excerpt indices into the other arguments)."""
    k = n_families(len(theme_ids))
    if k == 0:
        return []
    groups = group_themes(theme_centres(embeddings, members), k) if k > 1 else np.zeros(len(theme_ids), dtype=int)
    sizes = np.zeros(int(groups.max()) + 1, dtype=int)
    for g, m in zip(groups.tolist(), members, strict=True):
        sizes[g] += len(m)
    # Largest family first; ties by the smallest theme id in it.
    firsts: dict[int, int] = {}
    for t, g in zip(theme_ids, groups.tolist(), strict=True):
        firsts[g] = min(firsts.get(g, t), t)
    order = sorted(firsts, key=lambda g: (-sizes[g], firsts[g]))
    number = {g: i for i, g in enumerate(order)}
    family_of_doc = np.full(len(texts), -1, dtype=int)
    for g, m in zip(groups.tolist(), members, strict=True):
        family_of_doc[list(m)] = number[g]
    docs = [" ".join(words) for words in lemmas]
    terms = family_terms(docs, family_of_doc.tolist(), len(order))
    family_members = [np.flatnonzero(family_of_doc == number[g]).tolist() for g in order]
    centres = theme_centres(embeddings, family_members)
    central = []
    for rows, centre in zip(family_members, centres, strict=True):
        sims = np.asarray(embeddings[rows], dtype=np.float64) @ centre
        central.append([rows[k] for k in np.argsort(-sims, kind="stable")[:CENTRAL_EXCERPTS].tolist()])
    labels = phrase_labels(texts, lemmas, family_members, central, common=common)
    families = []
    for g in order:
        i = number[g]
        ids = tuple(int(t) for t, gg in zip(theme_ids, groups.tolist(), strict=True) if gg == g)
        families.append(
            FittedFamily(
                family_id=i + 1,
                label=labels[i],
                keywords=tuple(terms[i][:10]),
                theme_ids=ids,
            )
        )
    return families
