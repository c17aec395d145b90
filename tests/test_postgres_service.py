"""The team's set-up on a real PostgreSQL (a throwaway cluster): a reviewed SQLite store moved there with
``verbatim db copy``, every export identical to the SQLite store's, the review app deciding on it, and the copy back
to SQLite. Nothing is mocked."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.export_support import ReviewedRun
from tests.postgres import Cluster
from tests.test_review_api import PASSWORD, Browser
from verbatim.cli.main import app as cli
from verbatim.errors import StoreError
from verbatim.formats.exports import (
    load_run,
    write_codebook_csv,
    write_qdc,
    write_quotes_csv,
    write_respondents_csv,
)
from verbatim.models.accounts import Accounts
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.review import ReviewStatus
from verbatim.models.search import search_lemmas, search_words
from verbatim.models.store import Store
from verbatim.models.transfer import copy_store, counts, decision_log_checksum
from verbatim.web.auth import hash_password

pytestmark = pytest.mark.slow  # the reviewed run of the session (an analysis of the sample survey)


@pytest.fixture(scope="module")
def on_postgres(reviewed: ReviewedRun, postgres: Cluster) -> Store:
    """The reviewed run's store, copied into a new PostgreSQL database with the command line."""
    url = postgres.new_database()
    result = CliRunner().invoke(cli, ["db", "copy", "--to", url, "--database-url", reviewed.database_url])
    assert result.exit_code == 0, result.output
    assert "Decision log checksum (both sides)" in result.output
    store = Store(url)
    log = DecisionLog(store)
    for name, role in (("anne", Role.ADMIN), ("bruno", Role.RESEARCHER), ("victor", Role.VIEWER)):
        if log.user(name) is None:
            log.add_user(name, role, hash_password(PASSWORD))
        else:  # copied with the reviewed run's own password
            Accounts(store).set_password(name, hash_password(PASSWORD))
    return store


