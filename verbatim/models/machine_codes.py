"""Versions of the machine's codes, what researchers' decisions teach, and which excerpts to review next.

The machine is a coder of its own. Each analysis run writes its codes as version 1 (``codings`` rows with
``coder == "machine"``); each ``verbatim recode`` appends a whole new version (previous maximum + 1) for every excerpt
of the run, in one transaction. Older versions are never changed and stay readable
(``Store.machine_codings(run_id, version)``); ``DecisionLog.state`` reads the latest one.

In a new version, an excerpt a researcher has decided keeps its current theme (the one the decisions give, after
merges) with score 1.0: the machine code under a decision then says the same as the decision, so that an ``accept``
recorded without a theme can never come to mean another theme.

Review order (:func:`review_order`, for the review app, and :func:`rank_for_review`, the rule itself): among the
excerpts no researcher has decided, the least confident first (*least-confidence sampling* on the stored score, the
calibrated probability of the machine's theme after a recode, the cosine similarity to the theme's centre after an
analysis), taken in turn from each theme (and from the queue) so that one batch teaches every theme something
rather than ten times the same confusion. Excerpts queued by the machine count as the least confident of their
group.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from verbatim.errors import StoreError
from verbatim.models.decisions import DecisionLog, QuestionState
from verbatim.models.records import Coding
from verbatim.models.review import QUEUE, ReviewStatus, resolve
from verbatim.models.store import MACHINE_CODER, Store, insert_machine_codings, latest_machine_version
from verbatim.models.tables import CodingRow, ExcerptRow

#: Statuses whose theme a researcher has validated: they teach the classifier.
VALIDATED = frozenset({ReviewStatus.ACCEPTED, ReviewStatus.RECODED})
DECIDED = frozenset({ReviewStatus.ACCEPTED, ReviewStatus.RECODED, ReviewStatus.REJECTED, ReviewStatus.NO_THEME})


def latest_version(store: Store, run_id: str) -> int:
    """The newest machine coding version of the run (0 when the run has no machine codes)."""
    with store.session() as s:
        return latest_machine_version(s, run_id)


def machine_versions(store: Store, run_id: str) -> list[int]:
    with store.session() as s:
        rows = s.scalars(
            select(CodingRow.version)
            .where(CodingRow.run_id == run_id, CodingRow.coder == MACHINE_CODER)
            .distinct()
            .order_by(CodingRow.version)
        )
        return [int(v) for v in rows]


def save_machine_version(store: Store, run_id: str, codings: Sequence[Coding]) -> int:
    """Append a new machine version holding ``codings``, which must cover every excerpt of the run; returns it."""
    now = datetime.now(UTC)
    with store.session() as s:
        excerpts = set(s.scalars(select(ExcerptRow.excerpt_id).where(ExcerptRow.run_id == run_id)))
        given = [c.excerpt_id for c in codings]
        if len(set(given)) != len(given):
            raise StoreError("a machine version codes each excerpt once")
        missing, unknown = excerpts - set(given), set(given) - excerpts
        if missing or unknown:
            raise StoreError(
                f"a machine version of run '{run_id}' must code all its {len(excerpts)} excerpts: "
                f"{len(missing)} missing, {len(unknown)} not in the run"
            )
        version = 1 + latest_machine_version(s, run_id)
        insert_machine_codings(s, run_id, version, codings, now)
    return version


def run_questions(store: Store, run_id: str) -> list[str]:
    """The questions of a run, in the order of the run's parameters (then any other with excerpts)."""
    run = store.run(run_id)
    listed = [str(q) for q in run.manifest.get("parameters", {}).get("questions", [])]
    with store.session() as s:
        found = set(s.scalars(select(ExcerptRow.question).where(ExcerptRow.run_id == run_id).distinct()))
    return [q for q in listed if q in found] + sorted(found - set(listed))


def training_labels(state: QuestionState) -> dict[str, int]:
    """What the decisions teach: validated excerpts with their current theme, rejected ones with ``QUEUE``."""
    labels: dict[str, int] = {}
    for excerpt_id, code in state.codes.items():
        if code.status in VALIDATED and code.theme_id != QUEUE and state.themes.get(code.theme_id) is not None:
            labels[excerpt_id] = code.theme_id
        elif code.status in (ReviewStatus.REJECTED, ReviewStatus.NO_THEME):
            labels[excerpt_id] = QUEUE
    return dict(sorted(labels.items()))


