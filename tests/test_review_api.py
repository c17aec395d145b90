"""The review app over HTTP (FastAPI TestClient, and a real server process for the kill -9 test), on a real
analysis run of the sample survey in a real SQLite store. Nothing of ours is mocked."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from tests.conftest import SAMPLE
from verbatim.models import agreement
from verbatim.models.accounts import Accounts
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.review import QUEUE, DecisionKind, ReviewStatus
from verbatim.models.store import Store
from verbatim.models.tables import AnswerRow, DecisionRow, DoubleCodingRow, ExcerptRow, UserRow
from verbatim.nlp.labels import describe
from verbatim.web.app import create_app
from verbatim.web.auth import hash_password, secret_key

PASSWORD = "mot-de-passe-solide"
USERS = {
    "anne": Role.ADMIN,
    "bruno": Role.RESEARCHER,
    "chloe": Role.RESEARCHER,
    "diane": Role.RESEARCHER,
    "victor": Role.VIEWER,
}
Q1, Q2 = "difficultes", "idees"
PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>"


# -- shared helpers (the browser test uses them too) -------------------------------------------------------------------
def analyse_sample(workdir: Path) -> str:
    """A real analysis run of the sample survey into ``workdir``, with one account per role; its run id."""
    from verbatim.flows.analyse import analyse_survey
    from verbatim.flows.config import AnalyseConfig

    config = AnalyseConfig(
        survey_file=SAMPLE,
        id_column="id",
        questions=[Q1, Q2],
        attributes=["profession", "structure", "region", "anciennete"],
        out_dir=workdir / "runs",
        database_url=db_url(workdir),
        cache_dir=workdir / "cache",
    )
    run_id = analyse_survey(config).run_id
    log = DecisionLog(Store(db_url(workdir)))
    for name, role in USERS.items():
        log.add_user(name, role, hash_password(PASSWORD))
    return run_id


def analysed_run(workdir: Path) -> str:
    """The analysis run a test module works on (see ``analyse_sample``)."""
    return analyse_sample(workdir)


def db_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'verbatim.db'}"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    """``verbatim serve`` in its own process, on loopback; returns once it answers."""
    script = Path(sys.executable).with_name("verbatim")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "verbatim.cli"]
    env = {**os.environ, "VERBATIM_SECRET_KEY": "test-secret-key"}
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--database-url", db_url(workdir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / f"server-{port}.log", "wb"),  # noqa: SIM115
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError((workdir / f"server-{port}.log").read_text())
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the review server did not start within 60 s")


# -- fixtures ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("review")


@pytest.fixture(scope="module")
def run_id(prefect_harness: None, workdir: Path) -> str:
    return analysed_run(workdir)


@pytest.fixture(scope="module")
def store(run_id: str, workdir: Path) -> Store:
    return Store(db_url(workdir))


@pytest.fixture(scope="module")
def log(store: Store) -> DecisionLog:
    return DecisionLog(store)


@pytest.fixture(scope="module")
def app(run_id: str, workdir: Path) -> FastAPI:
    return create_app(db_url(workdir), secret="test-secret-key")


class Browser:
    """A TestClient logged in as one user, knowing its CSRF token."""

    def __init__(self, app: FastAPI, name: str) -> None:
        self.name = name
        self.client = TestClient(app, follow_redirects=False)
        token = csrf_of(self.client.get("/login").text)
        response = self.client.post("/login", data={"csrf": token, "name": name, "password": PASSWORD, "next": "/"})
        assert response.status_code == 303, response.text
        self.csrf = csrf_of(self.client.get("/").text)

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.client.get(path, params=params or None)

    def post(self, path: str, data: dict[str, object], csrf: bool = True) -> httpx.Response:
        return self.client.post(path, data={**data, **({"csrf": self.csrf} if csrf else {})})


@pytest.fixture(scope="module")
def people(app: FastAPI) -> Iterator[dict[str, Browser]]:
    browsers = {name: Browser(app, name) for name in USERS}
    yield browsers
    for b in browsers.values():
        b.client.close()


_taken: set[str] = set()


def fresh(log: DecisionLog, run_id: str, question: str, n: int, theme: int | None = None) -> list[str]:
    """``n`` excerpts coded by the machine (in ``theme`` if given), with no decision, not handed out before. An
    excerpt back to the machine's code may still have decisions (undone ones, blind double coding): not fresh."""
    state = log.state(run_id, question)
    decided = {d.excerpt_id for d in state.decisions}
    ids = [
        e
        for e, c in sorted(state.codes.items())
        if c.status == ReviewStatus.MACHINE
        and e not in _taken
        and e not in decided
        and (theme is None or c.theme_id == theme)
    ][:n]
    assert len(ids) == n
    _taken.update(ids)
    return ids


def big_themes(log: DecisionLog, run_id: str, question: str) -> list[int]:
    """The question's active themes, largest first."""
    state = log.state(run_id, question)
    return sorted((t.theme_id for t in state.active_themes()), key=lambda t: -len(state.excerpts_of(t)))


def decide_url(run_id: str, number: int = 1) -> str:
    return f"/runs/{run_id}/q/{number}/decide"


