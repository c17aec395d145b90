"""The JSON API under /api/v1 (FastAPI TestClient) and the browser's downloads, on a real analysis run of the sample
survey in a real SQLite store, with tokens made by the store and by ``verbatim user token``. Nothing is mocked."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.test_review_api import Q1, Q2, Browser, analysed_run, big_themes, db_url, fresh
from verbatim.formats.exports import read_qdpx
from verbatim.models.accounts import Accounts
from verbatim.models.decisions import DecisionLog
from verbatim.models.review import QUEUE, DecisionKind, ReviewStatus
from verbatim.models.store import Store
from verbatim.web.app import create_app
from verbatim.web.downloads import downloads_dir

API = "/api/v1"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("api")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERBATIM_DATA_DIR", str(folder / "data"))  # where downloads write their temporary files
        yield folder


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
def accounts(store: Store) -> Accounts:
    return Accounts(store)


@pytest.fixture(scope="module")
def app(run_id: str, workdir: Path) -> FastAPI:
    return create_app(db_url(workdir), secret="test-secret-key")


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture(scope="module")
def tokens(accounts: Accounts) -> dict[str, str]:
    """One token per role: anne (admin), bruno (researcher), victor (viewer)."""
    return {name: accounts.create_token(name, f"tests {name}")[1] for name in ("anne", "bruno", "victor")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def endpoints(run_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"{API}/runs"),
        ("GET", f"{API}/runs/{run_id}"),
        ("GET", f"{API}/runs/{run_id}/exports/csv"),
        ("POST", f"{API}/runs/{run_id}/decisions"),
        ("POST", f"{API}/runs/{run_id}/questions/1/families/1/rename"),
        ("POST", f"{API}/runs/{run_id}/questions/1/themes/1/family"),
        ("GET", f"{API}/runs/nope"),
        ("GET", f"{API}/no/such/endpoint"),
    ]


# -- tokens ------------------------------------------------------------------------------------------------------
def test_every_endpoint_refuses_a_missing_bad_or_revoked_token(
    client: TestClient, run_id: str, accounts: Accounts, log: DecisionLog
) -> None:
    info, revoked = accounts.create_token("bruno", "to revoke")
    accounts.revoke_token(info.id)
    before = len(log.decisions(run_id))
    for headers in ({}, bearer("nope"), bearer(""), {"Authorization": "Basic YnJ1bm86eA=="}, bearer(revoked)):
        for method, path in endpoints(run_id):
            response = client.request(method, path, headers=headers, json={"excerpt_id": "x", "action": "accept"})
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.headers["content-type"].startswith("application/json")
            assert "Jeton" in response.json()["detail"]
    assert client.post(f"{API}/runs/{run_id}/decisions", content=b"{not json").status_code == 401
    assert len(log.decisions(run_id)) == before


def test_a_deactivated_accounts_token_stops_working(
    client: TestClient, accounts: Accounts, log: DecisionLog, run_id: str
) -> None:
    _info, token = accounts.create_token("chloe", "deactivation")
    assert client.get(f"{API}/runs", headers=bearer(token)).status_code == 200
    accounts.deactivate("chloe")
    try:
        assert client.get(f"{API}/runs", headers=bearer(token)).status_code == 401
    finally:
        accounts.reactivate("chloe")
    assert client.get(f"{API}/runs", headers=bearer(token)).status_code == 200
    assert accounts.tokens("chloe")[-1].last_used_at is not None


def test_a_token_acts_with_its_users_current_role(
    client: TestClient, accounts: Accounts, log: DecisionLog, run_id: str
) -> None:
    from verbatim.models.decisions import Role

    _info, token = accounts.create_token("diane", "role change")
    (excerpt,) = fresh(log, run_id, Q2, 1)
    accounts.set_role("diane", Role.VIEWER)
    try:
        body = {"excerpt_id": excerpt, "action": "accept"}
        assert client.post(f"{API}/runs/{run_id}/decisions", headers=bearer(token), json=body).status_code == 403
    finally:
        accounts.set_role("diane", Role.RESEARCHER)
    assert client.post(f"{API}/runs/{run_id}/decisions", headers=bearer(token), json=body).status_code == 201


# -- documentation -----------------------------------------------------------------------------------------------
def test_openapi_describes_the_api_only(client: TestClient) -> None:
    schema = client.get(f"{API}/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/runs", "/runs/{run_id}", "/runs/{run_id}/exports/{format}", "/runs/{run_id}/decisions"} <= paths
    assert not any("login" in p or "accounts" in p or "downloads" in p for p in paths)
    assert schema["servers"][0]["url"] == API
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())
    page = client.get(f"{API}/docs")
    assert page.status_code == 200 and "API HTTP de Verbatim" in page.text
    assert f"{API}/runs/{{run_id}}/decisions" in page.text and "Authorization: Bearer" in page.text
    assert "cdn" not in page.text.lower(), "nothing loaded from another site"
    for html_docs in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(html_docs).status_code in (303, 404), html_docs


# -- reading -------------------------------------------------------------------------------------------------------
def test_runs_and_a_run(client: TestClient, tokens: dict[str, str], run_id: str, log: DecisionLog) -> None:
    runs = client.get(f"{API}/runs", headers=bearer(tokens["victor"]))
    assert runs.status_code == 200
    (mine,) = [r for r in runs.json() if r["run_id"] == run_id]
    assert mine["questions"] == [Q1, Q2] and mine["n_respondents"] > 100
    detail = client.get(f"{API}/runs/{run_id}", headers=bearer(tokens["victor"])).json()
    assert [q["question"] for q in detail["questions"]] == [Q1, Q2]
    assert [q["number"] for q in detail["questions"]] == [1, 2]
    for q in detail["questions"]:
        state = log.state(run_id, q["question"])
        themes = {t["id"]: t for t in q["themes"]}
        assert set(themes) == {t.theme_id for t in state.active_themes()}
        for t in state.active_themes():
            assert themes[t.theme_id]["label"] == t.label
            assert themes[t.theme_id]["size"] == len(state.excerpts_of(t.theme_id))
            assert 0 < themes[t.theme_id]["n_respondents"] <= themes[t.theme_id]["size"]
            family = state.family_of(t.theme_id)
            assert family is not None
            assert (themes[t.theme_id]["family_id"], themes[t.theme_id]["family"]) == (family.family_id, family.label)
        counts = q["counts"]
        assert sum(t["size"] for t in q["themes"]) + counts["review_queue"] == len(state.codes) == counts["excerpts"]
        assert counts["rows"] == counts["coded"] + counts["queued"] + counts["rejected"]
        assert counts["active_themes"] == len(q["themes"])
    missing = client.get(f"{API}/runs/nope", headers=bearer(tokens["victor"]))
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    assert client.get(f"{API}/nowhere", headers=bearer(tokens["victor"])).json()["detail"].startswith("Cette adresse")


# -- exports -------------------------------------------------------------------------------------------------------
def _check_csv(content: bytes, excel_fr: bool) -> None:
    if excel_fr:
        assert content.startswith(b"\xef\xbb\xbf")
        text = content.decode("utf-8-sig")
        assert ";" in text.splitlines()[0]
    else:
        text = content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if excel_fr else ","))
    assert len(rows) > 100 and "excerpt_id" in rows[0]


def _check_xlsx(content: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    assert book.sheetnames and book[book.sheetnames[0]].max_row > 1


def _check_zip(content: bytes, needed: set[str]) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        names = z.namelist()
        assert z.testzip() is None
    assert needed <= set(names), names
    return names


EXPORTS = [
    ("csv", None, ".csv"),
    ("csv", "excel-fr", ".csv"),
    ("xlsx", None, ".xlsx"),
    ("codebook", None, ".xlsx"),
    ("codebook", "qdc", ".qdc"),
    ("qdpx", None, ".qdpx"),
    ("report", None, ".zip"),
    ("respondents", None, ".csv"),
    ("respondents", "xlsx", ".xlsx"),
    ("respondents", "sav", ".sav"),
]


@pytest.mark.parametrize(("fmt", "as_", "suffix"), EXPORTS)
def test_each_export_downloads_and_opens(
    client: TestClient, tokens: dict[str, str], run_id: str, fmt: str, as_: str | None, suffix: str
) -> None:
    response = client.get(
        f"{API}/runs/{run_id}/exports/{fmt}", params={"as": as_} if as_ else None, headers=bearer(tokens["victor"])
    )
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and re.search(
        rf'filename="{re.escape(run_id)}-[^"]+\{suffix}"', disposition
    )
    content = response.content
    if fmt == "csv":
        _check_csv(content, excel_fr=as_ == "excel-fr")
    elif suffix == ".xlsx":
        _check_xlsx(content)
    elif fmt == "codebook":
        assert content.startswith(b"<?xml") and b"CodeBook" in content
    elif fmt == "qdpx":
        _check_zip(content, {"project.qde"})
    elif fmt == "report":
        names = _check_zip(content, {"report.md", "report.docx"})
        assert any(n.endswith(".png") for n in names), "the charts travel with the report"
    elif suffix == ".sav":
        import pyreadstat

        path = downloads_dir().parent / "check.sav"
        path.write_bytes(content)
        frame, _meta = pyreadstat.read_sav(str(path))
        path.unlink()
        assert len(frame) > 100
    else:
        assert len(content.decode("utf-8-sig").splitlines()) > 100
    assert not any(downloads_dir().iterdir()), "the temporary export is removed once sent"


def test_export_refusals_are_json_in_words(client: TestClient, tokens: dict[str, str], run_id: str) -> None:
    h = bearer(tokens["victor"])
    unknown_format = client.get(f"{API}/runs/{run_id}/exports/pdf", headers=h)
    assert unknown_format.status_code == 422 and "format" in unknown_format.json()["detail"]
    bad_variant = client.get(f"{API}/runs/{run_id}/exports/codebook", params={"as": "pdf"}, headers=h)
    assert bad_variant.status_code == 422 and "qdc" in bad_variant.json()["detail"]
    unknown_run = client.get(f"{API}/runs/nope/exports/csv", headers=h)
    assert unknown_run.status_code == 404 and "nope" in unknown_run.json()["detail"]


# -- decisions -----------------------------------------------------------------------------------------------------
def test_decisions_over_the_api_are_in_the_log_and_on_the_pages(
    client: TestClient, app: FastAPI, tokens: dict[str, str], run_id: str, log: DecisionLog
) -> None:
    theme, other = big_themes(log, run_id, Q1)[:2]
    accepted, rejected, recoded = fresh(log, run_id, Q1, 3, theme=theme)
    url, h = f"{API}/runs/{run_id}/decisions", bearer(tokens["bruno"])
    answers = {}
    for excerpt, body in (
        (accepted, {"action": "accept", "seen": 0}),
        (rejected, {"action": "reject"}),
        (recoded, {"action": "recode", "to_theme": other}),
    ):
        response = client.post(url, headers=h, json={"excerpt_id": excerpt, **body})
        assert response.status_code == 201, response.text
        answers[excerpt] = response.json()
    assert answers[accepted]["theme_id"] == theme and answers[rejected]["theme_id"] == QUEUE
    assert answers[recoded]["theme_id"] == other and answers[recoded]["question"] == Q1
    state = log.state(run_id, Q1)
    for excerpt, kind in (
        (accepted, DecisionKind.ACCEPT),
        (rejected, DecisionKind.REJECT),
        (recoded, DecisionKind.RECODE),
    ):
        (decision,) = log.decisions(run_id, Q1, excerpt)
        assert (decision.id, decision.kind, decision.coder) == (answers[excerpt]["decision_id"], kind, "bruno")
    assert state.codes[accepted].status == ReviewStatus.ACCEPTED
    assert (state.codes[rejected].status, state.codes[rejected].theme_id) == (ReviewStatus.REJECTED, QUEUE)
    assert (state.codes[recoded].status, state.codes[recoded].theme_id) == (ReviewStatus.RECODED, other)
    anne = Browser(app, "anne")
    page = anne.get(f"/runs/{run_id}/q/1/excerpt", id=recoded).text
    decision_id = answers[recoded]["decision_id"]
    assert re.search(rf"<td>{decision_id}</td>\s*<td>[^<]*</td>\s*<td>bruno", page) and "Recodage" in page
    (q2_excerpt,) = fresh(log, run_id, Q2, 1)
    q2 = client.post(url, headers=h, json={"excerpt_id": q2_excerpt, "action": "accept"})
    assert q2.status_code == 201 and q2.json()["question"] == Q2, "the question is found from the excerpt"


def test_decision_refusals(client: TestClient, tokens: dict[str, str], run_id: str, log: DecisionLog) -> None:
    (excerpt,) = fresh(log, run_id, Q1, 1)
    url = f"{API}/runs/{run_id}/decisions"
    before = len(log.decisions(run_id))
    viewer = client.post(url, headers=bearer(tokens["victor"]), json={"excerpt_id": excerpt, "action": "accept"})
    assert viewer.status_code == 403 and "lecture seule" in viewer.json()["detail"]
    h = bearer(tokens["bruno"])
    cases: list[tuple[object, int, str]] = [
        ({"excerpt_id": "Q1-nobody-01", "action": "accept"}, 404, "Q1-nobody-01"),
        ({"excerpt_id": excerpt, "action": "explode"}, 422, "action"),
        ({"excerpt_id": excerpt, "action": "recode"}, 422, "thème cible"),
        ({"excerpt_id": excerpt, "action": "recode", "to_theme": 9999}, 422, "9999"),
        ({"excerpt_id": excerpt, "action": "recode", "to_theme": "deux"}, 422, "to_theme"),
        ({"action": "accept"}, 422, "excerpt_id"),
        ({"excerpt_id": excerpt, "action": "accept", "by": "anne"}, 422, "by"),
        ([excerpt], 422, "Requête invalide"),
    ]
    for body, status, words in cases:
        response = client.post(url, headers=h, json=body)
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["detail"], (body, response.json())
    not_json = client.post(url, headers={**h, "Content-Type": "application/json"}, content=b"{not json")
    assert not_json.status_code == 422 and "JSON" in not_json.json()["detail"]
    unknown_run = client.post(f"{API}/runs/nope/decisions", headers=h, json={"excerpt_id": excerpt, "action": "accept"})
    assert unknown_run.status_code == 404
    assert len(log.decisions(run_id)) == before, "no refused request left a decision"


def test_families_over_the_api_are_decisions_in_the_log(
    client: TestClient, tokens: dict[str, str], run_id: str, log: DecisionLog
) -> None:
    """A theme moved into a new family, that family renamed, the theme moved back: one decision each, by the
    token's account, seen in the run's detail; what is already so appends nothing; refusals in words."""
    state = log.state(run_id, Q1)
    theme = state.active_themes()[0].theme_id
    home = state.family_of(theme)
    assert home is not None
    move = f"{API}/runs/{run_id}/questions/1/themes/{theme}/family"
    before = len(log.decisions(run_id))
    viewer = client.post(move, headers=bearer(tokens["victor"]), json={"new_label": "Refusée"})
    assert viewer.status_code == 403 and "lecture seule" in viewer.json()["detail"]
    h = bearer(tokens["bruno"])
    created = client.post(move, headers=h, json={"new_label": "  Famille de l'API "})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["family"], body["theme_id"], body["coder"]) == ("Famille de l'API", theme, "bruno")
    new_family = body["family_id"]
    assert new_family not in state.families
    again = client.post(move, headers=h, json={"family_id": new_family})
    assert again.status_code == 200 and again.json()["decision_id"] is None and "Rien à changer" in again.text
    rename = f"{API}/runs/{run_id}/questions/1/families/{new_family}/rename"
    renamed = client.post(rename, headers=h, json={"label": "Outils de l'API"})
    assert renamed.status_code == 201 and renamed.json()["family"] == "Outils de l'API"
    detail = client.get(f"{API}/runs/{run_id}", headers=h).json()
    (shown,) = [t for t in detail["questions"][0]["themes"] if t["id"] == theme]
    assert (shown["family_id"], shown["family"]) == (new_family, "Outils de l'API")
    back = client.post(move, headers=h, json={"family_id": home.family_id})
    assert back.status_code == 201 and back.json()["family"] == home.label
    new = log.decisions(run_id)[before:]
    assert [d.kind for d in new] == [DecisionKind.MOVE_TO_FAMILY, DecisionKind.RENAME_FAMILY,
                                     DecisionKind.MOVE_TO_FAMILY]  # fmt: skip
    assert [d.id for d in new] == [body["decision_id"], renamed.json()["decision_id"], back.json()["decision_id"]]
    assert all(d.coder == "bruno" and d.created_at.year >= 2026 for d in new)
    state = log.state(run_id, Q1)
    assert state.family_of(theme) == state.families[home.family_id]
    assert state.families[new_family].label == "Outils de l'API"
    cases: list[tuple[str, object, int, str]] = [
        (f"{API}/runs/{run_id}/questions/1/families/999/rename", {"label": "X"}, 404, "La famille n° 999"),
        (rename, {"label": "   "}, 422, "nom de la famille"),
        (rename, {"label": "x" * 201}, 422, "label"),
        (rename, {"name": "X"}, 422, "label"),
        (f"{API}/runs/{run_id}/questions/1/themes/9999/family", {"family_id": home.family_id}, 422, "9999"),
        (move, {"family_id": 999}, 422, "La famille n° 999"),
        (move, {"family_id": home.family_id, "new_label": "Y"}, 422, "pas les deux"),
        (move, {}, 422, "nouvelle famille"),
        (f"{API}/runs/{run_id}/questions/9/themes/{theme}/family", {"family_id": 1}, 404, "question n° 9"),
        (f"{API}/runs/nope/questions/1/families/1/rename", {"label": "X"}, 404, "nope"),
    ]
    after = len(log.decisions(run_id))
    for url, payload, status, words in cases:
        response = client.post(url, headers=h, json=payload)
        assert response.status_code == status, (url, payload, response.text)
        assert words in response.json()["detail"], (url, payload, response.json())
    assert len(log.decisions(run_id)) == after, "no refused request left a decision"


# -- the command line ------------------------------------------------------------------------------------------------
def test_cli_token_works_until_revoked(client: TestClient, workdir: Path, run_id: str, accounts: Accounts) -> None:
    from verbatim.cli.main import app as cli

    runner, url = CliRunner(), db_url(workdir)
    made = runner.invoke(cli, ["user", "token", "bruno", "--label", "script R", "--database-url", url])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("vbt_") and len(token) > 40
    assert client.get(f"{API}/runs", headers=bearer(token)).status_code == 200
    listed = runner.invoke(cli, ["user", "tokens", "bruno", "--database-url", url])
    line = next(row for row in listed.stdout.splitlines() if row.endswith("script R"))
    token_id = line.split("\t")[0]
    assert token not in listed.stdout, "the token itself is never shown again"
    assert all(token not in t.label for t in accounts.tokens())
    revoked = runner.invoke(cli, ["user", "revoke-token", token_id, "--database-url", url])
    assert revoked.exit_code == 0, revoked.output
    assert client.get(f"{API}/runs", headers=bearer(token)).status_code == 401
    assert "revoked" in runner.invoke(cli, ["user", "tokens", "bruno", "--database-url", url]).stdout
    unknown = runner.invoke(cli, ["user", "token", "personne", "--database-url", url])
    assert unknown.exit_code == 2 and "unknown user" in unknown.output


def test_cli_deactivate_role_and_password(client: TestClient, workdir: Path, log: DecisionLog) -> None:
    from verbatim.cli.main import app as cli
    from verbatim.models.decisions import Role
    from verbatim.web.auth import hash_password, verify_password

    runner, url = CliRunner(), db_url(workdir)
    log.add_user("ines", Role.RESEARCHER, hash_password("un-mot-de-passe"))
    token = runner.invoke(cli, ["user", "token", "ines", "--database-url", url]).stdout.strip().splitlines()[-1]
    assert runner.invoke(cli, ["user", "deactivate", "ines", "--database-url", url]).exit_code == 0
    assert client.get(f"{API}/runs", headers=bearer(token)).status_code == 401
    assert "ines\tresearcher\tdeactivated" in runner.invoke(cli, ["user", "list", "--database-url", url]).stdout
    assert runner.invoke(cli, ["user", "reactivate", "ines", "--database-url", url]).exit_code == 0
    assert client.get(f"{API}/runs", headers=bearer(token)).status_code == 200
    assert runner.invoke(cli, ["user", "role", "ines", "viewer", "--database-url", url]).exit_code == 0
    assert runner.invoke(cli, ["user", "role", "ines", "boss", "--database-url", url]).exit_code == 2
    changed = runner.invoke(
        cli, ["user", "password", "ines", "--password-stdin", "--database-url", url], input="un-autre-mot-de-passe\n"
    )
    assert changed.exit_code == 0, changed.output
    user = log.user("ines")
    assert user is not None and user.role == "viewer" and verify_password(user.password_hash, "un-autre-mot-de-passe")


def test_qdpx_one_source_per_question_over_the_api(client: TestClient, tokens: dict[str, str], run_id: str) -> None:
    h = bearer(tokens["victor"])
    response = client.get(f"{API}/runs/{run_id}/exports/qdpx", params={"sources": "question"}, headers=h)
    assert response.status_code == 200, response.text
    assert "par-question.qdpx" in response.headers["content-disposition"]
    path = downloads_dir().parent / "check.qdpx"
    path.write_bytes(response.content)
    project = read_qdpx(path)
    path.unlink()
    assert [s.name for s in project.sources] == [Q1, Q2]
    bad = client.get(f"{API}/runs/{run_id}/exports/qdpx", params={"sources": "paragraph"}, headers=h)
    assert bad.status_code == 422 and "question" in bad.json()["detail"]
    elsewhere = client.get(f"{API}/runs/{run_id}/exports/csv", params={"sources": "question"}, headers=h)
    assert elsewhere.status_code == 422 and "qdpx" in elsewhere.json()["detail"]
    assert not any(downloads_dir().iterdir())


# -- downloads in the browser --------------------------------------------------------------------------------------
def test_browser_downloads(app: FastAPI, run_id: str) -> None:
    victor = Browser(app, "victor")
    for page in (f"/runs/{run_id}", f"/runs/{run_id}/q/1"):
        html = victor.get(page).text
        assert "Téléchargements" in html
        for link in ("csv", "csv?as=excel-fr", "xlsx", "codebook?as=xlsx", "codebook?as=qdc", "codebook?as=csv",
                     "qdpx", "qdpx?sources=question", "report", "respondents?as=csv", "respondents?as=xlsx",
                     "respondents?as=sav"):  # fmt: skip
            assert f'href="/runs/{run_id}/downloads/{link}"' in html.replace("&amp;", "&"), link
    xlsx = victor.get(f"/runs/{run_id}/downloads/xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-disposition"].startswith("attachment;")
    _check_xlsx(xlsx.content)
    qdc = victor.get(f"/runs/{run_id}/downloads/codebook", **{"as": "qdc"})
    assert qdc.status_code == 200 and qdc.content.startswith(b"<?xml")
    by_question = victor.get(f"/runs/{run_id}/downloads/qdpx", sources="question")
    assert by_question.status_code == 200 and "par-question.qdpx" in by_question.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(by_question.content)) as zf:
        assert len([n for n in zf.namelist() if n.startswith("sources/")]) == 2, "one source per question"
    assert victor.get(f"/runs/{run_id}/downloads/qdpx", sources="paragraph").status_code == 400
    assert victor.get(f"/runs/{run_id}/downloads/pdf").status_code == 404
    assert victor.get("/runs/nope/downloads/csv").status_code == 404
    anonymous = TestClient(app, follow_redirects=False).get(f"/runs/{run_id}/downloads/csv")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert not any(downloads_dir().iterdir())
