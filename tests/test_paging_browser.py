"""A theme of 520 excerpts in Chromium (issue 20): its page shows 50 at a time with a count, the reviewer pages
through to the end with « Extraits suivants », and after « Accepter » on a later page stays on that page at the next
excerpt. A real ``verbatim serve`` over a stored run (no analysis needed: the run is written to the store)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_review_api import PASSWORD, db_url, free_port, start_server
from tests.test_review_browser import CHROMIUM, CHROMIUM_ARGS
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.records import Answer, AnswerStatus, Coding, Excerpt, Respondent, Theme
from verbatim.models.review import ReviewStatus
from verbatim.models.store import Store
from verbatim.web.auth import hash_password

pytestmark = pytest.mark.slow  # a server and a browser

N = 520


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("paging")
    store = Store(db_url(folder))
    respondents, answers, excerpts, codings = [], [], [], []
    for i in range(N):
        rid = f"R{i:04d}"
        text = f"Réponse {i} : les logiciels changent sans prévenir et il faut tout réapprendre ({i})."
        respondents.append(Respondent(respondent_id=rid, row=i + 1, attributes={"profession": "CESF"}))
        answers.append(Answer(question="q", respondent_id=rid, row=i + 1, text=text, status=AnswerStatus.CODED))
        excerpts.append(Excerpt(excerpt_id=f"Q1-{rid}-01", question="q", respondent_id=rid, start=0, end=len(text),
                                text=text, lemmas=("logiciel", "changer")))  # fmt: skip
        codings.append(Coding(excerpt_id=f"Q1-{rid}-01", theme_id=0, score=0.5 + (i % 97) / 200))
    theme = Theme(question="q", theme_id=0, label="Logiciels qui changent", description="", keywords=("logiciel",),
                  n_excerpts=N, n_respondents=N, representative_excerpt_ids=("Q1-R0000-01",))  # fmt: skip
    manifest = {"input": {"file_name": "s.csv", "sha256": "0" * 64}, "parameters": {"seed": 1}, "encoder": {"id": "x"}}
    store.save_run("grand", manifest, respondents, answers, {}, excerpts, [theme], codings)
    DecisionLog(store).add_user("bruno", Role.RESEARCHER, hash_password(PASSWORD))
    process: subprocess.Popen[bytes] = start_server(folder, free_port())
    yield f"http://127.0.0.1:{process.args[process.args.index('--port') + 1]}", folder  # type: ignore[union-attr,index]
    process.terminate()
    process.wait(timeout=10)


def test_page_through_a_theme_of_520_excerpts(server: tuple[str, Path]) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: install it with `sudo apt-get install -y chromium` (Debian package)")
    from playwright.sync_api import expect, sync_playwright

    base, folder = server
    log = DecisionLog(Store(db_url(folder)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        page.goto(f"{base}/runs/grand/q/1/themes/0")
        page.get_by_label("Nom d'utilisateur").fill("bruno")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.locator("#extraits")).to_contain_text(f"Extraits 1 à 50 sur {N}")
        assert page.locator("article.excerpt").count() == 50
        assert page.evaluate("document.documentElement.scrollHeight") < 40_000, "50 cards, not 520"
        seen: set[str] = set()
        for number in range(1, 12):
            expect(page.locator("#extraits")).to_contain_text(f"page {number} sur 11")
            # the count heads the cards: on a busy machine it shows before the page's last cards are parsed
            expect(page.locator("article.excerpt")).to_have_count(50 if number < 11 else N - 500)
            ids = [c.get_attribute("id") or "" for c in page.locator("article.excerpt").all()]
            assert not seen & set(ids), "no excerpt on two pages"
            seen |= set(ids)
            if number == 3:  # accept the first card of page 3: the page stays, at the next excerpt
                first, second = ids[0], ids[1]
                page.locator(f"#{first}").get_by_role("button", name="Accepter").click()
                expect(page).to_have_url(re.compile(rf"page=3.*#{re.escape(second)}$"))
                assert log.state("grand", "q").codes[first.removeprefix("e-")].status == ReviewStatus.ACCEPTED
                seen.discard(first)  # reviewed now: it moves behind the excerpts still to review
                expect(page.locator("article.excerpt")).to_have_count(50)
                ids = [c.get_attribute("id") or "" for c in page.locator("article.excerpt").all()]
                seen |= set(ids)
            if number < 11:
                page.get_by_role("link", name="Extraits suivants →").first.click()
        expect(page.locator("#extraits")).to_contain_text(f"Extraits 501 à {N} sur {N}")
        expect(page.get_by_role("link", name="Extraits suivants →")).to_have_count(0)
        expect(page.get_by_role("link", name="← Extraits précédents").first).to_be_visible()
        assert len(seen) >= N - 1
        browser.close()
