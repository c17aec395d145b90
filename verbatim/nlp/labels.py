"""Readable French theme labels, one-line descriptions and representative excerpts.

A label is up to three terms taken from the theme's c-TF-IDF keywords (lemmas and lemma pairs), each written the
way respondents most often wrote it: the lemma pair ``démarche ligne`` becomes "démarches en ligne" when that is the
commonest phrase in the theme's excerpts. A term whose lemmas an earlier term already covers is skipped, so the label
never says "usager, usagers" or "formation, manque formation".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

#: Short words allowed between the two lemmas of a pair when looking for the phrase respondents wrote.
_LINK_WORDS = r"(?:de|des|du|d['’]|en|la|le|les|l['’]|à|au|aux|pour|par|sur|avec|et|sans|dans|un|une)"
_MAX_DESCRIPTION = 160


def surface_forms(lemma_lists: Sequence[Sequence[str]], surface_lists: Sequence[Sequence[str]]) -> dict[str, str]:
    """For each lemma, the surface form respondents used most (ties broken alphabetically, for determinism)."""
    counts: dict[str, Counter[str]] = {}
    for lemmas, surfaces in zip(lemma_lists, surface_lists, strict=True):
        for lemma, surface in zip(lemmas, surfaces, strict=True):
            counts.setdefault(lemma, Counter())[surface] += 1
    return {lemma: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for lemma, c in counts.items()}


def _phrase(term: str, forms: dict[str, str], texts: Sequence[str]) -> str:
    words = term.split()
    if len(words) == 1:
        return forms.get(words[0], words[0])
    first, second = (forms.get(w, w) for w in words[:2])
    pattern = re.compile(
        rf"\b{re.escape(first)}(?:\s+{_LINK_WORDS}|\s*{_LINK_WORDS}){{0,2}}\s*{re.escape(second)}\b",
        re.IGNORECASE,
    )
    found = Counter(m.group(0).lower() for t in texts for m in pattern.finditer(t))
    if found:
        return min(found.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return f"{first} {second}"


def build_label(keywords: Sequence[str], forms: dict[str, str], texts: Sequence[str], max_terms: int = 3) -> str:
    """A short label from ranked ``keywords`` (lemmas or space-separated lemma pairs)."""
    chosen: list[str] = []
    covered: set[str] = set()
    for term in keywords:
        lemmas = set(term.split())
        if lemmas <= covered:
            continue
        # A pair that contains an already chosen single lemma replaces it ("formation" -> "manque de formation").
        replaced = [c for c in chosen if set(c.split()) <= lemmas]
        for c in replaced:
            chosen.remove(c)
        chosen.append(term)
        covered |= lemmas
        if len(chosen) >= max_terms:
            break
    if not chosen:
        return "Sans mots-clés"
    phrases = [_phrase(term, forms, texts) for term in chosen]
    label = ", ".join(phrases)
    return label[:1].upper() + label[1:]


def describing_excerpt(candidates: Sequence[str], min_words: int = 6) -> str:
    """The first candidate (most central first) long enough to describe a theme, else the longest one."""
    for text in candidates:
        if len(text.split()) >= min_words:
            return text
    return max(candidates, key=len, default="")


def describe(text: str, limit: int = _MAX_DESCRIPTION) -> str:
    """One line from an excerpt: whitespace collapsed, cut at a word boundary with "…" when too long."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut} […]"


def representatives(
    embeddings: np.ndarray,
    centroid: np.ndarray,
    groups: Sequence[str],
    k: int = 5,
    diversity: float = 0.3,
    pool: int = 100,
) -> list[int]:
    """Indices (into ``embeddings``) of ``k`` excerpts that are central yet diverse, from different respondents.

    Maximal marginal relevance over the ``pool`` most central excerpts: each pick maximises
    ``(1 - diversity) * similarity to the centroid - diversity * similarity to the closest pick``, and an excerpt of a
    respondent already picked is taken only when no other respondent is left.
    """
    if len(embeddings) == 0:
        return []
    centrality = embeddings @ centroid
    order = np.lexsort((np.arange(len(centrality)), -centrality))[:pool]
    chosen: list[int] = []
    used: set[str] = set()
    while len(chosen) < min(k, len(order)):
        best, best_key = -1, (True, -np.inf)
        for i in order:
            if i in chosen:
                continue
            redundancy = max((float(embeddings[i] @ embeddings[j]) for j in chosen), default=0.0)
            value = (1 - diversity) * float(centrality[i]) - diversity * redundancy
            key = (groups[i] not in used, value)
            if key > best_key:
                best, best_key = int(i), key
        chosen.append(best)
        used.add(groups[best])
    return chosen
