"""Agreement and progress of a question's review, computed from its state (pure functions, nothing stored).

* Machine vs each researcher: Cohen's kappa on the excerpts the researcher decided, between the machine's theme and
  the researcher's theme (both followed through merges, so that merging two themes is not counted as disagreement).
* Share of the machine's codes accepted, per theme.
* Between researchers: Krippendorff's alpha (nominal) on the excerpts that at least two of them coded.
* Progress: share of the question's excerpts with a decision that counts.

A researcher's theme for an excerpt is the outcome of their latest counting decision on it: the theme accepted, the
theme recoded to, or the review queue (``-1``) for a rejection.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from verbatim.models.decisions import QuestionState
from verbatim.models.review import EXCERPT_KINDS, QUEUE, Decision, DecisionKind, counting, resolve


@dataclass(frozen=True)
class Progress:
    n_excerpts: int
    n_decided: int

    @property
    def share(self) -> float:
        return self.n_decided / self.n_excerpts if self.n_excerpts else 0.0


@dataclass(frozen=True)
class CoderAgreement:
    """The machine against one researcher."""

    coder: str
    n_excerpts: int  # excerpts the researcher decided
    n_same: int  # of which the researcher kept the machine's theme
    kappa: float | None  # None where undefined (no excerpt, or a single theme on both sides)

    @property
    def share_same(self) -> float | None:
        return self.n_same / self.n_excerpts if self.n_excerpts else None


@dataclass(frozen=True)
class ThemeAcceptance:
    """The machine's codes into one theme, and how researchers received them."""

    theme_id: int
    n_machine: int  # excerpts the machine put in this theme (followed through merges)
    n_decided: int  # of which a researcher decided
    n_accepted: int  # of which the decision kept this theme

    @property
    def share_accepted(self) -> float | None:
        return self.n_accepted / self.n_decided if self.n_decided else None


@dataclass(frozen=True)
class Alpha:
    """Krippendorff's alpha (nominal) between coders, on the units at least two of them coded."""

    value: float | None  # None where undefined (no unit coded twice, or a single value in the data)
    n_units: int
    coders: tuple[str, ...]
    n_same: int  # units on which every coder gave the same theme


def progress(state: QuestionState) -> Progress:
    decided = sum(1 for c in state.codes.values() if c.decision_id is not None)
    return Progress(len(state.codes), decided)


def decision_theme(decision: Decision, state: QuestionState) -> int:
    """The theme an excerpt decision gives its excerpt, followed through merges (``-1``: the review queue)."""
    if decision.kind == DecisionKind.REJECT:
        return QUEUE
    if decision.kind == DecisionKind.RECODE and decision.to_theme_id is not None:
        return resolve(decision.to_theme_id, state.themes)
    machine = state.machine.get(decision.excerpt_id or "")
    theme = decision.theme_id if decision.theme_id is not None else (machine.theme_id if machine else QUEUE)
    return QUEUE if theme == QUEUE else resolve(theme, state.themes)


def researcher_codes(state: QuestionState, double_coding: bool | None = None) -> dict[str, dict[str, int]]:
    """coder → excerpt → theme, from each coder's latest counting excerpt decision. ``double_coding``: only the
    decisions made in (True) or out of (False) the blind double-coding mode; None: all of them."""
    codes: dict[str, dict[str, int]] = {}
    for d in counting(state.decisions):
        if d.kind not in EXCERPT_KINDS or d.excerpt_id is None or d.excerpt_id not in state.machine:
            continue
        if double_coding is not None and d.double_coding != double_coding:
            continue
        codes.setdefault(d.coder, {})[d.excerpt_id] = decision_theme(d, state)
    return codes


def machine_theme(excerpt_id: str, state: QuestionState) -> int:
    theme = state.machine[excerpt_id].theme_id
    return QUEUE if theme == QUEUE else resolve(theme, state.themes)


def cohen_kappa(a: list[int], b: list[int]) -> float | None:
    """Cohen's kappa between two codings of the same units; None where it is undefined."""
    if not a or len(a) != len(b):
        return None
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(cohen_kappa_score(a, b))
    return None if math.isnan(value) else value


def machine_vs_researchers(state: QuestionState) -> list[CoderAgreement]:
    result = []
    for coder, mine in sorted(researcher_codes(state).items()):
        ids = sorted(mine)
        machine = [machine_theme(e, state) for e in ids]
        theirs = [mine[e] for e in ids]
        same = sum(1 for m, t in zip(machine, theirs, strict=True) if m == t)
        result.append(CoderAgreement(coder, len(ids), same, cohen_kappa(machine, theirs)))
    return result


def acceptance_by_theme(state: QuestionState) -> list[ThemeAcceptance]:
    """Per active theme: the machine's codes into it, how many a researcher decided, how many kept it."""
    rows: dict[int, list[int]] = {t.theme_id: [0, 0, 0] for t in state.active_themes()}
    for excerpt_id, code in state.codes.items():
        theme = machine_theme(excerpt_id, state)
        if theme not in rows:
            continue
        counts = rows[theme]
        counts[0] += 1
        if code.decision_id is not None:
            counts[1] += 1
            counts[2] += code.theme_id == theme
    return [ThemeAcceptance(t, *c) for t, c in sorted(rows.items()) if c[0] or c[1]]


def krippendorff_alpha(codes: Mapping[str, Mapping[str, int]]) -> Alpha:
    """Krippendorff's alpha (nominal) between the coders of ``codes`` (coder → unit → value), on the units that
    two coders or more coded."""
    coders = tuple(sorted(c for c in codes if codes[c]))
    count: dict[str, int] = {}
    for c in coders:
        for unit in codes[c]:
            count[unit] = count.get(unit, 0) + 1
    units = sorted(u for u, n in count.items() if n >= 2)
    same = sum(1 for u in units if len({codes[c][u] for c in coders if u in codes[c]}) == 1)
    values = {codes[c][u] for c in coders for u in units if u in codes[c]}
    if not units or len(values) < 2:
        return Alpha(None, len(units), coders, same)
    import krippendorff
    import numpy as np

    data = np.array([[codes[c].get(u, np.nan) for u in units] for c in coders], dtype=float)
    value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    return Alpha(None if math.isnan(value) else value, len(units), coders, same)