def undecided(state: QuestionState) -> list[str]:
    return sorted(e for e, c in state.codes.items() if c.status not in DECIDED)


def decided_codings(state: QuestionState) -> list[Coding]:
    """Codes of the decided excerpts in a new version: their current theme, with score 1.0."""
    return [
        Coding(excerpt_id=e, theme_id=c.theme_id, score=1.0, runner_up_theme_id=None)
        for e, c in sorted(state.codes.items())
        if c.status in DECIDED
    ]


@dataclass(frozen=True)
class ThemeChange:
    """Excerpts of one theme whose machine code changed between two versions (themes followed through merges)."""

    theme_id: int
    label: str
    before: int  # excerpts with this machine theme in the old version
    after: int  # ... in the new version
    gained: int  # now in this theme, before elsewhere (or queued)
    lost: int  # before in this theme, now elsewhere (or queued)


def version_changes(store: Store, run_id: str, question: str, old: int, new: int) -> list[ThemeChange]:
    """Per theme (and the queue, ``-1``), how the machine's codes moved from version ``old`` to ``new``."""
    log = DecisionLog(store)
    before = log.state(run_id, question, machine_version=old)
    after = log.state(run_id, question, machine_version=new)

    def theme(state: QuestionState, excerpt_id: str) -> int:
        m = state.machine[excerpt_id]
        return QUEUE if m.theme_id == QUEUE else resolve(m.theme_id, after.themes)

    ids = sorted(set(before.machine) & set(after.machine))
    pairs = [(theme(before, e), theme(after, e)) for e in ids]
    themes = sorted({t for pair in pairs for t in pair})
    changes = []
    for t in themes:
        label = after.themes[t].label if t in after.themes else "(à revoir)"
        changes.append(
            ThemeChange(
                theme_id=t,
                label=label,
                before=sum(1 for a, _ in pairs if a == t),
                after=sum(1 for _, b in pairs if b == t),
                gained=sum(1 for a, b in pairs if b == t and a != t),
                lost=sum(1 for a, b in pairs if a == t and b != t),
            )
        )
    return changes


# -- review order --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewCandidate:
    excerpt_id: str
    theme_id: int  # the machine's current theme, ``QUEUE`` when queued
    score: float  # the machine's confidence in it, in [0, 1]


def rank_for_review(candidates: Iterable[ReviewCandidate], n: int) -> list[ReviewCandidate]:
    """The ``n`` candidates whose review teaches most, in the order to review them (see the module docstring).

    Within each theme (the queue is a group of its own), least confident first (ties by excerpt id); then one from
    each group in turn, the groups of a round ordered by the confidence of their candidate (the queue's first).
    """
    groups: dict[int, list[ReviewCandidate]] = {}
    for c in candidates:
        groups.setdefault(c.theme_id, []).append(c)
    for members in groups.values():
        members.sort(key=lambda c: (c.score, c.excerpt_id))
    chosen: list[ReviewCandidate] = []
    depth = 0
    while len(chosen) < n:
        round_ = [members[depth] for members in groups.values() if depth < len(members)]
        if not round_:
            break
        round_.sort(key=lambda c: (c.theme_id != QUEUE, c.score, c.excerpt_id))
        chosen.extend(round_[: n - len(chosen)])
        depth += 1
    return chosen


def review_order(store: Store, run_id: str, question: str, n: int = 20) -> list[ReviewCandidate]:
    """The next ``n`` excerpts of ``question`` a researcher should review, from the latest machine version.

    For the review app: ``review_order(store, run_id, question, 20)`` gives excerpt ids, the machine's theme and its
    confidence, most useful first. Decided excerpts never come back; after ``verbatim recode`` the order follows the
    new, calibrated scores.
    """
    state = DecisionLog(store).state(run_id, question)
    candidates = [
        ReviewCandidate(e, c.theme_id, float(state.machine[e].score))
        for e, c in sorted(state.codes.items())
        if c.status not in DECIDED
    ]
    return rank_for_review(candidates, n)
