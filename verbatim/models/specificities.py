"""Which groups say what: for each theme and each value of a respondent attribute, how many respondents of that
group carry the theme against how many an even spread would give, and whether the difference is more than noise.

The test is the hypergeometric one of the "spécificités" (Lafon; IRaMuTeQ, Lexico): among the ``population``
respondents whose answer was analysed, ``carrying`` carry the theme; a group of ``group_size`` of them holds ``n``
carriers. The p-value is two-sided (twice the smaller tail, at most 1), and the p-values of one question (every
theme x attribute value) are adjusted together (Benjamini-Hochberg, ``statsmodels``). A cell is marked over- or
under-represented only when its adjusted p-value is below :data:`ALPHA` and it rests on enough respondents: a group
of at least :data:`MIN_GROUP`, and at least :data:`MIN_CARRIERS` carriers observed (over) or expected (under). Small
groups are still listed, never marked on a handful of respondents.

Counts are per respondent: an answer with two excerpts in a theme counts once; rejected answers are not counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.stats import hypergeom
from statsmodels.stats.multitest import multipletests

ALPHA = 0.05
MIN_GROUP = 10
MIN_CARRIERS = 3


class Direction(StrEnum):
    OVER = "over"
    UNDER = "under"
    NONE = ""


@dataclass(frozen=True)
class Specificity:
    theme_id: int
    attribute: str
    value: str
    n: int  # respondents of the group carrying the theme
    group_size: int  # respondents of the group whose answer was analysed
    carrying: int  # respondents carrying the theme, all groups
    population: int  # respondents whose answer was analysed
    p_value: float
    p_adjusted: float
    direction: Direction

    @property
    def expected(self) -> float:
        return self.group_size * self.carrying / self.population if self.population else 0.0

    @property
    def ratio(self) -> float:
        return self.n / self.expected if self.expected else 0.0


def specificities(
    themes_of: Mapping[str, set[int]],
    attributes_of: Mapping[str, Mapping[str, str]],
    attributes: Sequence[str],
) -> list[Specificity]:
    """Every cell theme x attribute value of one question.

    ``themes_of``: each respondent whose answer was analysed -> the themes they carry (maybe none);
    ``attributes_of``: respondent -> attribute -> value (an empty value forms no group)."""
    respondents = sorted(themes_of)
    population = len(respondents)
    carrying = Counter(t for themes in themes_of.values() for t in themes)  # respondents carrying each theme
    theme_ids = sorted(carrying)
    cells: list[tuple[int, str, str, int, int]] = []
    for attribute in attributes:
        groups: dict[str, list[str]] = {}
        for r in respondents:
            value = str(attributes_of.get(r, {}).get(attribute, "") or "").strip()
            if value:
                groups.setdefault(value, []).append(r)
        for value in sorted(groups):
            members = groups[value]
            carried = Counter(t for r in members for t in themes_of[r])  # one pass over the group, not one a theme
            for t in theme_ids:
                cells.append((t, attribute, value, carried[t], len(members)))
    if not cells:
        return []
    n_obs = np.array([c[3] for c in cells])
    sizes = np.array([c[4] for c in cells])
    totals = np.array([carrying[c[0]] for c in cells])
    upper = hypergeom.sf(n_obs - 1, population, totals, sizes)  # P(X >= n)
    lower = hypergeom.cdf(n_obs, population, totals, sizes)  # P(X <= n)
    p_values = np.minimum(1.0, 2.0 * np.minimum(upper, lower))
    adjusted = multipletests(p_values, method="fdr_bh")[1]
    result = []
    for (t, attribute, value, n, size), p, q in zip(cells, p_values, adjusted, strict=True):
        expected = size * carrying[t] / population
        direction = Direction.NONE
        if q < ALPHA and size >= MIN_GROUP:
            if n > expected and n >= MIN_CARRIERS:
                direction = Direction.OVER
            elif n < expected and expected >= MIN_CARRIERS:
                direction = Direction.UNDER
        result.append(Specificity(t, attribute, value, n, size, carrying[t], population, float(p), float(q), direction))
    return result


def in_words(s: Specificity) -> str:
    """One French sentence: « profession = CESF : 18 sur 30 en parlent, 2,4 fois plus que l'ensemble (p ajusté <
    0,001) »."""
    who = f"{s.attribute} = {s.value}"
    if s.n == 0:
        said = f"aucun·e sur {s.group_size} n'en parle ({_fr(s.expected)} attendu·e·s)"
    elif s.direction == Direction.OVER:
        said = f"{s.n} sur {s.group_size} en parlent, {_fr(s.ratio)} fois plus que l'ensemble"
    elif s.direction == Direction.UNDER:
        said = f"{s.n} sur {s.group_size} en parlent, {_fr(1 / s.ratio)} fois moins que l'ensemble"
    else:
        said = f"{s.n} sur {s.group_size} en parlent, comme l'ensemble"
    return f"{who} : {said} ({p_words(s.p_adjusted)})"


def p_words(p: float) -> str:
    if p < 0.001:
        return "p ajusté < 0,001"
    return f"p ajusté = {_fr(p, 3)}"


def _fr(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}".replace(".", ",")
