"""The append-only decision log over a real store, SQLite and PostgreSQL in turn: derivation, conflicts, lineage,
migrations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    Integer,
    MetaData,
    Table,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)

from verbatim.errors import StoreError
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.records import Answer, AnswerStatus, Coding, Excerpt, Respondent, Theme
from verbatim.models.review import (
    Decision,
    DecisionKind,
    MachineCode,
    ReviewStatus,
    ThemeBase,
    counting,
    current_codes,
    lineage,
    theme_states,
)
from verbatim.models.store import MIGRATIONS, Store, migrate
from verbatim.models.tables import DecisionRow, ExcerptRow
from verbatim.models.transfer import counts
from verbatim.web.data import ReviewData

RUN, Q = "run-1", "difficultes"


def _run(store: Store) -> None:
    """A small but complete run: 3 themes, 8 excerpts (one queued)."""
    respondents = [Respondent(respondent_id=f"R{i}", row=i, attributes={"profession": "CESF"}) for i in range(1, 9)]
    answers = [
        Answer(
            question=Q, respondent_id=r.respondent_id, row=r.row, text=f"Réponse {r.row}.", status=AnswerStatus.CODED
        )
        for r in respondents
    ]
    excerpts = [
        Excerpt(excerpt_id=f"E{i}", question=Q, respondent_id=f"R{i}", start=0, end=11, text=f"Réponse {i}.")
        for i in range(1, 9)
    ]
    themes = [
        Theme(question=Q, theme_id=t, label=f"Thème {t}", description="", keywords=("mot",), n_excerpts=2,
              n_respondents=2, representative_excerpt_ids=("E1",))
        for t in range(3)
    ]  # fmt: skip
    machine = [0, 0, 0, 1, 1, 2, 2, -1]
    codings = [Coding(excerpt_id=f"E{i + 1}", theme_id=t, score=0.5) for i, t in enumerate(machine)]
    manifest = {"input": {"file_name": "s.csv", "sha256": "0" * 64}, "parameters": {"seed": 1}, "encoder": {"id": "x"}}
    store.save_run(RUN, manifest, respondents, answers, {}, excerpts, themes, codings)


@pytest.fixture
def log(database_url: str) -> DecisionLog:
    store = Store(database_url)
    _run(store)
    log = DecisionLog(store)
    for name, role in (("alice", Role.RESEARCHER), ("bob", Role.RESEARCHER), ("vera", Role.VIEWER)):
        log.add_user(name, role, "hash")
    return log


def test_machine_codes_stand_until_a_decision(log: DecisionLog) -> None:
    state = log.state(RUN, Q)
    assert state.codes["E1"].status == ReviewStatus.MACHINE and state.codes["E1"].theme_id == 0
    assert state.codes["E8"].status == ReviewStatus.QUEUED and state.codes["E8"].theme_id == -1
    assert [t.theme_id for t in state.active_themes()] == [0, 1, 2]


def test_accept_reject_recode(log: DecisionLog) -> None:
    log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E1", theme_id=0)
    log.decide(RUN, Q, DecisionKind.REJECT, "alice", excerpt_id="E2")
    log.decide(RUN, Q, DecisionKind.RECODE, "alice", excerpt_id="E8", to_theme_id=2)
    codes = log.state(RUN, Q).codes
    assert (codes["E1"].status, codes["E1"].theme_id, codes["E1"].decided_by) == (ReviewStatus.ACCEPTED, 0, "alice")
    assert (codes["E2"].status, codes["E2"].theme_id) == (ReviewStatus.REJECTED, -1)
    assert (codes["E8"].status, codes["E8"].theme_id) == (ReviewStatus.RECODED, 2)
    assert codes["E8"].machine_theme_id == -1, "the machine's code stays readable"


def test_undo_is_a_new_decision_and_can_be_undone(log: DecisionLog) -> None:
    d = log.decide(RUN, Q, DecisionKind.RECODE, "alice", excerpt_id="E1", to_theme_id=2)
    u = log.decide(RUN, Q, DecisionKind.UNDO, "alice", undoes_id=d.id)
    assert log.state(RUN, Q).codes["E1"].status == ReviewStatus.MACHINE
    log.decide(RUN, Q, DecisionKind.UNDO, "bob", undoes_id=u.id)
    assert log.state(RUN, Q).codes["E1"].theme_id == 2
    assert len(log.decisions(RUN, Q)) == 3, "nothing was deleted"


def test_merge_moves_excerpts_and_keeps_lineage(log: DecisionLog) -> None:
    log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E4", theme_id=1)
    log.merge(RUN, Q, "alice", 1, 0)
    state = log.state(RUN, Q)
    assert state.codes["E4"].theme_id == 0 and state.codes["E4"].status == ReviewStatus.ACCEPTED
    assert state.codes["E5"].theme_id == 0 and state.codes["E5"].status == ReviewStatus.MACHINE
    assert [t.theme_id for t in state.active_themes()] == [0, 2]
    assert lineage(state.themes) == [(1, "merged into", 0)]
    with pytest.raises(StoreError, match="not an active theme"):
        log.merge(RUN, Q, "alice", 1, 2)


def test_split_creates_a_theme_with_its_parent(log: DecisionLog) -> None:
    new = log.create_theme(RUN, Q, "alice", "Mots de passe", parent_theme_id=0, excerpt_ids=["E2", "E3"])
    state = log.state(RUN, Q)
    assert new == 3 and state.themes[new].label == "Mots de passe" and state.themes[new].created_by == "alice"
    assert state.excerpts_of(new) == ["E2", "E3"] and state.excerpts_of(0) == ["E1"]
    assert (0, "split into", 3) in lineage(state.themes)
    log.decide(RUN, Q, DecisionKind.RENAME, "bob", theme_id=new, text="Identifiants et mots de passe")
    log.decide(RUN, Q, DecisionKind.DESCRIBE, "bob", theme_id=new, text="Codes, comptes, mots de passe.")
    theme = log.state(RUN, Q).themes[new]
    assert theme.label == "Identifiants et mots de passe" and theme.description.startswith("Codes")


def test_concurrent_decisions_are_both_kept_latest_shown_conflict_visible(log: DecisionLog) -> None:
    seen = None  # both researchers opened the excerpt before any decision
    a = log.decide(RUN, Q, DecisionKind.RECODE, "alice", excerpt_id="E1", to_theme_id=1, seen_decision_id=seen)
    b = log.decide(RUN, Q, DecisionKind.RECODE, "bob", excerpt_id="E1", to_theme_id=2, seen_decision_id=0)
    assert b.conflict_with_id == a.id
    code = log.state(RUN, Q).codes["E1"]
    assert (code.theme_id, code.decided_by, code.conflict) == (2, "bob", True)
    assert [d.coder for d in log.decisions(RUN, Q, "E1")] == ["alice", "bob"]
    # Having seen alice's decision, a later one is no conflict.
    c = log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E1", theme_id=2, seen_decision_id=b.id)
    assert c.conflict_with_id is None


def test_bulk_decisions_are_all_or_nothing(log: DecisionLog) -> None:
    items = [{"kind": DecisionKind.ACCEPT, "excerpt_id": e, "theme_id": 0} for e in ("E1", "E2", "NOPE")]
    with pytest.raises(StoreError, match="NOPE"):
        log.decide_many(RUN, Q, "alice", items)
    assert log.decisions(RUN, Q) == []
    done = log.decide_many(RUN, Q, "alice", items[:2])
    assert len({d.batch_id for d in done}) == 1 and done[0].batch_id


def test_only_known_people_who_may_decide(log: DecisionLog) -> None:
    for coder, message in (("vera", "viewer"), ("mallory", "unknown user"), ("machine", "machine")):
        with pytest.raises(StoreError, match=message):
            log.decide(RUN, Q, DecisionKind.ACCEPT, coder, excerpt_id="E1", theme_id=0)
    with pytest.raises(StoreError, match="reserved"):
        log.add_user("machine", Role.ADMIN, "x")
    with pytest.raises(StoreError, match="already exists"):
        log.add_user("alice", Role.ADMIN, "x")


def test_decisions_are_committed_when_made(log: DecisionLog) -> None:
    log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E1", theme_id=0)
    # A second, independent connection sees it at once: nothing waits for a later commit.
    other = create_engine(log.store.url)
    with other.connect() as db:
        assert [tuple(r) for r in db.execute(text("SELECT kind, coder FROM decisions"))] == [("accept", "alice")]
    other.dispose()


def test_pure_derivation_follows_merge_chains() -> None:
    now = datetime.now(UTC)
    bases = [ThemeBase(t, f"T{t}") for t in range(3)]
    decisions = [
        Decision(1, DecisionKind.MERGE, "a", now, theme_id=0, to_theme_id=1),
        Decision(2, DecisionKind.MERGE, "a", now, theme_id=1, to_theme_id=2),
        Decision(3, DecisionKind.RECODE, "a", now, excerpt_id="x", to_theme_id=0),
    ]
    states = theme_states(bases, decisions)
    codes = current_codes([MachineCode("x", 1, 0.4), MachineCode("y", 0, 0.9)], decisions, states)
    assert codes["x"].theme_id == 2 and codes["y"].theme_id == 2
    assert [d.id for d in counting([*decisions, Decision(4, DecisionKind.UNDO, "a", now, undoes_id=2)])] == [1, 3]


def test_one_excerpts_state_agrees_with_the_whole_questions(log: DecisionLog) -> None:
    """``excerpt_state`` (what a decision over the API reads) gives each excerpt the code ``state`` gives it, after
    accepts, recodes, a merge, an undo, a split and a conflict; the codebook and the families whole."""
    log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E1", theme_id=0)
    recode = log.decide(RUN, Q, DecisionKind.RECODE, "bob", excerpt_id="E2", theme_id=0, to_theme_id=1)
    log.decide(RUN, Q, DecisionKind.REJECT, "alice", excerpt_id="E4", theme_id=1)
    log.merge(RUN, Q, "alice", 1, 2)
    log.decide(RUN, Q, DecisionKind.UNDO, "alice", excerpt_id="E2", undoes_id=recode.id)
    log.create_theme(RUN, Q, "bob", "Nouveau", parent_theme_id=0, excerpt_ids=["E3"])
    log.decide(RUN, Q, DecisionKind.RECODE, "alice", excerpt_id="E8", to_theme_id=2, seen_decision_id=0)
    log.decide(RUN, Q, DecisionKind.ACCEPT, "bob", excerpt_id="E8", theme_id=2, seen_decision_id=0)
    whole = log.state(RUN, Q)
    assert whole.codes["E8"].conflict and whole.codes["E5"].theme_id == 2 and whole.codes["E3"].theme_id == 3
    for excerpt in whole.codes:
        one = log.excerpt_state(RUN, excerpt)
        assert one is not None and one.question == Q
        assert one.codes == {excerpt: whole.codes[excerpt]}, excerpt
        assert (one.themes, one.families, one.theme_family) == (whole.themes, whole.families, whole.theme_family)
        assert one.decisions == [d for d in whole.decisions if d.excerpt_id in (None, excerpt)]
    assert log.excerpt_state(RUN, "no-such-excerpt") is None and log.excerpt_state("no-such-run", "E1") is None


def test_a_decision_costs_the_database_a_few_statements_whatever_the_run(log: DecisionLog) -> None:
    """What a decision on one excerpt sends the database (a team server's latency is mostly these round trips): its
    state in five statements, then the checks, the lock and the insert; the same for a conflict and a retry's key."""
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        sent.append(statement)

    event.listen(log.store.engine, "before_cursor_execute", count)
    try:
        log.decide(RUN, Q, DecisionKind.ACCEPT, "bob", excerpt_id="E2", theme_id=0, seen_decision_id=0)
        sent.clear()
        state = log.excerpt_state(RUN, "E2", sent_before=("alice", "key-1"))
        reads = len(sent)
        decision = log.decide(
            RUN, Q, DecisionKind.RECODE, "alice", excerpt_id="E2", to_theme_id=1, seen_decision_id=0,
            idempotency_key="key-1",
        )  # fmt: skip
    finally:
        event.remove(log.store.engine, "before_cursor_execute", count)
    assert state is not None and state.codes["E2"].decided_by == "bob"
    assert decision.conflict_with_id == state.codes["E2"].decision_id, "bob's decision, unseen by alice"
    assert reads <= 5 and len(sent) - reads <= 3, sent


def test_an_older_database_is_upgraded_in_place(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate(engine, "0001")  # the schema of the first release: analysis tables only
    with engine.begin() as db:
        db.execute(text("INSERT INTO runs VALUES ('old-run', '2026-01-01 00:00:00', 's.csv', :sha, 1, 'use', '{}')"),
                   {"sha": "0" * 64})  # fmt: skip
        db.execute(text("INSERT INTO themes VALUES ('old-run', 'q', 0, 'Ancien', '', '[]', 1, 1, '[]')"))
    assert "decisions" not in inspect(engine).get_table_names()
    engine.dispose()
    store = Store(database_url)  # opening it brings it to the newest schema, data kept
    assert store.run("old-run").survey_file == "s.csv"
    theme = store.themes("old-run")[0]
    assert theme.label == "Ancien" and theme.created_by == "machine"
    with store.session() as s:
        assert s.scalars(select(DecisionRow)).all() == []
    tables = set(inspect(store.engine).get_table_names())
    assert {"decisions", "analyses", "sessions", "api_tokens", "form_tokens"} <= tables


def _revisions() -> list[str]:
    """Every migration's revision, oldest first."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return [r.revision for r in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]


def _a_row(table: Table, revision: str) -> dict[str, object]:
    """A row for ``table`` as it is at ``revision`` (reflected): a value of the right type for every column."""
    row: dict[str, object] = {}
    for column in table.columns:
        named = {"run_id": f"run-{revision}", "kind": "accept", "role": "researcher"}
        if column.name in named:
            row[column.name] = named[column.name]
        elif column.primary_key and isinstance(column.type, Integer) and len(table.primary_key.columns) == 1:
            continue  # numbered by the database
        elif isinstance(column.type, Boolean):
            row[column.name] = False
        elif isinstance(column.type, Integer):
            row[column.name] = int(revision)
        elif isinstance(column.type, Float):
            row[column.name] = 0.5
        elif isinstance(column.type, DateTime):
            row[column.name] = datetime(2026, 1, int(revision), tzinfo=UTC)
        elif isinstance(column.type, JSON):
            row[column.name] = []
        else:
            row[column.name] = f"{column.name}-{revision}"
    return row


def test_every_migration_runs_over_tables_holding_rows(database_url: str) -> None:
    """From the first revision to the last, one step at a time, with a new row in every table before each step:
    each migration runs over data, keeps every row, and fills what it adds (search text, idempotency keys empty)."""
    engine = create_engine(database_url)
    revisions = _revisions()
    assert revisions[0] == "0001" and len(revisions) >= 8
    expected: dict[str, int] = {}
    for revision in revisions:
        migrate(engine, revision)
        tables = MetaData()
        tables.reflect(engine)
        with engine.begin() as db:
            for table in tables.sorted_tables:
                if table.name == "alembic_version" or table.name.startswith("excerpts_search"):
                    continue  # SQLite's FTS5 index of the excerpts and its shadow tables (test_search_index)
                found = db.scalar(select(func.count()).select_from(table))
                assert found == expected.get(table.name, 0), f"{table.name} lost rows going to {revision}"
                db.execute(insert(table).values(_a_row(table, revision)))
                expected[table.name] = expected.get(table.name, 0) + 1
    engine.dispose()
    store = Store(database_url)  # at the newest revision already: opening it changes nothing
    assert {t: n for t, n in counts(store).items() if t in expected} == expected
    assert set(counts(store)) <= set(expected), "every table of the newest schema held rows during the migrations"
    assert store.run("run-0001").survey_file == "survey_file-0001"
    with store.engine.connect() as db:
        assert db.scalar(select(func.count()).where(ExcerptRow.folded.is_(None))) == 0, "older excerpts are folded"
        keys = db.scalars(select(DecisionRow.idempotency_key).order_by(DecisionRow.id)).all()
    assert keys == [f"idempotency_key-{r}" if r >= "0008" else None for r in revisions if r >= "0002"]
    assert [d.kind for d in DecisionLog(store).decisions("run-0002")] == [DecisionKind.ACCEPT]


def test_a_state_kept_for_the_pages_sees_a_decision_that_commits_after_a_later_one(log: DecisionLog) -> None:
    """The pages keep a question's state per position in the log (``state_at``). On PostgreSQL, decisions on two
    excerpts may commit out of the order of their ids: a reader sees id 3 and not yet id 2. When id 2 commits, the
    last id stays 3, but the count moves, and the state is computed again."""
    data = ReviewData(log.store)
    for excerpt_id in ("E1", "E2", "E3"):
        log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id=excerpt_id, theme_id=0)
    late = log.decisions(RUN)[1].id
    with log.store.session() as s:  # decision ``late`` not committed yet, as a reader may see the log
        row = s.get(DecisionRow, late)
        assert row is not None and row.excerpt_id == "E2"
        columns = {c.name: getattr(row, c.name) for c in DecisionRow.__table__.columns}
        s.delete(row)
    before = data.state(RUN, Q)
    assert before.codes["E2"].status == ReviewStatus.MACHINE and before.codes["E3"].status == ReviewStatus.ACCEPTED
    assert data.state(RUN, Q) is before, "kept while the log stands still"
    with log.store.session() as s:  # now it commits
        s.add(DecisionRow(**columns))
    assert data.state(RUN, Q).codes["E2"].status == ReviewStatus.ACCEPTED
    log.decide(RUN, Q, DecisionKind.REJECT, "alice", excerpt_id="E1", theme_id=0)
    assert data.state(RUN, Q).codes["E1"].status == ReviewStatus.REJECTED
