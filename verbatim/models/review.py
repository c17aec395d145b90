"""What the decisions mean: the current codebook and the current code of each excerpt, derived, never stored.

The decision log is append-only. From the machine's codes and the decisions, in order:

* *Undo* is a decision that names another one; an undone decision no longer counts. Undoing an undo brings the
  first decision back.
* *Themes*: ``create_theme`` adds a theme (to recode into, or split from a parent), ``rename`` and ``describe``
  change its label or description, ``merge`` sends a theme and all its excerpts into another, ``delete_theme``
  removes an empty theme from the codebook (undo brings it back; an excerpt that an undo sends back into a deleted
  theme waits in the review queue). The lineage (which
  theme became which) is the chain of merges and the parents of split themes.
* *Excerpts*: the latest counting ``accept`` / ``reject`` / ``recode`` decides. Without one, the machine's code stands.
  Themes merged away are followed to the theme they became. A ``reject`` says the excerpt does not belong where it
  was: it waits in the review queue (``rejected``) until someone recodes it, or confirms that it fits no theme by
  accepting it without a theme (``accept`` of ``QUEUE``: ``no_theme``, out of the queue).
* *Blind double coding*: a decision made in blind double coding (``double_coding``) is a measurement of agreement,
  not a code: it never changes the excerpt's current code (``verbatim.models.blind``, ``verbatim.models.agreement``).
* *Families*: the machine groups each question's themes into families (stored with the run). ``rename_family``
  renames one; ``move_to_family`` puts a theme in another family, or in a new one named by the decision. A theme
  made by a researcher starts in its parent's family as it is then (a split), else in the family 'Autres'. A run
  analysed before families were stored reads as one family, 'Thèmes', holding every theme.
* *Conflicts*: a decision made without having seen an earlier decision on the same excerpt by someone else keeps a
  link to it; the excerpt shows the latest decision and flags the conflict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

QUEUE = -1


class DecisionKind(StrEnum):
    ACCEPT = "accept"  # the excerpt's current theme is right
    REJECT = "reject"  # the excerpt does not belong to its theme: it waits in the review queue to be recoded
    RECODE = "recode"  # the excerpt belongs to ``to_theme_id``
    UNDO = "undo"  # ``undoes_id`` no longer counts
    RENAME = "rename"  # theme ``theme_id`` is now called ``text``
    DESCRIBE = "describe"  # theme ``theme_id`` is now described by ``text``
    MERGE = "merge"  # theme ``theme_id`` goes into ``to_theme_id``
    CREATE_THEME = "create_theme"  # new theme ``to_theme_id`` named ``text``, split from ``theme_id`` if set
    DELETE_THEME = "delete_theme"  # theme ``theme_id``, empty, leaves the codebook
    RENAME_FAMILY = "rename_family"  # family ``family_id`` is now called ``text``
    MOVE_TO_FAMILY = "move_to_family"  # theme ``theme_id`` goes into family ``family_id`` (new, named ``text``)


EXCERPT_KINDS = frozenset({DecisionKind.ACCEPT, DecisionKind.REJECT, DecisionKind.RECODE})
THEME_KINDS = frozenset(
    {
        DecisionKind.RENAME,
        DecisionKind.DESCRIBE,
        DecisionKind.MERGE,
        DecisionKind.CREATE_THEME,
        DecisionKind.DELETE_THEME,
    }
)
FAMILY_KINDS = frozenset({DecisionKind.RENAME_FAMILY, DecisionKind.MOVE_TO_FAMILY})
#: The one family of a run analysed before families were stored.
DEFAULT_FAMILY_ID = 1
DEFAULT_FAMILY_LABEL = "Thèmes"
#: The family of themes made by researchers outside any family (a new theme that is not a split).
OTHER_FAMILY_ID = 0
OTHER_FAMILY_LABEL = "Autres"


class ReviewStatus(StrEnum):
    MACHINE = "machine"  # coded by the machine, no decision yet
    QUEUED = "queued"  # in the review queue, no decision yet
    ACCEPTED = "accepted"
    RECODED = "recoded"
    REJECTED = "rejected"  # taken out of its theme, waiting in the review queue to be recoded or confirmed
    NO_THEME = "no_theme"  # a researcher confirmed that it fits no theme (an ``accept`` of the queue)


@dataclass(frozen=True)
class Decision:
    id: int
    kind: DecisionKind
    coder: str
    created_at: datetime
    excerpt_id: str | None = None
    theme_id: int | None = None
    to_theme_id: int | None = None
    text: str | None = None
    undoes_id: int | None = None
    batch_id: str | None = None
    conflict_with_id: int | None = None
    double_coding: bool = False
    family_id: int | None = None


@dataclass(frozen=True, slots=True)  # one per excerpt: a question of 200,000 excerpts holds as many
class MachineCode:
    excerpt_id: str
    theme_id: int
    score: float
    runner_up_theme_id: int | None = None


@dataclass(frozen=True)
class ThemeBase:
    """A theme as first created (by the machine, or by a researcher's ``create_theme``)."""

    theme_id: int
    label: str
    description: str = ""
    created_by: str = "machine"
    parent_theme_id: int | None = None
    family_id: int | None = None  # the machine's family of the theme (None: a researcher's theme, or an old run)


@dataclass(frozen=True)
class FamilyBase:
    """A family of themes as the machine grouped and named it."""

    family_id: int
    label: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class FamilyState:
    family_id: int
    label: str
    machine_label: str
    keywords: tuple[str, ...] = ()
    created_by: str = "machine"
    decision_ids: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class ThemeState:
    theme_id: int
    label: str
    description: str
    created_by: str
    parent_theme_id: int | None
    merged_into: int | None = None
    machine_label: str = ""
    decision_ids: tuple[int, ...] = field(default=())
    deleted: bool = False

    @property
    def active(self) -> bool:
        return self.merged_into is None and not self.deleted


@dataclass(frozen=True, slots=True)  # one per excerpt, like MachineCode
class CurrentCode:
    excerpt_id: str
    theme_id: int
    status: ReviewStatus
    machine_theme_id: int
    score: float
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_id: int | None = None
    conflict: bool = False


def undone(decisions: Iterable[Decision]) -> set[int]:
    """Ids of the decisions that no longer count: named by an undo that itself counts (newest first decides)."""
    ids: set[int] = set()
    for d in sorted(decisions, key=lambda d: d.id, reverse=True):
        if d.id not in ids and d.kind == DecisionKind.UNDO and d.undoes_id is not None:
            ids.add(d.undoes_id)
    return ids


def counting(decisions: Iterable[Decision]) -> list[Decision]:
    """The decisions that count, oldest first: every decision not undone, undos themselves left out."""
    ordered = sorted(decisions, key=lambda d: d.id)
    gone = undone(ordered)
    return [d for d in ordered if d.id not in gone and d.kind != DecisionKind.UNDO]


def theme_states(bases: Sequence[ThemeBase], decisions: Iterable[Decision]) -> dict[int, ThemeState]:
    """The codebook as it stands: every theme ever created, with its current label and what it was merged into."""
    states = {
        b.theme_id: ThemeState(b.theme_id, b.label, b.description, b.created_by, b.parent_theme_id, None, b.label)
        for b in bases
    }
    for d in counting(decisions):
        if d.kind not in THEME_KINDS:
            continue
        if d.kind == DecisionKind.CREATE_THEME and d.to_theme_id is not None and d.to_theme_id not in states:
            states[d.to_theme_id] = ThemeState(d.to_theme_id, d.text or "", "", d.coder, d.theme_id, None, d.text or "")
            continue
        target = d.to_theme_id if d.kind == DecisionKind.CREATE_THEME else d.theme_id
        if target is None or target not in states:
            continue
        state = states[target]
        if d.kind == DecisionKind.RENAME and d.text:
            state = replace(state, label=d.text)
        elif d.kind == DecisionKind.DESCRIBE and d.text is not None:
            state = replace(state, description=d.text)
        elif d.kind == DecisionKind.MERGE and d.to_theme_id in states and d.to_theme_id != target:
            state = replace(state, merged_into=d.to_theme_id)
        elif d.kind == DecisionKind.DELETE_THEME:
            state = replace(state, deleted=True)
        states[target] = replace(state, decision_ids=(*state.decision_ids, d.id))
    return states


def family_states(
    families: Sequence[FamilyBase],
    themes: Sequence[ThemeBase],
    states: dict[int, ThemeState],
    decisions: Iterable[Decision],
) -> tuple[dict[int, FamilyState], dict[int, int]]:
    """The families as they stand and the family of every theme of ``states`` (see the module's rules)."""
    result = {f.family_id: FamilyState(f.family_id, f.label, f.label, f.keywords) for f in families}
    if not families:  # a run analysed before families: one family holds every theme
        result[DEFAULT_FAMILY_ID] = FamilyState(DEFAULT_FAMILY_ID, DEFAULT_FAMILY_LABEL, DEFAULT_FAMILY_LABEL)
    result.setdefault(OTHER_FAMILY_ID, FamilyState(OTHER_FAMILY_ID, OTHER_FAMILY_LABEL, OTHER_FAMILY_LABEL))
    fallback = OTHER_FAMILY_ID if families else DEFAULT_FAMILY_ID
    current = {
        t.theme_id: t.family_id if t.family_id is not None and t.family_id in result else fallback for t in themes
    }
    for d in counting(decisions):
        if d.kind == DecisionKind.CREATE_THEME and d.to_theme_id is not None:
            # a split theme starts in its parent's family as it is then, a new theme in 'Autres'
            parent = current.get(d.theme_id, fallback) if d.theme_id is not None else fallback
            current[d.to_theme_id] = parent
            continue
        if d.kind not in FAMILY_KINDS or d.family_id is None:
            continue
        if d.kind == DecisionKind.MOVE_TO_FAMILY and d.family_id not in result and d.text:
            result[d.family_id] = FamilyState(d.family_id, d.text, d.text, (), d.coder)
        if d.family_id not in result:
            continue
        family = result[d.family_id]
        if d.kind == DecisionKind.RENAME_FAMILY and d.text:
            family = replace(family, label=d.text)
        elif d.kind == DecisionKind.MOVE_TO_FAMILY and d.theme_id is not None:
            current[d.theme_id] = d.family_id
        result[d.family_id] = replace(family, decision_ids=(*family.decision_ids, d.id))
    return result, {t: current.get(t, fallback) for t in states}


def _theme_now(machine_theme: int, states: dict[int, ThemeState]) -> int:
    """Where the machine's theme stands now: followed through merges, the review queue if deleted."""
    theme = resolve(machine_theme, states) if machine_theme != QUEUE else QUEUE
    return QUEUE if theme in states and states[theme].deleted else theme


def resolve(theme_id: int, states: dict[int, ThemeState]) -> int:
    """Follow merges from ``theme_id`` to the theme it is part of now."""
    seen: set[int] = set()
    while theme_id in states and states[theme_id].merged_into is not None and theme_id not in seen:
        seen.add(theme_id)
        theme_id = states[theme_id].merged_into  # type: ignore[assignment]
    return theme_id


def current_codes(
    machine: Iterable[MachineCode], decisions: Iterable[Decision], states: dict[int, ThemeState]
) -> dict[str, CurrentCode]:
    """The code of every excerpt now: the latest counting excerpt decision (blind codes left out), else the
    machine's, through merges."""
    latest: dict[str, Decision] = {}
    for decision in counting(decisions):
        if decision.kind in EXCERPT_KINDS and decision.excerpt_id is not None and not decision.double_coding:
            latest[decision.excerpt_id] = decision
    codes: dict[str, CurrentCode] = {}
    now: dict[int, int] = {}  # each machine theme's theme now (a few themes for thousands of excerpts)
    for m in machine:
        machine_theme = now.get(m.theme_id)
        if machine_theme is None:
            machine_theme = now[m.theme_id] = _theme_now(m.theme_id, states)
        d = latest.get(m.excerpt_id)
        if d is None:
            status = ReviewStatus.MACHINE if machine_theme != QUEUE else ReviewStatus.QUEUED
            codes[m.excerpt_id] = CurrentCode(m.excerpt_id, machine_theme, status, m.theme_id, m.score)
            continue
        if d.kind == DecisionKind.REJECT:
            theme, status = QUEUE, ReviewStatus.REJECTED
        elif d.kind == DecisionKind.RECODE and d.to_theme_id is not None:
            theme, status = resolve(d.to_theme_id, states), ReviewStatus.RECODED
        else:  # accept: the theme the excerpt had when it was accepted, followed through merges
            theme = resolve(d.theme_id if d.theme_id is not None else m.theme_id, states)
            status = ReviewStatus.ACCEPTED if theme != QUEUE else ReviewStatus.NO_THEME
        if theme in states and states[theme].deleted:  # sent back by an undo into a deleted theme
            theme, status = QUEUE, ReviewStatus.QUEUED
        codes[m.excerpt_id] = CurrentCode(
            m.excerpt_id,
            theme,
            status,
            m.theme_id,
            m.score,
            decided_by=d.coder,
            decided_at=d.created_at,
            decision_id=d.id,
            conflict=d.conflict_with_id is not None,
        )
    return codes


def lineage(states: dict[int, ThemeState]) -> list[tuple[int, str, int]]:
    """Edges of the codebook's history: (from theme, "merged into" | "split into", to theme)."""
    edges = [(s.theme_id, "merged into", s.merged_into) for s in states.values() if s.merged_into is not None]
    edges += [(s.parent_theme_id, "split into", s.theme_id) for s in states.values() if s.parent_theme_id is not None]
    return sorted(edges)
