"""Researchers deciding in processes of their own (spawned), for the tests of several server processes sharing one
store. This module imports the store only: a spawned process imports it in about a second, not the app's stack."""

from __future__ import annotations

from typing import Any

from tests.test_decisions import RUN, Q
from verbatim.models.decisions import AlreadyDecided, DecisionLog
from verbatim.models.review import DecisionKind
from verbatim.models.store import Store


def decide_at_the_same_moment(url: str, coder: str, excerpts: list[str], barrier: Any) -> list[int]:
    """For each excerpt, wait for the other researcher, then decide having seen nothing."""
    log = DecisionLog(Store(url))
    ids = []
    for excerpt in excerpts:
        barrier.wait(timeout=60)
        ids.append(log.decide(RUN, Q, DecisionKind.ACCEPT, coder, excerpt_id=excerpt, seen_decision_id=0).id)
    return ids


def decide_with_keys(url: str, keys: list[str], barrier: Any) -> list[tuple[int, bool]]:
    """For each key, wait for the other process, then decide with that idempotency key: the id of the decision
    and whether this process stored it."""
    log = DecisionLog(Store(url))
    answers = []
    for i, key in enumerate(keys):
        barrier.wait(timeout=60)
        try:
            decision = log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id=f"E{i % 7 + 1}", theme_id=0,
                                  idempotency_key=key)  # fmt: skip
            answers.append((decision.id, True))
        except AlreadyDecided as stored:
            answers.append((stored.decision.id, False))
    return answers


def bulk_at_the_same_moment(url: str, coder: str, excerpts: list[str], barrier: Any, rounds: int) -> list[int]:
    """Each round, wait for the other researcher, then accept all ``excerpts`` in one gesture (in the order given)."""
    log = DecisionLog(Store(url))
    ids = []
    for _ in range(rounds):
        barrier.wait(timeout=60)
        items: list[dict[str, object]] = [
            {"kind": DecisionKind.ACCEPT, "excerpt_id": e, "theme_id": 0, "seen_decision_id": 0} for e in excerpts
        ]
        ids += [d.id for d in log.decide_many(RUN, Q, coder, items)]
    return ids