# -- access ----------------------------------------------------------------------------------------------------------
def test_every_page_needs_a_login(app: FastAPI, run_id: str, log: DecisionLog) -> None:
    anonymous = TestClient(app, follow_redirects=False)
    for path in ("/", f"/runs/{run_id}", f"/runs/{run_id}/q/1", f"/runs/{run_id}/q/1/themes/0",
                 f"/runs/{run_id}/agreement", f"/runs/{run_id}/q/1/queue"):  # fmt: skip
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
    before = len(log.decisions(run_id))
    response = anonymous.post(decide_url(run_id), data={"excerpt_id": "x", "action": "accept", "csrf": "x"})
    assert response.status_code == 401
    assert len(log.decisions(run_id)) == before
    assert anonymous.get("/static/style.css").status_code == 200


def test_wrong_password_and_unknown_user_are_refused(app: FastAPI) -> None:
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    for name, password in (("bruno", "pas le bon"), ("personne", PASSWORD)):
        response = client.post("/login", data={"csrf": token, "name": name, "password": password})
        assert response.status_code == 401
        assert "ou mot de passe incorrect" in response.text
    assert client.get("/").status_code == 303, "still not logged in"
    assert client.post("/login", data={"name": "bruno", "password": PASSWORD}).status_code == 403, "login needs CSRF"


