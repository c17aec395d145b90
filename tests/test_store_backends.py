"""The store behaves the same on SQLite and on a real PostgreSQL (a throwaway cluster, see ``tests/postgres.py``):
JSON columns, booleans, time zones and text sizes; and the survey's checks refuse, on both, what one of them could
not keep."""

from __future__ import annotations

import multiprocessing
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from tests.deciding_processes import bulk_at_the_same_moment, decide_at_the_same_moment
from tests.postgres import Cluster
from tests.test_decisions import RUN, Q, _run
from verbatim.cli.main import app as cli
from verbatim.errors import SurveyDataError
from verbatim.formats.survey import build_answers, read_survey
from verbatim.models.accounts import Accounts
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.records import Answer, AnswerStatus, Excerpt, Respondent
from verbatim.models.review import DecisionKind
from verbatim.models.store import Store
from verbatim.models.tables import MAX_ID, MAX_QUESTION, LoginFailureRow, UserRow
from verbatim.models.transfer import is_pg_dump
from verbatim.web.data import ReviewData


def test_json_columns_keep_nested_unicode_values(database_url: str) -> None:
    store = Store(database_url)
    _run(store)
    manifest = store.run(RUN).manifest
    assert manifest["input"] == {"file_name": "s.csv", "sha256": "0" * 64}
    with store.session() as s:
        row = s.get(type(store.run(RUN)), RUN)
        assert row is not None
        row.manifest = {**row.manifest, "notes": {"é": ["Île-de-France", 0.125, None, True], "emoji": "🙂"}}
    again = Store(database_url).run(RUN).manifest
    assert again["notes"] == {"é": ["Île-de-France", 0.125, None, True], "emoji": "🙂"}
    theme = store.themes(RUN)[0]
    assert theme.keywords == ["mot"] and theme.representative_excerpt_ids == ["E1"]


def test_respondents_attributes_are_read_back_whole_whatever_their_ids(database_url: str) -> None:
    """The attributes are read grouped (respondents alike share one object), with the ids of each group joined by
    a separator: an id holding that separator, empty attributes and values with quotes still come back as written."""
    written = {
        "R1": {"profession": "CESF", "region": "Île-de-France"},
        "R2": {"profession": "CESF", "region": "Île-de-France"},
        "R\x1f3": {"profession": "CESF", "region": "Île-de-France"},
        "R4": {},
        "R5": {"profession": "éducatrice", "ancienneté": "6 à 15 ans", "note": '« oui » \\ "non"'},
        "R 6": {"region": "Île-de-France", "profession": "CESF"},  # the same attributes, in another order
    }
    respondents = [Respondent(respondent_id=r, row=i, attributes=a) for i, (r, a) in enumerate(written.items(), 1)]
    answers = [Answer(question=Q, respondent_id=r.respondent_id, row=r.row, text="Oui.", status=AnswerStatus.CODED)
               for r in respondents]  # fmt: skip
    manifest = {"input": {"file_name": "s.csv", "sha256": "0" * 64}, "parameters": {"seed": 1}, "encoder": {"id": "x"}}
    store = Store(database_url)
    store.save_run(RUN, manifest, respondents, answers, {}, [], [], [])
    store.save_run("other", manifest, respondents[:1], answers[:1], {}, [], [], [])
    read = ReviewData(store).attributes(RUN)
    assert read == written
    assert read["R1"] is read["R2"], "respondents alike share one dict"
    assert ReviewData(store).attribute_names(RUN) == ["ancienneté", "note", "profession", "region"]
    assert {r.run_id: r.n_respondents for r in ReviewData(store).runs()} == {"other": 1, RUN: 6}


def test_booleans_and_time_zones(database_url: str) -> None:
    store = Store(database_url)
    _run(store)
    log = DecisionLog(store)
    log.add_user("alice", Role.RESEARCHER, "hash")
    before = datetime.now(UTC)
    decision = log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E1", theme_id=0)
    stored = log.decisions(RUN)[0]
    assert stored.id == decision.id and stored.created_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= stored.created_at <= datetime.now(UTC) + timedelta(seconds=1)
    accounts = Accounts(store)
    assert accounts.deactivate("alice").active is False
    with store.session() as s:
        assert s.scalars(select(UserRow.name).where(UserRow.active.is_(False))).all() == ["alice"]
    assert accounts.reactivate("alice").active is True


