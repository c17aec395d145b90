"""New analyses from the browser's forms (FastAPI TestClient over a real store): upload, column choice, the CLI's
checks on the form, launch in the app's own worker process (a real flow run), progress, and the upload deleted once
the run is written. Nothing of ours is mocked."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import SAMPLE
from tests.test_review_api import PASSWORD, Browser
from verbatim.formats.columns import ColumnKind, profile_columns, suggest_columns
from verbatim.formats.survey import read_survey
from verbatim.models.analyses import AnalysisKind, AnalysisLog, AnalysisStatus
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.store import Store
from verbatim.web.auth import hash_password

USERS = {"anne": Role.ADMIN, "bruno": Role.RESEARCHER, "victor": Role.VIEWER}
ROWS = 150  # a part of the sample survey: enough excerpts for themes, a shorter run


# -- the columns' profiles (formats) -----------------------------------------------------------------------------------
def test_sample_columns_are_recognised_and_preselected() -> None:
    profiles = {p.name: p for p in profile_columns(read_survey(SAMPLE))}
    assert profiles["id"].kind == ColumnKind.ID
    assert profiles["difficultes"].kind == profiles["idees"].kind == ColumnKind.TEXT
    assert {profiles[a].kind for a in ("profession", "structure", "region", "anciennete")} == {ColumnKind.CATEGORY}
    suggestion = suggest_columns(list(profiles.values()))
    assert suggestion.id_column == "id"
    assert suggestion.questions == ["difficultes", "idees"]
    assert suggestion.attributes == ["profession", "structure", "region", "anciennete"]


def test_numbers_and_empty_columns(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    rows = [f"{i};{i * 3.5:.1f};;{'oui' if i % 2 else 'non'}" for i in range(1, 61)]
    path.write_text("n°;score;vide;accord\n" + "\n".join(rows) + "\n", encoding="utf-8")
    kinds = {p.name: p.kind for p in profile_columns(read_survey(path))}
    assert kinds == {"n°": ColumnKind.ID, "score": ColumnKind.NUMBER, "vide": ColumnKind.EMPTY,
                     "accord": ColumnKind.CATEGORY}  # fmt: skip


# -- the app -----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("service")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERBATIM_DATA_DIR", str(folder))  # the worker processes inherit it
        mp.delenv("PREFECT_API_URL", raising=False)  # no Prefect server: the app's own worker runs the flow
        yield folder


@pytest.fixture(scope="module")
def app(data_dir: Path) -> FastAPI:
    from verbatim.web.app import create_app

    url = f"sqlite:///{data_dir / 'verbatim.db'}"
    log = DecisionLog(Store(url))
    for name, role in USERS.items():
        log.add_user(name, role, hash_password(PASSWORD))
    return create_app(url, secret="test-secret-key")


@pytest.fixture(scope="module")
def people(app: FastAPI) -> Iterator[dict[str, Browser]]:
    browsers = {name: Browser(app, name) for name in USERS}
    yield browsers
    for b in browsers.values():
        b.client.close()


@pytest.fixture(scope="module")
def part_of_sample(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    frame = pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False).head(ROWS)
    return frame.to_csv(sep=";", index=False).encode("utf-8")


def upload(b: Browser, name: str, content: bytes, **fields: str) -> httpx.Response:
    return b.client.post("/analyses/upload", data={"csrf": b.csrf, **fields}, files={"file": (name, content)})


def draft_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    match = re.match(r"/analyses/drafts/([0-9a-f]{16})", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def choices(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id_column": "id", "questions": ["difficultes", "idees"],
        "attributes": ["profession", "structure", "region", "anciennete"], "name": "Vague 1", "seed": "7",
        "never_mask": "", "mask_name": "",
    }  # fmt: skip
    return {**base, **changes}


def wait_for(b: Browser, analysis_id: str, timeout: float = 900) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = b.get(f"/analyses/{analysis_id}").text
        if 'id="open-run"' in page or "L'analyse a échoué." in page:
            return page
        time.sleep(2)
    raise AssertionError(f"analysis {analysis_id} did not end within {timeout} s")


def test_viewers_see_no_upload_form_and_cannot_upload(people: dict[str, Browser], part_of_sample: bytes) -> None:
    victor = people["victor"]
    page = victor.get("/analyses/new").text
    assert 'type="file"' not in page and "lecture seule" in page
    assert upload(victor, "enquete.csv", part_of_sample).status_code == 403
    assert "Nouvelle analyse" not in victor.get("/").text


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("vide.csv", b"", "is empty (0 bytes)"),
        ("binaire.csv", b"\x00\x01\x02\x03" * 100, "binary file"),
        ("ancien.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "extensions acceptées"),
        ("classeur.csv", b"PK\x03\x04" + b"\x00" * 100, "Excel"),
    ],
)
def test_unreadable_files_are_refused_on_the_form(
    people: dict[str, Browser], data_dir: Path, name: str, content: bytes, words: str
) -> None:
    before = {p for p in (data_dir / "uploads").rglob("*") if p.is_file()}  # other tests' drafts
    response = upload(people["bruno"], name, content)
    assert response.status_code == 400
    assert words in response.text.replace("&#39;", "'")
    assert {p for p in (data_dir / "uploads").rglob("*") if p.is_file()} == before, "a refused file is not kept"


def test_an_unknown_sheet_is_named_with_the_sheets_there(people: dict[str, Browser], part_of_sample: bytes) -> None:
    frame = pd.read_csv(io.BytesIO(part_of_sample), sep=";", dtype=str)
    book = io.BytesIO()
    frame.to_excel(book, index=False, sheet_name="Réponses")
    response = upload(people["bruno"], "enquete.xlsx", book.getvalue(), sheet="Feuil1")
    assert response.status_code == 400 and "Feuil1" in response.text and "Réponses" in response.text


def test_a_zip_bomb_workbook_is_refused(people: dict[str, Browser]) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (1100 * 2**20))  # 1.1 GiB of zeros, ~1 MiB zipped
    response = upload(people["bruno"], "bombe.xlsx", bomb.getvalue())
    assert response.status_code == 400 and "zip bomb" in response.text


def test_a_utf16_export_is_read_and_its_columns_preselected(people: dict[str, Browser], part_of_sample: bytes) -> None:
    utf16 = part_of_sample.decode("utf-8").replace(";", "\t").encode("utf-16")
    page = people["bruno"].get(f"/analyses/drafts/{draft_of(upload(people['bruno'], 'export.tsv', utf16))}").text
    assert f"{ROWS} lignes" in page and "utf-16" in page
    assert re.search(r'name="id_column" value="id"[^>]*checked', page)
    for q in ("difficultes", "idees"):
        assert re.search(rf'name="questions" value="{q}"[^>]*checked', page)
    assert not re.search(r'name="questions" value="profession"[^>]*checked', page)


def test_a_duplicated_id_is_refused_with_the_cli_words_and_nothing_launched(
    people: dict[str, Browser], part_of_sample: bytes, data_dir: Path, app: FastAPI
) -> None:
    bruno = people["bruno"]
    draft = draft_of(upload(bruno, "enquete.csv", part_of_sample))
    before = len(AnalysisLog(app.state.data.store).all())
    response = bruno.post(f"/analyses/drafts/{draft}/launch", choices(id_column="profession", name="Essai"))
    assert response.status_code == 400
    text = response.text.replace("&#39;", "'")
    assert "used more than once" in text and "Rien n'a été lancé" in text
    assert "'enquete.csv'" in text and "uploads" not in text, "the file as the user named it, not a server path"
    assert 'value="Essai"' in response.text, "what was typed is kept"
    response = bruno.post(f"/analyses/drafts/{draft}/launch", choices(questions=[]))
    assert response.status_code == 400 and "au moins une question" in response.text
    assert len(AnalysisLog(app.state.data.store).all()) == before


def test_two_analyses_launched_together_both_complete_and_leave_no_raw_file(
    people: dict[str, Browser], part_of_sample: bytes, data_dir: Path, app: FastAPI
) -> None:
    bruno = people["bruno"]
    ids = []
    for name in ("Vague 1", "Vague 1 bis"):
        draft = draft_of(upload(bruno, "enquete.csv", part_of_sample))
        response = bruno.post(f"/analyses/drafts/{draft}/launch", choices(name=name))
        assert response.status_code == 303, response.text
        ids.append(response.headers["location"].rsplit("/", 1)[1])
    first = bruno.get(f"/analyses/{ids[0]}").text
    assert "Vague 1" in first and ('http-equiv="refresh"' in first or 'id="open-run"' in first)
    pages = [wait_for(bruno, a) for a in ids]
    log = AnalysisLog(app.state.data.store)
    for analysis_id, page in zip(ids, pages, strict=True):
        analysis = log.get(analysis_id)
        assert analysis.status == AnalysisStatus.COMPLETED, analysis.error
        assert analysis.run_id and f"/runs/{analysis.run_id}" in page and "difficultes" in page
        assert analysis.upload_path is None and analysis.progress == 1.0
        assert analysis.config["remove_survey_file"] is True
        manifest = app.state.data.store.run(analysis.run_id).manifest
        assert manifest["counts"]["difficultes"]["rows"] == ROWS
        assert people["victor"].get(f"/runs/{analysis.run_id}").status_code == 200
    # the raw upload held e-mails and phone numbers: once pseudonymised, none of them is left on disk
    raw = part_of_sample.decode("utf-8")
    secrets_ = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", raw)) | set(re.findall(r"0\d(?:[ .]?\d\d){4}", raw))
    assert secrets_, "the part of the sample has e-mails or phone numbers to mask"
    pending = {m.parent for m in data_dir.glob("uploads/*/draft.json")}  # uploaded by other tests, not launched
    leaks = files_holding(data_dir, sorted(secrets_))
    assert not [f for f in leaks if (data_dir / f).parent not in pending], leaks


def files_holding(folder: Path, needles: list[str]) -> dict[str, list[str]]:
    """Which files under folder hold which needles, read in a child process: closing a file that this process's SQLite
    connections also hold open would drop their POSIX locks and let the workers corrupt the WAL database."""
    script = (
        "import json, sys, pathlib\n"
        "root, needles = pathlib.Path(sys.argv[1]), [n.encode() for n in json.loads(sys.argv[2])]\n"
        "found = {str(p.relative_to(root)): [n.decode() for n in needles if n in p.read_bytes()]\n"
        "         for p in root.rglob('*') if p.is_file()}\n"
        "print(json.dumps({k: v for k, v in found.items() if v}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder), json.dumps(needles)], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


def test_a_failed_analysis_says_why_and_keeps_the_file_until_removed(
    people: dict[str, Browser], app: FastAPI, data_dir: Path
) -> None:
    folder = data_dir / "uploads" / ("f" * 16)
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / "survey.csv"
    kept.write_text("id;q\n1;texte\n", encoding="utf-8")
    log = AnalysisLog(app.state.data.store)
    analysis = log.create(AnalysisKind.ANALYSE, "Échec", "bruno", {}, upload_path=str(kept), upload_name="e.csv")
    assert log.claim(analysis.analysis_id)
    log.fail(analysis.analysis_id, "column 'Q12' not found; columns are: id, q")
    page = people["victor"].get(f"/analyses/{analysis.analysis_id}").text
    assert "L'analyse a échoué." in page and "column &#39;Q12&#39; not found" in page
    assert "Supprimer le fichier déposé" not in page, "viewers only read"
    bruno = people["bruno"]
    assert bruno.post(f"/analyses/{analysis.analysis_id}/remove-upload", {}).status_code == 303
    assert not kept.exists() and log.get(analysis.analysis_id).upload_path is None
    assert "a été supprimé" in bruno.get(f"/analyses/{analysis.analysis_id}").text


def test_recode_and_a_new_wave_from_the_run_page(
    people: dict[str, Browser], part_of_sample: bytes, app: FastAPI
) -> None:
    bruno = people["bruno"]
    log = AnalysisLog(app.state.data.store)
    done = [
        a for a in log.all()
        if a.kind == AnalysisKind.ANALYSE and a.status == AnalysisStatus.COMPLETED
        and a.config.get("questions") == ["difficultes", "idees"]  # not the API's analysis of one question
    ]  # fmt: skip
    if not done:  # this test alone: one analysis first
        draft = draft_of(upload(bruno, "enquete.csv", part_of_sample))
        launched = bruno.post(f"/analyses/drafts/{draft}/launch", choices())
        analysis_id = launched.headers["location"].rsplit("/", 1)[1]
        wait_for(bruno, analysis_id)
        done = [log.get(analysis_id)]
    codebook = done[0].run_id
    assert codebook
    run_page = bruno.get(f"/runs/{codebook}").text
    assert f"/analyses/new?codebook={codebook}" in run_page and f"/runs/{codebook}/recode" in run_page
    assert f"/runs/{codebook}/recode" not in people["victor"].get(f"/runs/{codebook}").text

    once = re.search(r'/recode".*?name="once" value="([^"]+)"', run_page, re.S)
    assert once, "the recode form is sent once"
    before = len(log.all())
    recode = bruno.post(f"/runs/{codebook}/recode", {"once": once.group(1)})
    assert recode.status_code == 303
    recode_id = recode.headers["location"].rsplit("/", 1)[1]
    again = bruno.post(f"/runs/{codebook}/recode", {"once": once.group(1)})  # a double click
    assert again.status_code == 303 and len(log.all()) == before + 1, "the second click launches nothing"
    # the next wave: the sample's other respondents, columns pre-selected from the codebook's run
    wave = pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False).iloc[ROWS : ROWS + 80]
    uploaded = bruno.client.post(
        "/analyses/upload",
        data={"csrf": bruno.csrf, "codebook": codebook},
        files={"file": ("vague2.csv", wave.to_csv(sep=";", index=False).encode("cp1252", "replace"))},
    )
    location = uploaded.headers["location"]
    assert f"codebook={codebook}" in location
    form = bruno.get(location).text
    assert "Nouvelle vague dans le livre de codes" in form and re.search(
        r'name="id_column" value="id"[^>]*checked', form
    )
    draft = draft_of(uploaded)
    launched = bruno.post(f"/analyses/drafts/{draft}/launch", {**choices(name="Vague 2"), "codebook": codebook})
    assert launched.status_code == 303, launched.text
    wave_id = launched.headers["location"].rsplit("/", 1)[1]
    for analysis_id in (recode_id, wave_id):
        wait_for(bruno, analysis_id)
    recoded, coded = log.get(recode_id), log.get(wave_id)
    assert recoded.kind == AnalysisKind.RECODE and recoded.status == AnalysisStatus.COMPLETED, recoded.error
    assert recoded.run_id == codebook
    assert coded.kind == AnalysisKind.CODE and coded.status == AnalysisStatus.COMPLETED, coded.error
    assert coded.run_id and coded.run_id != codebook and coded.upload_path is None
    manifest = app.state.data.store.run(coded.run_id).manifest
    assert manifest["codebook_run_id"] == codebook and manifest["counts"]["difficultes"]["rows"] == 80


# -- the same over the API ---------------------------------------------------------------------------------------------
API = "/api/v1"


@pytest.fixture(scope="module")
def api(app: FastAPI) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    from verbatim.models.accounts import Accounts

    accounts = Accounts(app.state.data.store)
    headers = {name: {"Authorization": f"Bearer {accounts.create_token(name, 'tests')[1]}"} for name in USERS}
    with TestClient(app) as client:
        yield client, headers


def _config(**changes: object) -> str:
    base = {"id_column": "id", "questions": ["difficultes"], "attributes": ["profession"], "seed": 3}
    return json.dumps({**base, **changes})


def test_api_refusals_say_what_to_fix(api: tuple[TestClient, dict[str, dict[str, str]]], part_of_sample: bytes) -> None:
    client, headers = api

    def post(config: str, who: str | None = "bruno", content: bytes = part_of_sample) -> httpx.Response:
        return client.post(
            f"{API}/analyses", files={"file": ("enquete.csv", content)}, data={"config": config},
            headers=headers[who] if who else None,
        )  # fmt: skip

    assert post(_config(), who=None).status_code == 401
    assert post(_config(), who="victor").status_code == 403
    response = post(_config(id_column="ID"))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "'ID' not found" in detail and "'id'" in detail, "the CLI's words: the columns there, the closest one"
    response = post('{"questions": []}')
    assert response.status_code == 422 and "id_column" in response.json()["detail"]
    response = post(_config(colour="red"))
    assert response.status_code == 422 and "colour" in response.json()["detail"]
    response = post(_config(), content=b"")
    assert response.status_code == 422 and "empty (0 bytes)" in response.json()["detail"]
    assert client.get(f"{API}/analyses/nope", headers=headers["victor"]).status_code == 404


def test_an_upload_over_the_limit_is_refused_while_it_streams(
    app: FastAPI, data_dir: Path, part_of_sample: bytes
) -> None:
    """A second app with a 10 kB limit on the store of ``app``, whose fixture creates the users (run alone, or
    first, this test found no user 'bruno': pytest-randomly, seed 47)."""
    from verbatim.web.app import create_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERBATIM_MAX_UPLOAD_MB", "0.01")  # 10 kB
        small = create_app(f"sqlite:///{data_dir / 'verbatim.db'}", secret="test-secret-key")
    from verbatim.models.accounts import Accounts

    token = Accounts(small.state.data.store).create_token("bruno", "limit")[1]
    with TestClient(small) as client:
        response = client.post(
            f"{API}/analyses", files={"file": ("gros.csv", part_of_sample)}, data={"config": _config()},
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        assert response.status_code == 413 and "Mo au plus" in response.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while the body streams
            yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="g.csv"\r\n\r\n'
            for _ in range(50):
                yield b"a" * 1024

        response = client.post(
            f"{API}/analyses", content=chunks(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=x"},
        )  # fmt: skip
        assert response.status_code == 413


def test_an_analysis_launched_over_the_api_completes(
    api: tuple[TestClient, dict[str, dict[str, str]]], part_of_sample: bytes
) -> None:
    client, headers = api
    response = client.post(
        f"{API}/analyses", files={"file": ("enquete.csv", part_of_sample)},
        data={"config": _config(name="Par l'API")}, headers=headers["bruno"],
    )  # fmt: skip
    assert response.status_code == 202, response.text
    analysis_id = response.json()["analysis_id"]
    deadline, status = time.monotonic() + 900, {}
    while time.monotonic() < deadline:
        status = client.get(f"{API}/analyses/{analysis_id}", headers=headers["victor"]).json()
        assert status["status"] in ("queued", "running", "completed", "failed")
        if status["status"] in ("completed", "failed"):
            break
        time.sleep(2)
    assert status["status"] == "completed", status
    assert status["progress"] == 1.0 and status["name"] == "Par l'API"
    run = client.get(f"{API}/runs/{status['run_id']}", headers=headers["victor"]).json()
    assert [q["question"] for q in run["questions"]] == ["difficultes"]
    listed = client.get(f"{API}/analyses", headers=headers["victor"]).json()
    assert analysis_id in [a["analysis_id"] for a in listed]


def test_drafts_never_launched_are_purged_after_a_day(people: dict[str, Browser], part_of_sample: bytes) -> None:
    from verbatim.web.analyses import purge_stale_drafts

    draft = draft_of(upload(people["bruno"], "oubli.csv", part_of_sample))
    folder = next(p for p in Path(os.environ["VERBATIM_DATA_DIR"], "uploads").iterdir() if p.name == draft)
    assert purge_stale_drafts() == 0 and folder.exists()
    meta = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    meta["created_at"] = "2020-01-01T00:00:00+00:00"
    (folder / "draft.json").write_text(json.dumps(meta), encoding="utf-8")
    assert purge_stale_drafts() >= 1 and not folder.exists()
    assert people["bruno"].get(f"/analyses/drafts/{draft}").status_code == 404