def test_repeated_wrong_passwords_brake_the_account(run_id: str, workdir: Path) -> None:
    DecisionLog(Store(db_url(workdir))).add_user("olga", Role.VIEWER, hash_password(PASSWORD))  # braked for 5 min
    client = TestClient(create_app(db_url(workdir), secret="k"), follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    codes = [
        client.post("/login", data={"csrf": token, "name": "olga", "password": f"faux{i}"}).status_code
        for i in range(6)
    ]
    assert codes == [401] * 5 + [429]
    right = client.post("/login", data={"csrf": token, "name": "olga", "password": PASSWORD})
    assert right.status_code == 429, "even the right password waits for the window to pass"
    other = TestClient(create_app(db_url(workdir), secret="k"), follow_redirects=False)  # another process's app
    right = other.post("/login", data={"csrf": csrf_of(other.get("/login").text), "name": "olga", "password": PASSWORD})
    assert right.status_code == 429, "the brake is in the store, not in one process"


def test_session_cookie_is_httponly_and_samesite(app: FastAPI, workdir: Path, run_id: str) -> None:
    client = TestClient(app, follow_redirects=False)
    cookie = client.get("/login").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    secure = TestClient(create_app(db_url(workdir), secret="k", secure_cookies=True), base_url="https://testserver")
    assert "secure" in secure.get("/login").headers["set-cookie"].lower()
    page = client.get("/login")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_post_without_csrf_is_forbidden(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    (excerpt,) = fresh(log, run_id, Q1, 1)
    before = len(log.decisions(run_id))
    bruno = people["bruno"]
    response = bruno.post(decide_url(run_id), {"excerpt_id": excerpt, "action": "accept"}, csrf=False)
    assert response.status_code == 403 and "Jeton de sécurité" in response.text
    wrong = bruno.client.post(decide_url(run_id), data={"excerpt_id": excerpt, "action": "accept", "csrf": "x" * 43})
    assert wrong.status_code == 403
    assert len(log.decisions(run_id)) == before


def test_viewer_reads_but_cannot_decide(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    victor = people["victor"]
    (excerpt,) = fresh(log, run_id, Q1, 1)
    page = victor.get(f"/runs/{run_id}/q/1/themes/{big_themes(log, run_id, Q1)[0]}")
    assert page.status_code == 200
    assert "Accepter" not in page.text and 'action="/runs/' not in page.text.replace("/logout", ""), "no action form"
    before = len(log.decisions(run_id))
    for path, data in (
        (decide_url(run_id), {"excerpt_id": excerpt, "action": "accept"}),
        (f"/runs/{run_id}/q/1/themes/0/edit", {"label": "x"}),
        (f"/runs/{run_id}/q/1/themes/0/merge", {"into": "1"}),
        (f"/runs/{run_id}/double-coding/draw", {"question": "1", "n": "3", "coder_a": "bruno", "coder_b": "chloe"}),
    ):
        response = victor.post(path, data)
        assert response.status_code == 403, path
        assert "lecture seule" in response.text
    assert len(log.decisions(run_id)) == before


def test_unknown_things_are_404_and_bad_input_is_400(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    bruno = people["bruno"]
    assert bruno.get("/runs/nope").status_code == 404
    assert bruno.get(f"/runs/{run_id}/q/9").status_code == 404
    assert bruno.get(f"/runs/{run_id}/q/1/themes/9999").status_code == 404
    assert bruno.get(f"/runs/{run_id}/q/1/excerpt", id="Q1-nobody-01").status_code == 404
    assert bruno.get("/no/such/page").status_code == 404
    assert bruno.get(f"/runs/{run_id}/q/1/themes/abc").status_code == 400
    (excerpt,) = fresh(log, run_id, Q1, 1)
    before = len(log.decisions(run_id))
    cases = [
        ({"excerpt_id": excerpt, "action": "recode", "to_theme": "9999"}, "pas un thème actif"),
        ({"excerpt_id": excerpt, "action": "recode", "to_theme": "deux"}, "nombre entier"),
        ({"excerpt_id": excerpt, "action": "recode"}, "Champ manquant"),
        ({"excerpt_id": excerpt, "action": "explode"}, "Action inconnue"),
        ({"excerpt_id": excerpt, "action": "new_theme", "label": "   "}, "Champ manquant"),
    ]
    for data, message in cases:
        response = bruno.post(decide_url(run_id), data)
        assert response.status_code == 400, data
        assert message in response.text
    assert bruno.post(decide_url(run_id), {"excerpt_id": "Q1-nobody-01", "action": "accept"}).status_code == 404
    response = bruno.post(f"/runs/{run_id}/q/1/bulk", {"action": "accept"})
    assert response.status_code == 400 and "Aucun extrait sélectionné" in response.text
    assert len(log.decisions(run_id)) == before


# -- decisions -------------------------------------------------------------------------------------------------------
def test_accept_reject_recode_change_the_state(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    theme, other = big_themes(log, run_id, Q1)[:2]
    a, r, c = fresh(log, run_id, Q1, 3, theme=theme)
    bruno = people["bruno"]
    for data in (
        {"excerpt_id": a, "action": "accept", "theme": str(theme), "seen": "0"},
        {"excerpt_id": r, "action": "reject", "theme": str(theme), "seen": "0"},
        {"excerpt_id": c, "action": "recode", "theme": str(theme), "to_theme": str(other), "seen": "0"},
    ):
        response = bruno.post(decide_url(run_id), {**data, "next": f"/runs/{run_id}/q/1/themes/{theme}"})
        assert response.status_code == 303 and response.headers["location"] == f"/runs/{run_id}/q/1/themes/{theme}"
    codes = log.state(run_id, Q1).codes
    assert (codes[a].status, codes[a].theme_id, codes[a].decided_by) == (ReviewStatus.ACCEPTED, theme, "bruno")
    assert (codes[r].status, codes[r].theme_id) == (ReviewStatus.REJECTED, QUEUE)
    assert (codes[c].status, codes[c].theme_id) == (ReviewStatus.RECODED, other)
    page = bruno.get(f"/runs/{run_id}/q/1/themes/{other}", taille="500").text  # every excerpt on one page
    assert f'id="e-{c}"' in page and "recodé" in page
    assert "Extrait" in bruno.get(f"/runs/{run_id}/q/1/themes/{theme}").text, "the flash message is shown"
    assert f'id="e-{r}"' not in bruno.get(f"/runs/{run_id}/q/1/themes/{theme}", taille="500").text


def test_recode_to_a_new_theme(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    (excerpt,) = fresh(log, run_id, Q1, 1)
    response = people["chloe"].post(
        decide_url(run_id), {"excerpt_id": excerpt, "action": "new_theme", "label": "Fracture territoriale"}
    )
    assert response.status_code == 303
    state = log.state(run_id, Q1)
    new = next(t for t in state.themes.values() if t.label == "Fracture territoriale")
    assert new.created_by == "chloe" and new.active
    assert state.codes[excerpt].theme_id == new.theme_id
    assert state.codes[excerpt].status == ReviewStatus.RECODED
    page = people["chloe"].get(f"/runs/{run_id}/q/1/themes/{new.theme_id}").text
    assert "Fracture territoriale" in page and "créé par chloe" in page
    # described and quoted at once, from its one excerpt
    row = next(t for t in log.store.themes(run_id) if t.question == Q1 and t.theme_id == new.theme_id)
    text = next(e.text for e in log.store.excerpts(run_id) if e.excerpt_id == excerpt)
    assert row.representative_excerpt_ids == [excerpt] and row.description == describe(text) and row.keywords
    quotes = page.split("Extraits représentatifs</h2>")[1].split("</section>")[0]
    assert quotes.count("<blockquote") == 1 and text[:40] in unescape(quotes)


def test_bulk_accept_is_one_gesture(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    theme = big_themes(log, run_id, Q1)[0]
    ids = fresh(log, run_id, Q1, 4, theme=theme)
    data: dict[str, object] = {"action": "accept", "theme": str(theme), "excerpt_ids": ids}
    data.update({f"seen-{e}": "0" for e in ids})
    assert people["bruno"].post(f"/runs/{run_id}/q/1/bulk", data).status_code == 303
    state = log.state(run_id, Q1)
    assert all(state.codes[e].status == ReviewStatus.ACCEPTED for e in ids)
    batches = {d.batch_id for d in state.decisions if d.excerpt_id in ids}
    assert len(batches) == 1 and None not in batches


def test_bulk_reject_and_recode(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    theme, other = big_themes(log, run_id, Q1)[:2]
    rejected = fresh(log, run_id, Q1, 2, theme=theme)
    recoded = fresh(log, run_id, Q1, 2, theme=theme)
    diane = people["diane"]
    assert diane.post(f"/runs/{run_id}/q/1/bulk", {"action": "reject", "excerpt_ids": rejected}).status_code == 303
    data = {"action": "recode", "excerpt_ids": recoded, "to_theme": str(other)}
    assert diane.post(f"/runs/{run_id}/q/1/bulk", data).status_code == 303
    codes = log.state(run_id, Q1).codes
    assert all(codes[e].theme_id == QUEUE for e in rejected)
    assert all(codes[e].theme_id == other for e in recoded)


def test_rename_and_describe_a_theme(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    theme = big_themes(log, run_id, Q2)[-1]
    data = {"label": "Outils mobiles", "description": "Tablettes et téléphones pour le terrain"}
    response = people["bruno"].post(f"/runs/{run_id}/q/2/themes/{theme}/edit", data)
    assert response.status_code == 303
    state = log.state(run_id, Q2)
    assert state.themes[theme].label == "Outils mobiles"
    assert state.themes[theme].description == "Tablettes et téléphones pour le terrain"
    kinds = [d.kind for d in state.decisions if d.theme_id == theme]
    assert DecisionKind.RENAME in kinds and DecisionKind.DESCRIBE in kinds
    page = people["victor"].get(f"/runs/{run_id}/q/2").text
    assert "Outils mobiles" in page and "Tablettes et téléphones pour le terrain" in page
    assert people["bruno"].post(f"/runs/{run_id}/q/2/themes/{theme}/edit", {"label": ""}).status_code == 400


def test_merge_and_split_keep_the_lineage(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    themes = big_themes(log, run_id, Q2)
    source, target, parent = themes[1], themes[2], themes[0]
    moved = log.state(run_id, Q2).excerpts_of(source)
    anne = people["anne"]
    response = anne.post(f"/runs/{run_id}/q/2/themes/{source}/merge", {"into": str(target)})
    assert response.status_code == 303 and response.headers["location"].endswith(f"/themes/{target}")
    state = log.state(run_id, Q2)
    assert state.themes[source].merged_into == target and not state.themes[source].active
    assert all(state.codes[e].theme_id == target for e in moved)
    assert "fusionné dans" in anne.get(f"/runs/{run_id}/q/2/themes/{source}").text
    assert anne.post(f"/runs/{run_id}/q/2/themes/{source}/merge", {"into": str(target)}).status_code == 400

    split = fresh(log, run_id, Q2, 3, theme=parent)
    data: dict[str, object] = {"action": "split", "theme": str(parent), "label": "Accès au matériel"}
    data["excerpt_ids"] = split
    assert anne.post(f"/runs/{run_id}/q/2/bulk", data).status_code == 303
    state = log.state(run_id, Q2)
    child = next(t for t in state.themes.values() if t.label == "Accès au matériel")
    assert child.parent_theme_id == parent
    assert all(state.codes[e].theme_id == child.theme_id for e in split)
    page = anne.get(f"/runs/{run_id}/q/2/themes/{child.theme_id}").text
    assert "issu de" in page
    row = next(t for t in log.store.themes(run_id) if t.question == Q2 and t.theme_id == child.theme_id)
    texts = {e.excerpt_id: e.text for e in log.store.excerpts(run_id) if e.excerpt_id in split}
    assert row.representative_excerpt_ids and set(row.representative_excerpt_ids) <= set(split)
    assert row.description in {describe(t) for t in texts.values()} and len(row.keywords) >= 3
    assert row.description in unescape(page), "the new theme reads like the machine's at once"
    lineage = anne.get(f"/runs/{run_id}/q/2").text
    assert "Historique des thèmes" in lineage and "scindé vers" in lineage and "fusionné dans" in lineage


def test_undo_and_history(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    theme, other = big_themes(log, run_id, Q1)[:2]
    (excerpt,) = fresh(log, run_id, Q1, 1, theme=theme)
    chloe = people["chloe"]
    chloe.post(decide_url(run_id), {"excerpt_id": excerpt, "action": "recode", "to_theme": str(other), "seen": "0"})
    recode = log.decisions(run_id, Q1, excerpt)[-1]
    history = chloe.get(f"/runs/{run_id}/q/1/excerpt", id=excerpt).text
    assert "Recodage" in history and "chloe" in history and "Annuler" in history
    response = chloe.post(f"/runs/{run_id}/q/1/undo", {"decision_id": str(recode.id)})
    assert response.status_code == 303
    code = log.state(run_id, Q1).codes[excerpt]
    assert (code.status, code.theme_id) == (ReviewStatus.MACHINE, theme)
    decisions = log.decisions(run_id, Q1, excerpt)
    assert [d.kind for d in decisions] == [DecisionKind.RECODE, DecisionKind.UNDO]
    assert decisions[-1].undoes_id == recode.id
    history = chloe.get(f"/runs/{run_id}/q/1/excerpt", id=excerpt).text
    assert "Annulation" in history and f"de la n° {recode.id}" in history and "annulée" in history
    assert f"Rétablir la n° {recode.id}" in history
    assert chloe.post(f"/runs/{run_id}/q/1/undo", {"decision_id": str(recode.id)}).status_code == 400
    assert chloe.post(f"/runs/{run_id}/q/1/undo", {"decision_id": "999999"}).status_code == 404


def test_review_queue_suggests_themes(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    state = log.state(run_id, Q1)
    queued = [e for e, c in sorted(state.codes.items()) if c.status == ReviewStatus.QUEUED]
    assert queued, "the sample run sends some excerpts to the review queue"
    page = people["bruno"].get(f"/runs/{run_id}/q/1/queue").text
    assert f'id="e-{queued[0]}"' in page and "Thèmes proches" in page
    target = next(int(m.group(1)) for m in re.finditer(r'value="recode:(\d+)"', page.split(f'id="e-{queued[0]}"')[1]))
    data = {"excerpt_id": queued[0], "action": f"recode:{target}", "seen": "0"}
    assert people["bruno"].post(decide_url(run_id), data).status_code == 303
    assert log.state(run_id, Q1).codes[queued[0]].theme_id == target
    assert f'id="e-{queued[0]}"' not in people["bruno"].get(f"/runs/{run_id}/q/1/queue").text
    low = people["bruno"].get(f"/runs/{run_id}/q/1/queue", seuil="0.9").text
    assert low.count('class="excerpt') > page.count('class="excerpt'), "a higher threshold shows more excerpts"


def test_a_rejected_excerpt_waits_in_the_queue_until_recoded_or_classed_without_theme(
    people: dict[str, Browser], run_id: str, log: DecisionLog
) -> None:
    theme, other = big_themes(log, run_id, Q1)[:2]
    codes = log.state(run_id, Q1).codes
    # two excerpts the queue does not count yet: a machine score below the low-score threshold is counted already
    recoded, none = [e for e in fresh(log, run_id, Q1, 12, theme=theme) if codes[e].score >= 0.4][:2]
    bruno = people["bruno"]
    queue_url = f"/runs/{run_id}/q/1/queue"
    count = int(re.search(r"File de revue \((\d+)\)", bruno.get(f"/runs/{run_id}/q/1").text).group(1))  # type: ignore[union-attr]
    for e in (recoded, none):
        data = {"excerpt_id": e, "action": "reject", "theme": str(theme), "seen": "0", "next": queue_url}
        assert bruno.post(decide_url(run_id), data).status_code == 303
    page = bruno.get(queue_url).text
    assert "il attend en file de revue" in page, "the flash message says where the excerpt went"
    for e in (recoded, none):  # the words and the queue agree: both are listed, with what to do next
        card = page.split(f'id="e-{e}"')[1].split("</article>")[0]
        assert "rejeté, à recoder" in card and 'value="no_theme"' in card and 'value="reject"' not in card
    assert f"File de revue ({count + 2})" in bruno.get(f"/runs/{run_id}/q/1").text
    # recoded from the queue: it leaves it
    data = {"excerpt_id": recoded, "action": "recode", "to_theme": str(other), "theme": str(QUEUE), "seen": ""}
    assert bruno.post(decide_url(run_id), data).status_code == 303
    # confirmed as fitting no theme: it leaves it too, decided
    data = {"excerpt_id": none, "action": "no_theme", "theme": str(QUEUE), "seen": "", "next": queue_url}
    assert bruno.post(decide_url(run_id), data).status_code == 303
    page = bruno.get(queue_url).text
    assert "classé sans thème" in page and f'id="e-{recoded}"' not in page and f'id="e-{none}"' not in page
    codes = log.state(run_id, Q1).codes
    assert (codes[recoded].status, codes[recoded].theme_id) == (ReviewStatus.RECODED, other)
    assert (codes[none].status, codes[none].theme_id) == (ReviewStatus.NO_THEME, QUEUE)
    assert f"File de revue ({count})" in bruno.get(f"/runs/{run_id}/q/1").text
    history = bruno.get(f"/runs/{run_id}/q/1/excerpt", id=none).text
    assert "sans thème (confirmé)" in history and 'value="no_theme"' not in history


def test_concurrent_decisions_are_both_kept_and_flagged(
    people: dict[str, Browser], run_id: str, log: DecisionLog
) -> None:
    theme, first, second = big_themes(log, run_id, Q1)[:3]
    (excerpt,) = fresh(log, run_id, Q1, 1, theme=theme)
    bruno, chloe = people["bruno"], people["chloe"]
    seen = {}
    for b in (bruno, chloe):  # both open the page and see the same state
        page = b.get(f"/runs/{run_id}/q/1/excerpt", id=excerpt).text
        seen[b.name] = re.search(r'name="seen" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    assert seen["bruno"] == seen["chloe"] == "0"
    for b, to in ((bruno, first), (chloe, second)):
        data = {"excerpt_id": excerpt, "action": "recode", "to_theme": str(to), "seen": seen[b.name]}
        assert b.post(decide_url(run_id), data).status_code == 303
    decisions = log.decisions(run_id, Q1, excerpt)
    assert [(d.coder, d.to_theme_id) for d in decisions] == [("bruno", first), ("chloe", second)]
    assert decisions[1].conflict_with_id == decisions[0].id
    code = log.state(run_id, Q1).codes[excerpt]
    assert code.theme_id == second and code.conflict
    page = bruno.get(f"/runs/{run_id}/q/1/excerpt", id=excerpt).text
    assert "Conflit" in page and f"conflit avec la n° {decisions[0].id}" in page
    assert "conflit" in bruno.get(f"/runs/{run_id}/q/1/themes/{second}", taille="500").text


def test_the_person_whose_decision_makes_a_conflict_is_told_so(
    people: dict[str, Browser], run_id: str, log: DecisionLog, store: Store
) -> None:
    theme, first, second = big_themes(log, run_id, Q1)[:3]
    excerpt, a, b = fresh(log, run_id, Q1, 3, theme=theme)
    bruno, chloe = people["bruno"], people["chloe"]
    back = f"/runs/{run_id}/q/1/themes/{theme}"
    data = {"excerpt_id": excerpt, "action": "recode", "to_theme": str(first), "seen": "0", "next": back}
    assert bruno.post(decide_url(run_id), data).status_code == 303
    assert 'id="conflict-flash"' not in bruno.get(back).text, "no conflict: bruno saw everything"
    # chloe had the page open before bruno's decision (seen 0) and accepts: her decision conflicts with his
    data = {"excerpt_id": excerpt, "action": "accept", "theme": str(theme), "seen": "0", "next": back}
    response = chloe.post(decide_url(run_id), data)
    assert response.status_code == 303 and response.headers["location"] == back
    page = chloe.get(back).text  # the page that answers her decision
    (bruno_recode,) = [d for d in log.decisions(run_id, Q1, excerpt) if d.coder == "bruno"]
    notice = unescape(page.split('id="conflict-flash">')[1].split("</p>")[0])
    assert f"Conflit sur l'extrait {excerpt}" in notice and "bruno" in notice and f"n° {bruno_recode.id}" in notice
    assert "recodé vers" in notice and 'role="alert"' in page
    assert 'id="conflict-flash"' not in chloe.get(back).text, "shown once"
    assert 'id="conflict-flash"' not in bruno.get(back).text, "bruno's page says nothing: his decision made none"
    # a bulk decision that conflicts on two excerpts says so too
    for e in (a, b):
        assert (
            bruno.post(
                decide_url(run_id), {"excerpt_id": e, "action": "recode", "to_theme": str(second), "seen": "0"}
            ).status_code
            == 303
        )
    bulk = {
        "action": "reject",
        "excerpt_ids": [a, b],
        "theme": str(theme),
        f"seen-{a}": "0",
        f"seen-{b}": "0",
        "next": back,
    }
    assert chloe.post(f"/runs/{run_id}/q/1/bulk", bulk).status_code == 303
    notice = chloe.get(back).text.split('id="conflict-flash">')[1].split("</p>")[0]
    assert "Conflit sur 2 extraits" in notice and a in notice and b in notice and "bruno" in notice
    # the API says it as well
    (c,) = fresh(log, run_id, Q1, 1, theme=theme)
    assert (
        bruno.post(
            decide_url(run_id), {"excerpt_id": c, "action": "reject", "theme": str(theme), "seen": "0"}
        ).status_code
        == 303
    )
    token = Accounts(store).create_token("chloe", "conflict test")[1]
    reply = chloe.client.post(
        f"/api/v1/runs/{run_id}/decisions", json={"excerpt_id": c, "action": "recode", "to_theme": first, "seen": 0},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert reply.status_code == 201, reply.text
    assert reply.json()["conflict_with_id"] is not None
    assert "Conflit sur l'extrait" in reply.json()["message"]


def test_escaping_makes_injected_markup_inert(
    people: dict[str, Browser], run_id: str, log: DecisionLog, store: Store
) -> None:
    theme = big_themes(log, run_id, Q1)[0]
    (excerpt,) = fresh(log, run_id, Q1, 1, theme=theme)
    with store.session() as s:
        row = s.get(ExcerptRow, (run_id, excerpt))
        assert row is not None
        answer = f"Avant {PAYLOAD} après."
        s.execute(
            update(AnswerRow)
            .where(AnswerRow.run_id == run_id, AnswerRow.question == Q1, AnswerRow.respondent_id == row.respondent_id)
            .values(text=answer)
        )
        row.text, row.start, row.end = PAYLOAD, len("Avant "), len("Avant ") + len(PAYLOAD)
    bruno = people["bruno"]
    bruno.post(f"/runs/{run_id}/q/1/themes/{theme}/edit", {"label": "<b onmouseover=alert(2)>gras</b>"})
    whole_theme = (f"/runs/{run_id}/q/1/themes/{theme}", {"taille": "500"})
    pages = ((f"/runs/{run_id}/q/1/excerpt", {"id": excerpt}), whole_theme)
    for path, params in pages:  # the whole theme on one page: the excerpt may rank past the first 50
        html = bruno.get(path, **params).text
        assert "<script>alert" not in html and "<img" not in html and "<b onmouseover" not in html
        assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</mark>" in html
        assert "&lt;b onmouseover=alert(2)&gt;gras&lt;/b&gt;" in html


def test_agreement_page_reports_kappa_and_alpha(
    people: dict[str, Browser], run_id: str, log: DecisionLog, store: Store
) -> None:
    themes = big_themes(log, run_id, Q1)
    kept = fresh(log, run_id, Q1, 5, theme=themes[0])
    changed = fresh(log, run_id, Q1, 5, theme=themes[1])
    diane = people["diane"]
    for e in kept:
        diane.post(decide_url(run_id), {"excerpt_id": e, "action": "accept", "seen": "0"})
    for e in changed:
        diane.post(decide_url(run_id), {"excerpt_id": e, "action": "recode", "to_theme": str(themes[2]), "seen": "0"})
    expected = next(c for c in agreement.machine_vs_researchers(log.state(run_id, Q1)) if c.coder == "diane")
    assert expected.kappa is not None and expected.kappa < 1
    page = diane.get(f"/runs/{run_id}/agreement").text
    row = re.search(r"<th scope=\"row\">diane</th><td class=\"num\">(\d+)</td><td class=\"num\">(\d+)\u202f%</td>"
                    r"<td class=\"num kappa\">([-\d,]+)</td>", page)  # fmt: skip
    assert row, "diane's row on the agreement page"
    assert int(row.group(1)) == expected.n_excerpts
    assert float(row.group(3).replace(",", ".")) == pytest.approx(expected.kappa, abs=0.006)
    assert float(row.group(3).replace(",", ".")) < 1

    # double coding: anne draws a seeded sample for bruno and chloe; each codes blind
    anne = people["anne"]
    with store.session() as s:
        # Other tests of this module may have decided on the excerpts the draw picks: only the blind codes count.
        before_draw = s.scalar(select(func.coalesce(func.max(DecisionRow.id), 0)))
    draw = {"question": "1", "n": "6", "coder_a": "bruno", "coder_b": "chloe", "seed": "7"}
    assert anne.post(f"/runs/{run_id}/double-coding/draw", draw).status_code == 303
    with store.session() as s:
        sample = sorted(s.scalars(select(DoubleCodingRow.excerpt_id).where(DoubleCodingRow.run_id == run_id)))
    assert len(sample) == 6
    state = log.state(run_id, Q1)
    bruno, chloe = people["bruno"], people["chloe"]
    for i, e in enumerate(sample):
        machine = state.codes[e].theme_id if state.codes[e].theme_id != QUEUE else themes[0]
        chloe_theme = machine if i < 4 else next(t for t in themes[3:] if t != machine)
        data = {"question": "1", "excerpt_id": e, "to_theme": str(chloe_theme)}
        assert chloe.post(f"/runs/{run_id}/double-coding/code", data).status_code == 303
        blind = bruno.get(f"/runs/{run_id}/double-coding").text
        assert blind.count("codé : ") == i, "bruno does not see chloe's codes"
        data["to_theme"] = str(machine)
        assert bruno.post(f"/runs/{run_id}/double-coding/code", data).status_code == 303
    assert people["diane"].post(f"/runs/{run_id}/double-coding/code", data).status_code == 403, "not diane's sample"
    with store.session() as s:
        blind_rows = s.execute(
            select(DecisionRow.coder, DecisionRow.double_coding).where(
                DecisionRow.excerpt_id.in_(sample), DecisionRow.id > before_draw
            )
        ).all()
    assert sorted(c for c, _ in blind_rows) == ["bruno"] * 6 + ["chloe"] * 6, "one blind code per coder and excerpt"
    assert all(flag for _, flag in blind_rows), "every blind code is flagged double coding"
    codes = agreement.researcher_codes(log.state(run_id, Q1), double_coding=True)
    alpha = agreement.krippendorff_alpha({c: {e: codes[c][e] for e in sample} for c in ("bruno", "chloe")})
    assert alpha.n_units == 6 and alpha.value is not None and alpha.value < 1
    page = anne.get(f"/runs/{run_id}/agreement").text
    assert "bruno et chloe" in page
    pair = re.search(r"bruno et chloe</th><td class=\"num\">6</td><td class=\"num\">6 / 6</td>"
                     r"<td class=\"num\">6</td><td class=\"num\">([-\d,]+)</td>", page)  # fmt: skip
    assert pair and float(pair.group(1).replace(",", ".")) == pytest.approx(alpha.value, abs=0.006)
    assert people["bruno"].post(f"/runs/{run_id}/double-coding/draw", draw).status_code == 403, "admins draw"


def test_progress_counts_decided_excerpts(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    """Its own decision, not the module's earlier tests' (it may run first: pytest-randomly, seed 2024)."""
    before = agreement.progress(log.state(run_id, Q1)).n_decided
    (excerpt,) = fresh(log, run_id, Q1, 1)
    theme = log.state(run_id, Q1).codes[excerpt].theme_id
    log.decide(run_id, Q1, DecisionKind.ACCEPT, "bruno", excerpt_id=excerpt, theme_id=theme)
    progress = agreement.progress(log.state(run_id, Q1))
    assert progress.n_decided == before + 1 and progress.n_excerpts > progress.n_decided
    page = people["victor"].get(f"/runs/{run_id}").text
    assert f"({progress.n_decided} / {progress.n_excerpts})" in page


def test_logout_ends_the_session(app: FastAPI) -> None:
    b = Browser(app, "bruno")
    assert b.post("/logout", {}).status_code == 303
    assert b.get("/").status_code == 303


def test_a_cookie_copied_before_logout_opens_nothing(app: FastAPI, run_id: str, log: DecisionLog) -> None:
    b = Browser(app, "bruno")
    stale = TestClient(app, follow_redirects=False, cookies=dict(b.client.cookies))
    assert stale.get(f"/runs/{run_id}").status_code == 200, "the copy works while the session is open"
    assert b.post("/logout", {}).status_code == 303
    response = stale.get(f"/runs/{run_id}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    (excerpt,) = fresh(log, run_id, Q1, 1)
    before = len(log.decisions(run_id))
    data = {"excerpt_id": excerpt, "action": "accept", "csrf": b.csrf}
    assert stale.post(decide_url(run_id), data=data).status_code == 401
    assert len(log.decisions(run_id)) == before


def test_new_password_role_change_and_deactivation_end_sessions(
    people: dict[str, Browser], app: FastAPI, run_id: str, log: DecisionLog
) -> None:
    log.add_user("paul", Role.RESEARCHER, hash_password(PASSWORD))
    anne = people["anne"]
    changes = [
        ("/accounts/password", {"name": "paul", "password": PASSWORD}),
        ("/accounts/role", {"name": "paul", "role": "viewer"}),
        ("/accounts/deactivate", {"name": "paul"}),
    ]
    for path, data in changes:
        paul = Browser(app, "paul")
        assert paul.get(f"/runs/{run_id}").status_code == 200
        assert anne.post(path, data).status_code == 303, path
        assert paul.get(f"/runs/{run_id}").status_code == 303, f"{path} ends paul's session"
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    refused = client.post("/login", data={"csrf": token, "name": "paul", "password": PASSWORD})
    assert refused.status_code == 403 and "désactivé" in refused.text
    assert client.get("/").status_code == 303
    assert anne.post("/accounts/reactivate", {"name": "paul"}).status_code == 303
    assert "lecture seule" in Browser(app, "paul").get("/").text, "back, with the role anne gave"
    assert people["anne"].get("/").status_code == 200, "the admin's own session is untouched"


def test_the_accounts_page_is_for_admins_and_its_forms_work(
    people: dict[str, Browser], app: FastAPI, store: Store, log: DecisionLog
) -> None:
    anne, bruno = people["anne"], people["bruno"]
    assert TestClient(app, follow_redirects=False).get("/accounts").status_code == 303
    for name in ("bruno", "victor"):
        assert people[name].get("/accounts").status_code == 403
        assert 'href="/accounts"' not in people[name].get("/").text
    form = {"name": "rose", "role": "researcher", "password": PASSWORD}
    assert bruno.post("/accounts/create", form).status_code == 403
    page = anne.get("/accounts")
    assert page.status_code == 200 and 'href="/accounts"' in page.text
    assert all(f'<th scope="row">{name}</th>' in page.text for name in USERS)
    assert page.text.count('name="csrf"') >= page.text.count("<form"), "every form carries the CSRF token"
    assert anne.post("/accounts/create", form, csrf=False).status_code == 403
    assert log.user("rose") is None
    assert anne.post("/accounts/create", form).status_code == 303
    user = log.user("rose")
    assert user is not None and user.role == Role.RESEARCHER and user.active
    for data, words in (
        (form, "existe déjà"),
        ({**form, "name": "sam", "password": "court"}, "au moins 8"),
        ({**form, "name": "sam", "role": "boss"}, "Rôle inconnu"),
    ):
        response = anne.post("/accounts/create", data)
        assert response.status_code == 400 and words in response.text, data
    assert anne.post("/accounts/role", {"name": "personne", "role": "viewer"}).status_code == 404
    assert anne.post("/accounts/role", {"name": "rose", "role": "viewer"}).status_code == 303
    assert (log.user("rose") or user).role == Role.VIEWER
    assert anne.post("/accounts/password", {"name": "rose", "password": "un-nouveau-mot-de-passe"}).status_code == 303
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    login = {"csrf": token, "name": "rose", "password": "un-nouveau-mot-de-passe"}
    assert client.post("/login", data=login).status_code == 303

    made = anne.post("/accounts/tokens", {"name": "rose", "label": "script R"})
    assert made.status_code == 201
    api_token = re.search(r"vbt_[A-Za-z0-9_-]{40,}", made.text)
    assert api_token, "the new token is shown once"
    headers = {"Authorization": f"Bearer {api_token.group(0)}"}
    assert anne.client.get("/api/v1/runs", headers=headers).status_code == 200
    assert api_token.group(0) not in anne.get("/accounts").text, "and never again"
    (info,) = Accounts(store).tokens("rose")
    assert info.label == "script R"
    assert anne.post("/accounts/tokens/revoke", {"token_id": str(info.id)}).status_code == 303
    assert anne.client.get("/api/v1/runs", headers=headers).status_code == 401
    assert "révoqué le" in anne.get("/accounts").text

    assert anne.post("/accounts/deactivate", {"name": "anne"}).status_code == 403, "not one's own account"
    assert anne.post("/accounts/role", {"name": "anne", "role": "researcher"}).status_code == 403
    assert (log.user("anne") or user).role == Role.ADMIN
    assert anne.post("/accounts/deactivate", {"name": "rose"}).status_code == 303
    assert "désactivé" in anne.get("/accounts").text


# -- a real server process ---------------------------------------------------------------------------------------
def test_acknowledged_decisions_survive_kill_9(run_id: str, workdir: Path, log: DecisionLog) -> None:
    port = free_port()
    server = start_server(workdir, port)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, follow_redirects=False) as client:
            token = csrf_of(client.get("/login").text)
            assert client.post("/login", data={"csrf": token, "name": "diane", "password": PASSWORD}).status_code == 303
            token = csrf_of(client.get("/").text)
            ids = fresh(log, run_id, Q1, 8)
            acknowledged = []
            for e in ids:
                response = client.post(
                    decide_url(run_id), data={"csrf": token, "excerpt_id": e, "action": "reject", "seen": "0"}
                )
                assert response.status_code == 303
                acknowledged.append(e)
            os.kill(server.pid, signal.SIGKILL)  # right after the last acknowledgement
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == -signal.SIGKILL
    reopened = DecisionLog(Store(db_url(workdir)))
    codes = reopened.state(run_id, Q1).codes
    for e in acknowledged:
        assert codes[e].status == ReviewStatus.REJECTED and codes[e].decided_by == "diane", e


# -- command line and secrets --------------------------------------------------------------------------------------
def test_user_add_command(workdir: Path, run_id: str, store: Store) -> None:
    from verbatim.cli.main import app as cli

    runner = CliRunner()
    url = db_url(workdir)
    result = runner.invoke(cli, ["user", "add", "yves", "--role", "viewer", "--password-stdin", "--database-url", url],
                           input="un-bon-mot-de-passe\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    with store.session() as s:
        row = s.get(UserRow, "yves")
        assert row is not None and row.role == "viewer" and row.password_hash.startswith("$argon2")
        assert "un-bon-mot-de-passe" not in row.password_hash
    again = runner.invoke(cli, ["user", "add", "yves", "--password-stdin", "--database-url", url], input="xxxxxxxxx\n")
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(cli, ["user", "add", "zoe", "--role", "boss", "--password-stdin", "--database-url", url])
    assert bad.exit_code == 2 and "unknown role" in bad.output
    short = runner.invoke(cli, ["user", "add", "zoe", "--password-stdin", "--database-url", url], input="court\n")
    assert short.exit_code == 2 and "at least 8" in short.output


def test_secret_key_is_kept_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERBATIM_SECRET_KEY", raising=False)
    path = tmp_path / "data" / ".secret_key"
    key = secret_key(path)
    assert len(key) >= 40 and path.stat().st_mode & 0o777 == 0o600
    assert secret_key(path) == key, "kept between starts"
    monkeypatch.setenv("VERBATIM_SECRET_KEY", "from-the-environment")
    assert secret_key(path) == "from-the-environment"
