"""Blind double coding: two researchers code the same sample of excerpts, each without seeing the other's codes.

The rules, written once here (pure functions over a question's decisions; nothing stored):

* A blind code is a measurement of agreement, not a code: it never changes an excerpt's current code
  (``verbatim.models.review.current_codes`` leaves it out); ``verbatim.models.agreement`` reads it.
* A sample is *open* until both of its coders have a counting blind code on every excerpt of it, then *closed*.
* While a sample is open, its blind codes (and the undos of them) are seen by their author and by the
  administrators who are not one of its two coders, by nobody else: a coder never sees the other's code or name.
* Once closed, everyone sees them, they no longer change (no new blind code, no undo), and an administrator
  settles each disagreement with a normal decision (:func:`adjudication`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from verbatim.models.agreement import decision_theme
from verbatim.models.decisions import QuestionState
from verbatim.models.review import EXCERPT_KINDS, QUEUE, Decision, DecisionKind, counting


@dataclass(frozen=True)
class Sample:
    """The excerpts of one question drawn for two researchers to code blind."""

    question: str
    coder_a: str
    coder_b: str
    excerpt_ids: list[str]

    def has(self, coder: str) -> bool:
        return coder in (self.coder_a, self.coder_b)

    def other(self, coder: str) -> str:
        return self.coder_b if coder == self.coder_a else self.coder_a


@dataclass(frozen=True)
class Disagreement:
    """One excerpt of a closed sample that its two coders coded differently."""

    excerpt_id: str
    theme_a: int  # the first coder's theme (-1: no theme), followed through merges
    theme_b: int
    settled_by: Decision | None  # the latest normal decision on the excerpt made after both blind codes, if any


def blind_codes(state: QuestionState, sample: Sample) -> dict[str, dict[str, int]]:
    """coder → excerpt → theme: each of the sample's two coders' latest counting blind code on its excerpts."""
    units = set(sample.excerpt_ids)
    codes: dict[str, dict[str, int]] = {sample.coder_a: {}, sample.coder_b: {}}
    for d in counting(state.decisions):
        if d.double_coding and d.kind in EXCERPT_KINDS and d.excerpt_id in units and d.coder in codes:
            codes[d.coder][d.excerpt_id] = decision_theme(d, state)
    return codes


def is_closed(state: QuestionState, sample: Sample) -> bool:
    codes = blind_codes(state, sample)
    return all(len(codes[c]) == len(set(sample.excerpt_ids)) for c in (sample.coder_a, sample.coder_b))


def hidden_decisions(
    decisions: Sequence[Decision], samples: Iterable[Sample], closed: Iterable[Sample], viewer: str, admin: bool
) -> set[int]:
    """Ids of the decisions ``viewer`` must not see: the blind codes of open samples that are not theirs (unless
    they administer and do not code the sample), and the undos of those, transitively."""
    shut = {(s.question, s.coder_a, s.coder_b, tuple(s.excerpt_ids)) for s in closed}
    hidden: set[int] = set()
    for sample in samples:
        if (sample.question, sample.coder_a, sample.coder_b, tuple(sample.excerpt_ids)) in shut:
            continue
        if admin and not sample.has(viewer):
            continue
        units = set(sample.excerpt_ids)
        hidden |= {d.id for d in decisions if d.double_coding and d.excerpt_id in units and d.coder != viewer}
    grew = bool(hidden)
    while grew:
        more = {d.id for d in decisions if d.kind == DecisionKind.UNDO and d.undoes_id in hidden} - hidden
        hidden |= more
        grew = bool(more)
    return hidden


def as_seen_by(state: QuestionState, samples: Sequence[Sample], viewer: str, admin: bool) -> QuestionState:
    """``state`` as ``viewer`` may see it: the decisions they must not see left out (the codes do not depend on
    them: blind codes never change a code)."""
    mine = [s for s in samples if s.question == state.question]
    if not mine:
        return state
    closed = [s for s in mine if is_closed(state, s)]
    hidden = hidden_decisions(state.decisions, mine, closed, viewer, admin)
    if not hidden:
        return state
    return replace(state, decisions=[d for d in state.decisions if d.id not in hidden])


def blind_kind(chosen: int, current: int) -> DecisionKind:
    """How a blind code of theme ``chosen`` is logged, the excerpt's code being ``current``: no theme (-1) is a
    rejection, the current theme an acceptance, any other theme a recode."""
    if chosen == QUEUE:
        return DecisionKind.REJECT
    return DecisionKind.ACCEPT if chosen == current else DecisionKind.RECODE


def adjudication(state: QuestionState, sample: Sample) -> tuple[list[Disagreement], int]:
    """The disagreements of a closed ``sample`` (in the sample's order) and the number of excerpts both coded the
    same."""
    codes = blind_codes(state, sample)
    a, b = codes[sample.coder_a], codes[sample.coder_b]
    settled: dict[str, Decision] = {}
    for d in counting(state.decisions):  # oldest first: a normal decision after the blind codes settles
        if d.excerpt_id is None or d.kind not in EXCERPT_KINDS:
            continue
        if d.double_coding:
            settled.pop(d.excerpt_id, None)
        else:
            settled[d.excerpt_id] = d
    rows = []
    same = 0
    for e in sample.excerpt_ids:
        if e not in a or e not in b:
            continue
        if a[e] == b[e]:
            same += 1
            continue
        rows.append(Disagreement(e, a[e], b[e], settled.get(e)))
    return rows, same
