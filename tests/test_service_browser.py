"""The whole service in a real browser (Debian's Chromium driven by Playwright) against a real ``verbatim serve``:
log in, upload a survey export, correct a pre-selected column, launch, watch the progress page reach the end, open
the themes, download the XLSX and the report ZIP and open them. The analysis runs in the app's own worker process.

With ``VERBATIM_SCREENSHOTS=folder`` the walk also leaves the README's screenshots there."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest

from tests.conftest import SAMPLE
from tests.test_analyses_web import USERS
from tests.test_review_api import PASSWORD, db_url, free_port, start_server
from tests.test_review_browser import CHROMIUM, CHROMIUM_ARGS
from verbatim.models.analyses import AnalysisLog, AnalysisStatus
from verbatim.models.decisions import DecisionLog
from verbatim.models.store import Store
from verbatim.web.auth import hash_password

pytestmark = pytest.mark.slow  # a browser and an analysis run

ROWS = 150


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("service-browser")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERBATIM_DATA_DIR", str(data))  # the server and its worker processes inherit it
        mp.delenv("PREFECT_API_URL", raising=False)
        yield data


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[str]:
    log = DecisionLog(Store(db_url(folder)))
    for name, role in USERS.items():
        log.add_user(name, role, hash_password(PASSWORD))
    process: subprocess.Popen[bytes] = start_server(folder, free_port())
    yield f"http://127.0.0.1:{process.args[process.args.index('--port') + 1]}"  # type: ignore[union-attr,index]
    process.terminate()
    process.wait(timeout=10)


def test_upload_launch_follow_and_download_in_the_browser(server: str, folder: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: install it with `sudo apt-get install -y chromium` (Debian package)")
    from playwright.sync_api import Page, expect, sync_playwright

    survey = tmp_path / "enquete_travail_social.csv"
    pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False).head(ROWS).to_csv(survey, sep=";", index=False)
    shots = Path(os.environ["VERBATIM_SCREENSHOTS"]) if os.environ.get("VERBATIM_SCREENSHOTS") else None

    def shot(page: Page, name: str) -> None:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, shots / path.name)

    def log_in(page: Page, name: str) -> None:
        page.goto(f"{server}/login")
        page.get_by_label("Nom d'utilisateur").fill(name)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)

        # a viewer: no upload form, no link to one
        viewer = browser.new_page(locale="fr-FR")
        log_in(viewer, "victor")
        expect(viewer.get_by_role("link", name="Nouvelle analyse")).to_have_count(0)
        viewer.goto(f"{server}/analyses/new")
        expect(viewer.locator('input[type="file"]')).to_have_count(0)
        expect(viewer.get_by_text("Votre compte est en lecture seule")).to_be_visible()

        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR", accept_downloads=True)
        log_in(page, "bruno")
        page.get_by_role("link", name="Nouvelle analyse").first.click()
        expect(page.get_by_role("heading", name="Nouvelle analyse")).to_be_visible()
        page.get_by_label("Fichier d'export").set_input_files(survey)
        shot(page, "upload")
        page.get_by_role("button", name="Lire le fichier").click()

        # the columns: read and pre-selected; the user corrects one of them
        expect(page.get_by_role("heading", name=re.compile("enquete_travail_social.csv"))).to_be_visible()
        expect(page.get_by_label("id : identifiant")).to_be_checked()
        for question in ("difficultes", "idees"):
            expect(page.get_by_label(f"{question} : question ouverte")).to_be_checked()
        expect(page.get_by_label("anciennete : attribut")).to_be_checked()
        page.get_by_label("anciennete : attribut").uncheck()  # not wanted in this analysis
        page.get_by_label("Nom de l'analyse").fill("Vague de printemps")
        shot(page, "columns")
        page.get_by_role("button", name="Lancer l'analyse").click()

        # the progress page follows the run to its end, then links to the themes
        expect(page.get_by_role("heading", name="Vague de printemps")).to_be_visible()
        expect(page.locator("#status")).to_have_text(re.compile("en attente|en cours|terminée"))
        seen_running: str | bool = False
        for _ in range(300):
            if page.locator("#open-run").count() or page.locator("#error").count():
                break
            step = page.locator("#step")
            if step.count() and (not seen_running or seen_running == "démarrage"):
                seen_running = step.inner_text()  # the first step, then the first one past the start
                shot(page, "progress")
            page.wait_for_timeout(2000)
        expect(page.locator("#open-run")).to_be_visible()
        shot(page, "progress-done")
        analysis_id = page.url.rsplit("/", 1)[1]
        analysis = AnalysisLog(Store(db_url(folder))).get(analysis_id)
        assert analysis.status == AnalysisStatus.COMPLETED, analysis.error
        assert seen_running or analysis.elapsed_seconds() is not None
        counts = page.locator("#summary tbody tr")
        expect(counts).to_have_count(2)
        expect(counts.first).to_contain_text(str(ROWS))

        page.locator("#open-run").click()
        expect(page.get_by_role("heading", name=f"Analyse {analysis.run_id}")).to_be_visible()
        manifest = Store(db_url(folder)).run(str(analysis.run_id)).manifest
        attributes = manifest["parameters"]["attributes"]
        assert "anciennete" not in attributes and "profession" in attributes, "the corrected choice was launched"
        page.get_by_role("link", name="difficultes", exact=True).click()
        expect(page.get_by_role("heading", name="Question : difficultes")).to_be_visible()
        themes = page.locator('a[href*="/themes/"]')
        assert themes.count() >= 3, "several themes to open"
        themes.first.click()
        expect(page.locator("article.excerpt").first).to_be_visible()

        # downloads from the run's page, opened as an analyst would
        page.goto(f"{server}/runs/{analysis.run_id}")
        downloads = page.locator("section.downloads")
        with page.expect_download() as xlsx_download:
            downloads.locator('a[href$="/downloads/xlsx"]').click()
        xlsx = tmp_path / xlsx_download.value.suggested_filename
        xlsx_download.value.save_as(xlsx)
        assert xlsx.suffix == ".xlsx"
        sheets = openpyxl.load_workbook(xlsx, read_only=True)
        rows = list(sheets[sheets.sheetnames[0]].iter_rows(values_only=True))
        assert len(rows) > ROWS and "excerpt_id" in rows[0]
        with page.expect_download() as zip_download:
            downloads.get_by_role("link", name="ZIP").click()
        report = tmp_path / zip_download.value.suggested_filename
        zip_download.value.save_as(report)
        with zipfile.ZipFile(report) as z:
            names = z.namelist()
            assert "report.md" in names and "report.docx" in names and any(n.endswith(".png") for n in names)
            text = "\n".join(p.text for p in docx.Document(io.BytesIO(z.read("report.docx"))).paragraphs)
        assert "difficultes" in text and "«" in text, "the report cites the professionals' answers"
        browser.close()