def test_moments_read_back_in_utc_whatever_the_sessions_time_zone(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL session in another time zone (PGTZ, as a server's default may be) answers moments in that zone;
    the store still gives them back equal, aware and in UTC, as SQLite does; a naive moment is taken as UTC."""
    monkeypatch.setenv("PGTZ", "Pacific/Chatham")  # UTC+13:45 then: no offset to be right by chance
    store = Store(database_url)
    paris = datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Paris"))  # the night the clocks change
    naive = datetime(2026, 7, 14, 12, 0)
    with store.session() as s:
        s.add_all([LoginFailureRow(user_name="a", failed_at=paris), LoginFailureRow(user_name="b", failed_at=naive)])
    with store.session() as s:
        if store.engine.dialect.name == "postgresql":
            assert s.scalar(text("SHOW TimeZone")) == "Pacific/Chatham"
            local = s.scalar(text("SELECT to_char(failed_at, 'HH24:MI') FROM login_failures WHERE user_name = 'a'"))
            assert local == f"{paris.astimezone(ZoneInfo('Pacific/Chatham')):%H:%M}", "answered in the session's zone"
        back = dict(s.execute(select(LoginFailureRow.user_name, LoginFailureRow.failed_at)).all())
    assert back["a"] == paris and back["a"].tzinfo == UTC and back["a"].hour == 0
    assert back["b"] == naive.replace(tzinfo=UTC) and back["b"].tzinfo == UTC


def test_long_texts_are_kept_whole(database_url: str) -> None:
    store = Store(database_url)
    text = "Les démarches en ligne prennent du temps. " * 5_000  # 210,000 characters in one answer
    question = "Q" * MAX_QUESTION
    respondent = "R" * MAX_ID
    store.save_run(
        "long",
        {"input": {"file_name": "s.csv", "sha256": "0" * 64}, "parameters": {"seed": 1}, "encoder": {"id": "x"}},
        [Respondent(respondent_id=respondent, row=1, attributes={})],
        [Answer(question=question, respondent_id=respondent, row=1, text=text, status=AnswerStatus.CODED)],
        {},
        [Excerpt(excerpt_id="E1", question=question, respondent_id=respondent, start=0, end=len(text), text=text)],
        [],
        [],
    )
    (answer,) = Store(database_url).answers("long")
    assert answer.text == text and answer.question == question and answer.respondent_id == respondent


def test_ids_and_questions_too_long_for_the_store_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    long_id = "R" * (MAX_ID + 1)
    path.write_text(f"id;q\nR1;Une réponse.\n{long_id};Une autre réponse.\n", encoding="utf-8")
    with pytest.raises(SurveyDataError, match=rf"1 row has an id longer than {MAX_ID} characters \(data row 2\)"):
        build_answers(read_survey(path), "id", ["q"], [])
    header = "Quelles difficultés rencontrez-vous ? " * 20
    path.write_text(f"id;{header}\nR1;Une réponse.\n", encoding="utf-8")
    with pytest.raises(Exception, match=rf"has a name of {len(header.strip())} characters, more than the"):
        build_answers(read_survey(path), "id", [header.strip()], [])


@pytest.mark.parametrize(
    ("backend", "portable"),
    [("sqlite", False), ("postgresql", True), ("postgresql", False)],
    ids=["sqlite", "postgresql-portable", "postgresql-pg_dump"],
)
def test_a_backup_taken_during_decisions_restores_every_one_acknowledged_before_it(
    backend: str, portable: bool, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Researchers keep deciding while the backup runs: the backup holds every decision acknowledged before it
    started, and a consistent set (no later decision without the earlier ones); a restore refuses a database that
    already holds data. SQLite's online backup and the portable dump (a SQLite file) restore into SQLite here;
    PostgreSQL's pg_dump backup into a new PostgreSQL database (and is refused by SQLite, in words)."""
    cluster: Cluster | None = request.getfixturevalue("postgres") if backend == "postgresql" else None
    database_url = cluster.new_database() if cluster else f"sqlite:///{tmp_path / 'verbatim.db'}"
    store = Store(database_url)
    _run(store)
    log = DecisionLog(store)
    log.add_user("alice", Role.RESEARCHER, "hash")
    acknowledged: list[int] = []
    stop = threading.Event()

    def decide() -> None:
        i = 0
        while not stop.is_set():
            excerpt = f"E{i % 7 + 1}"
            kind = DecisionKind.ACCEPT if i % 2 else DecisionKind.REJECT
            acknowledged.append(log.decide(RUN, Q, kind, "alice", excerpt_id=excerpt, theme_id=None).id)
            i += 1

    researcher = threading.Thread(target=decide)
    researcher.start()
    while len(acknowledged) < 30:
        time.sleep(0.01)
    before_backup = list(acknowledged)
    backup = tmp_path / "b.db"
    command = ["db", "backup", "--out", str(backup), "--database-url", database_url, *(["--portable"] * portable)]
    result = CliRunner().invoke(cli, command)
    while len(acknowledged) < len(before_backup) + 30:  # the researcher goes on after the backup
        time.sleep(0.01)
    stop.set()
    researcher.join()
    assert result.exit_code == 0, result.output
    assert not list(tmp_path.glob("b.db-*")) and not list(tmp_path.glob(".b.db*")), "one self-contained file"
    with_pg_dump = backend == "postgresql" and not portable
    said = " ".join(result.output.split())  # the console wraps long lines
    assert is_pg_dump(backup) == with_pg_dump and ("(pg_dump, custom format)" in said) == with_pg_dump

    if cluster and with_pg_dump:
        into_sqlite = ["db", "restore", str(backup), "--database-url", f"sqlite:///{tmp_path / 'no.db'}"]
        refused = CliRunner().invoke(cli, into_sqlite)
        assert refused.exit_code != 0 and "restores into PostgreSQL only" in refused.output, refused.output
        restored = Store(cluster.new_database())
    else:
        restored = Store(f"sqlite:///{tmp_path / 'restored.db'}")
    copied = CliRunner().invoke(cli, ["db", "restore", str(backup), "--database-url", restored.url])
    assert copied.exit_code == 0, copied.output
    checksum = re.search(r"checksum \(both sides\): (\w+)", said)
    assert checksum and checksum.group(1) in copied.output, "the checksum the backup reported, restored"
    ids = [d.id for d in DecisionLog(restored).decisions(RUN)]
    assert set(before_backup) <= set(ids), "every decision acknowledged before the backup is in it"
    assert ids == sorted(a for a in acknowledged if a <= max(ids)), "a consistent snapshot: no gap"
    assert len(ids) < len(acknowledged), "later decisions are not"
    again = DecisionLog(restored).decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E1", theme_id=0)
    assert again.id > max(ids), "the restored store numbers new decisions after its own (pg_dump: after the gaps)"
    refused = CliRunner().invoke(cli, ["db", "restore", str(backup), "--database-url", restored.url])
    assert refused.exit_code != 0 and "not empty" in refused.output


def test_two_researchers_deciding_at_the_same_moment_in_two_processes_make_a_conflict(database_url: str) -> None:
    store = Store(database_url)
    _run(store)
    log = DecisionLog(store)
    for name in ("alice", "bob"):
        log.add_user(name, Role.RESEARCHER, "hash")
    excerpts = [f"E{i}" for i in range(1, 8)] * 3
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(2, mp_context=context) as pool:
        barrier = manager.Barrier(2)
        runs = [pool.submit(decide_at_the_same_moment, database_url, c, excerpts, barrier) for c in ("alice", "bob")]
        alice, bob = (r.result(timeout=300) for r in runs)
    decisions = {d.id: d for d in log.decisions(RUN)}
    assert len(decisions) == 2 * len(excerpts), "both kept, every time"
    for a, b in zip(alice, bob, strict=True):
        first, second = sorted((a, b))
        assert decisions[second].conflict_with_id is not None, "the later of two simultaneous decisions is a conflict"
        assert decisions[first].conflict_with_id in (None, *[i for i in decisions if i < first])


def test_two_bulk_gestures_on_the_same_excerpts_at_the_same_moment_are_kept_whole_and_conflict(
    database_url: str,
) -> None:
    """Two researchers accept the same seven excerpts in one gesture each, at the same moment, in opposite orders,
    five rounds (on PostgreSQL each excerpt has its own lock, taken in one fixed order): both gestures are kept
    whole every round, and on each excerpt the later decision sees the earlier one. Round 1: one conflict per
    excerpt; later rounds: both conflict (each follows the other's decision of the round before)."""
    store = Store(database_url)
    _run(store)
    log = DecisionLog(store)
    for name in ("alice", "bob"):
        log.add_user(name, Role.RESEARCHER, "hash")
    excerpts = [f"E{i}" for i in range(1, 8)]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(2, mp_context=context) as pool:
        barrier = manager.Barrier(2)
        runs = [
            pool.submit(bulk_at_the_same_moment, database_url, coder, order, barrier, 5)
            for coder, order in (("alice", excerpts), ("bob", excerpts[::-1]))
        ]
        alice, bob = (r.result(timeout=300) for r in runs)
    decisions = log.decisions(RUN)
    assert len(decisions) == len(alice) + len(bob) == 2 * 5 * len(excerpts)
    assert sum(d.conflict_with_id is not None for d in decisions) == len(excerpts) + 4 * 2 * len(excerpts)


def test_threads_of_one_process_deciding_at_once_are_all_kept(database_url: str) -> None:
    """Eight threads of one server process decide on the same excerpts at the same moment: every decision is stored,
    none refused, and each later decision on an excerpt conflicts with the one before it. On SQLite the threads take
    turns for the write lock in the process (``Store.writing``) rather than poll SQLite's: never two inside at once."""
    store = Store(database_url)
    _run(store)
    log = DecisionLog(store)
    coders = [f"chercheur{i}" for i in range(8)]
    for name in coders:
        log.add_user(name, Role.RESEARCHER, "hash")
    barrier, errors = threading.Barrier(len(coders)), []

    def decide(coder: str) -> None:
        barrier.wait()
        for excerpt in ("E1", "E2", "E3"):
            try:
                log.decide(RUN, Q, DecisionKind.ACCEPT, coder, excerpt_id=excerpt, theme_id=0, seen_decision_id=0)
            except Exception as exc:
                errors.append(f"{coder} {excerpt}: {exc!r}")

    threads = [threading.Thread(target=decide, args=(c,)) for c in coders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    decisions = log.decisions(RUN)
    assert len(decisions) == 3 * len(coders)
    for excerpt in ("E1", "E2", "E3"):
        on_it = [d for d in decisions if d.excerpt_id == excerpt]
        assert [d.conflict_with_id is not None for d in on_it] == [False] + [True] * (len(coders) - 1)

    inside, most = [0], [0]
    lock = threading.Lock()

    def hold() -> None:
        with store.writing():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= 1

    holders = [threading.Thread(target=hold) for _ in range(4)]
    for t in holders:
        t.start()
    for t in holders:
        t.join(timeout=60)
    assert most[0] == (1 if store.engine.dialect.name == "sqlite" else 4)


def test_new_themes_made_at_the_same_moment_get_numbers_of_their_own(database_url: str) -> None:
    """Four researchers each make a theme at the same moment (threads of one process, as a server's): four themes,
    four numbers, each with its excerpt recoded into it; none refused for a number another took."""
    store = Store(database_url)
    _run(store)
    log = DecisionLog(store)
    coders = ["alice", "bob", "carla", "dan"]
    for name in coders:
        log.add_user(name, Role.RESEARCHER, "hash")
    barrier, made, errors = threading.Barrier(len(coders)), {}, []

    def create(coder: str, excerpt: str) -> None:
        barrier.wait()
        try:
            made[coder] = log.create_theme(RUN, Q, coder, f"Thème de {coder}", excerpt_ids=[excerpt])
        except Exception as exc:
            errors.append(f"{coder}: {exc!r}")

    threads = [threading.Thread(target=create, args=(c, f"E{i + 1}")) for i, c in enumerate(coders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and len(set(made.values())) == len(coders)
    state = log.state(RUN, Q)
    for i, coder in enumerate(coders):
        assert state.themes[made[coder]].label == f"Thème de {coder}"
        assert state.codes[f"E{i + 1}"].theme_id == made[coder]
