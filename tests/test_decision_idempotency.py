"""Idempotency keys on the decision API, SQLite and PostgreSQL in turn: a client that got no answer (the server died
after, or before, its commit) sends the same decision again with the same ``Idempotency-Key``; the store keeps it
once, and the retry is answered with the decision stored the first time. Two processes sending the same key at the
same moment store one decision. A real app (FastAPI's TestClient) over a real store; nothing is mocked."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.deciding_processes import decide_with_keys
from tests.test_decisions import RUN, Q, _run
from verbatim.models.accounts import Accounts
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.store import Store
from verbatim.models.tables import DecisionRow
from verbatim.web.app import create_app

URL = f"/api/v1/runs/{RUN}/decisions"


def _rows(store: Store, key: str) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).where(DecisionRow.idempotency_key == key)) or 0)


def test_a_retry_with_the_same_key_answers_the_first_decision_and_stores_nothing(database_url: str) -> None:
    store = Store(database_url)
    _run(store)
    log = DecisionLog(store)
    for name in ("alice", "bob"):
        log.add_user(name, Role.RESEARCHER, "hash")
    alice = {"Authorization": f"Bearer {Accounts(store).create_token('alice')[1]}"}
    bob = {"Authorization": f"Bearer {Accounts(store).create_token('bob')[1]}"}
    body = {"excerpt_id": "E4", "action": "recode", "to_theme": 2}
    with TestClient(create_app(database_url, secret="test-secret-key")) as api:
        first = api.post(URL, headers={**alice, "Idempotency-Key": "k-1"}, json=body)
        assert first.status_code == 201, first.text
        assert "Idempotent-Replayed" not in first.headers
        again = api.post(URL, headers={**alice, "Idempotency-Key": "k-1"}, json=body)
        assert again.status_code == 200, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["decision_id"] == first.json()["decision_id"]
        assert (again.json()["theme_id"], again.json()["action"], again.json()["question"]) == (2, "recode", Q)
        assert _rows(store, "k-1") == 1 and len(log.decisions(RUN)) == 1

        other = api.post(
            URL, headers={**alice, "Idempotency-Key": "k-1"}, json={"excerpt_id": "E5", "action": "accept"}
        )
        assert other.status_code == 409 and "autre décision" in other.json()["detail"], other.text
        elsewhere = api.post(URL, headers={**alice, "Idempotency-Key": "k-1"}, json={**body, "to_theme": 1})
        assert elsewhere.status_code == 409, "the same key, recoded to another theme"
        bobs = api.post(URL, headers={**bob, "Idempotency-Key": "k-1"}, json=body)
        assert bobs.status_code == 201, "keys are per user: bob's k-1 is his own decision"
        assert bobs.json()["decision_id"] != first.json()["decision_id"]
        no_theme = {"excerpt_id": "E8", "action": "no_theme"}
        first_nt = api.post(URL, headers={**alice, "Idempotency-Key": "k-2"}, json=no_theme)
        again_nt = api.post(URL, headers={**alice, "Idempotency-Key": "k-2"}, json=no_theme)
        assert (first_nt.status_code, again_nt.status_code) == (201, 200)
        assert again_nt.json()["decision_id"] == first_nt.json()["decision_id"]
        for bad in ("", "a b", "é".encode(), "x" * 201):
            refused = api.post(URL, headers={**alice, "Idempotency-Key": bad}, json=body)
            assert refused.status_code == 422 and "Idempotency-Key" in refused.json()["detail"], (bad, refused.text)
        without = [api.post(URL, headers=alice, json={"excerpt_id": "E1", "action": "accept"}) for _ in range(2)]
        assert [r.status_code for r in without] == [201, 201], "without a key, each request is a decision"
    assert len(log.decisions(RUN)) == 5


def test_the_same_key_sent_by_two_processes_at_once_is_stored_once(database_url: str) -> None:
    store = Store(database_url)
    _run(store)
    log = DecisionLog(store)
    log.add_user("alice", Role.RESEARCHER, "hash")
    keys = [f"retry-{i}" for i in range(12)]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(2, mp_context=context) as pool:
        barrier = manager.Barrier(2)
        runs = [pool.submit(decide_with_keys, database_url, keys, barrier) for _ in range(2)]
        one, two = (r.result(timeout=300) for r in runs)
    decisions = log.decisions(RUN)
    assert len(decisions) == len(keys), "one decision per key"
    for (id_one, stored_one), (id_two, stored_two) in zip(one, two, strict=True):
        assert id_one == id_two, "both processes answer the same decision"
        assert stored_one != stored_two, "one stored it, the other was told it was there"
    with store.session() as s:
        assert sorted(s.scalars(select(DecisionRow.idempotency_key))) == sorted(keys)