def _exports(store: Store, run_id: str, folder: Path) -> dict[str, bytes]:
    run = load_run(store, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [
        write_quotes_csv(run, folder / "quotes.csv"),
        write_codebook_csv(run, folder / "codebook.csv"),
        write_qdc(run, folder / "codebook.qdc"),
        write_respondents_csv(run, folder / "respondents.csv"),
    ]
    return {p.name: p.read_bytes() for p in paths}


def test_the_copy_holds_everything_and_exports_the_same_files(
    reviewed: ReviewedRun, on_postgres: Store, tmp_path: Path
) -> None:
    assert on_postgres.engine.dialect.name == "postgresql"
    source_counts = counts(reviewed.store)
    target_counts = counts(on_postgres)
    assert {t: n for t, n in target_counts.items() if t != "users"} == {
        t: n for t, n in source_counts.items() if t != "users"
    }
    assert decision_log_checksum(on_postgres) == decision_log_checksum(reviewed.store)
    assert source_counts["decisions"] > 10 and source_counts["excerpts"] > 500
    sqlite_files = _exports(reviewed.store, reviewed.run_id, tmp_path / "sqlite")
    postgres_files = _exports(on_postgres, reviewed.run_id, tmp_path / "postgres")
    for name, content in sqlite_files.items():
        assert postgres_files[name] == content, f"{name} differs between SQLite and PostgreSQL"
    for query in ("formation", "Messagerie sécurisée", "numéri*", "écran", "100%_"):  # LIKE's wildcards escaped
        on_sqlite = search_words(reviewed.store, reviewed.run_id, query)
        assert search_words(on_postgres, reviewed.run_id, query) == on_sqlite, query
    assert search_lemmas(on_postgres, reviewed.run_id, ["former"]) == search_lemmas(
        reviewed.store, reviewed.run_id, ["former"]
    )
    out = tmp_path / "cli.sav"  # the command line on PostgreSQL too
    command = ["export", reviewed.run_id, "--format", "respondents", "--out", str(out)]
    result = CliRunner().invoke(cli, [*command, "--database-url", on_postgres.url])
    assert result.exit_code == 0 and out.stat().st_size > 0, result.output


def test_a_copy_never_lands_on_a_database_that_holds_data(reviewed: ReviewedRun, on_postgres: Store) -> None:
    before = counts(on_postgres)
    with pytest.raises(StoreError, match=r"not empty: .*decisions"):
        copy_store(reviewed.store, on_postgres)
    assert counts(on_postgres) == before


def test_the_review_app_decides_on_postgres(
    reviewed: ReviewedRun, on_postgres: Store, postgres: Cluster, tmp_path: Path
) -> None:
    from verbatim.web.app import create_app

    mine = Store(postgres.new_database())  # a copy of its own: the other tests compare the first one with SQLite
    copy_store(on_postgres, mine)
    app = create_app(mine.url, secret="test-secret-key")
    anne, bruno = Browser(app, "anne"), Browser(app, "bruno")
    log = DecisionLog(mine)
    question = "difficultes"
    state = log.state(reviewed.run_id, question)
    machine = sorted(e for e, c in state.codes.items() if c.status == ReviewStatus.MACHINE)[:2]
    theme = state.codes[machine[0]].theme_id
    before = len(log.decisions(reviewed.run_id))
    url = f"/runs/{reviewed.run_id}/q/1/decide"
    response = bruno.post(url, {"excerpt_id": machine[0], "action": "accept", "theme_id": str(theme), "seen": "0"})
    assert response.status_code == 303, response.text
    response = anne.post(
        url, {"excerpt_id": machine[0], "action": "reject", "theme_id": str(theme), "seen": "0"}
    )  # its page was open before
    assert response.status_code == 303, response.text
    decisions = log.decisions(reviewed.run_id)
    assert len(decisions) == before + 2, "both kept, the new ids after the copied ones"
    assert decisions[-1].id > decisions[-2].id > max(d.id for d in decisions[:before])
    assert decisions[-1].conflict_with_id == decisions[-2].id, "the disagreement is flagged"
    once = {"excerpt_id": machine[1], "action": "accept", "theme_id": str(state.codes[machine[1]].theme_id),
            "once": "pg-double-click"}  # fmt: skip
    assert bruno.post(url, once).status_code == bruno.post(url, once).status_code == 303
    assert len(log.decisions(reviewed.run_id)) == before + 3, "the same form twice acts once"
    page = bruno.get(f"/runs/{reviewed.run_id}/q/1/excerpt", id=machine[0])
    assert page.status_code == 200 and "anne" in page.text
    with TestClient(app) as api:
        assert api.get("/api/v1/runs").status_code == 401

    # and back to a SQLite file: the same log
    back = Store(f"sqlite:///{tmp_path / 'back.db'}")
    copied = copy_store(mine, back)
    assert copied.decisions_checksum == decision_log_checksum(mine)
    assert len(DecisionLog(back).decisions(reviewed.run_id)) == before + 3


def test_a_process_keeps_its_connections_when_many_requests_read_at_once(postgres: Cluster) -> None:
    """Twelve threads reading at the same moment, five times over: each connection is opened once and kept, not
    opened and closed again for each request beyond a handful (a new PostgreSQL server process each time)."""
    import threading

    from sqlalchemy import event, text

    store = Store(postgres.new_database())
    opened: list[int] = []
    event.listen(store.engine, "connect", lambda *_: opened.append(1))
    together = threading.Barrier(12)

    def read() -> None:
        for _ in range(5):
            with store.reading() as s:
                together.wait(timeout=30)  # all twelve hold a connection at once
                assert s.execute(text("SELECT 1")).scalar() == 1

    threads = [threading.Thread(target=read) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert len(opened) <= 12, f"{len(opened)} connections opened for 12 readers"
    store.engine.dispose()
