"""The review app in a real browser: Debian's Chromium, headless, driven by Playwright, against a real
``verbatim serve`` server process on loopback, over a real analysis run of the sample survey.

With ``VERBATIM_SCREENSHOTS=folder`` the tests also leave the README's screenshots there (adjudication.png,
theme-paged.png)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_review_api import PASSWORD, Q1, Q2, analysed_run, free_port, start_server
from verbatim.models import blind
from verbatim.models.decisions import DecisionLog
from verbatim.models.review import ReviewStatus
from verbatim.models.store import Store
from verbatim.web.data import ReviewData

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = pytest.mark.slow  # an analysis run (about a minute) and a browser


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("review-browser")


@pytest.fixture(scope="module")
def run_id(prefect_harness: None, workdir: Path) -> str:
    return analysed_run(workdir)


@pytest.fixture(scope="module")
def server(run_id: str, workdir: Path) -> Iterator[str]:
    process: subprocess.Popen[bytes] = start_server(workdir, free_port())
    port = process.args[process.args.index("--port") + 1]  # type: ignore[union-attr,index]
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def test_a_researcher_reviews_in_the_browser(server: str, run_id: str, workdir: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: install it with `sudo apt-get install -y chromium` (Debian package)")
    from playwright.sync_api import expect, sync_playwright

    log = DecisionLog(Store(f"sqlite:///{workdir / 'verbatim.db'}"))
    shots: list[Path] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        page.on("dialog", lambda dialog: dialog.accept())  # the merge asks for confirmation

        def shot(name: str) -> None:
            path = tmp_path / f"{len(shots) + 1:02d}-{name}.png"
            page.screenshot(path=str(path), full_page=False)
            shots.append(path)

        # log in: every page sends there first
        page.goto(f"{server}/runs/{run_id}")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        page.get_by_label("Nom d'utilisateur").fill("bruno")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", name=f"Analyse {run_id}")).to_be_visible()
        page.goto(server + "/")
        shot("analyses")

        page.goto(f"{server}/runs/{run_id}/agreement")
        # the page opens; what it counts depends on what the module's other tests decided before (any order)
        expect(page.get_by_role("heading", name="Accord et avancement")).to_be_visible()

        # a question's themes, then the largest theme
        page.goto(f"{server}/runs/{run_id}")
        page.get_by_role("link", name=Q1, exact=True).click()
        expect(page.get_by_role("heading", name=f"Question : {Q1}")).to_be_visible()
        shot("themes")
        state = log.state(run_id, Q1)
        themes = sorted((t.theme_id for t in state.active_themes()), key=lambda t: -len(state.excerpts_of(t)))
        first, second = themes[0], themes[1]
        page.locator(f'a[href="/runs/{run_id}/q/1/themes/{first}"]').first.click()
        expect(page.get_by_role("heading", name=re.compile(rf"^Thème n° {first} "))).to_be_visible()
        expect(page.locator("article.excerpt mark").first).to_be_visible()
        shot("theme")

        # accept one excerpt
        cards = page.locator("article.excerpt")
        accepted = cards.nth(0).get_attribute("id")
        assert accepted
        cards.nth(0).get_by_role("button", name="Accepter").click()
        expect(page.locator(".flash")).to_contain_text("accepté")
        accepted = accepted.removeprefix("e-")
        assert log.state(run_id, Q1).codes[accepted].status == ReviewStatus.ACCEPTED

        # recode another one to the second theme
        card = page.locator("article.excerpt").filter(has=page.get_by_text("proposé par la machine")).first
        recoded = (card.get_attribute("id") or "").removeprefix("e-")
        card.locator("select[name=to_theme]").select_option(str(second))
        card.get_by_role("button", name="Recoder", exact=True).click()
        expect(page.locator(".flash")).to_contain_text("recodé")
        code = log.state(run_id, Q1).codes[recoded]
        assert (code.status, code.theme_id) == (ReviewStatus.RECODED, second)

        page.goto(f"{server}/runs/{run_id}/agreement")
        bruno_row = page.locator("tr", has=page.locator("th", has_text="bruno")).first
        expect(bruno_row).to_contain_text("2")
        kappa_before = page.locator(f'a[href="/runs/{run_id}/q/1/themes/{second}"]').count()
        assert kappa_before == 1, "the second theme has its row among the accepted machine codes"

        # merge the second theme into the first
        page.goto(f"{server}/runs/{run_id}/q/1/themes/{second}")
        page.get_by_label("Fusionner dans").select_option(str(first))
        page.get_by_role("button", name="Fusionner").click()
        expect(page.locator(".flash")).to_contain_text("fusionné dans")
        expect(page).to_have_url(re.compile(rf"/themes/{first}$"))
        assert log.state(run_id, Q1).themes[second].merged_into == first

        page.goto(f"{server}/runs/{run_id}/agreement")
        expect(page.locator(f'a[href="/runs/{run_id}/q/1/themes/{second}"]')).to_have_count(0)
        expect(bruno_row).to_contain_text("100")  # the recode into the merged theme now agrees with the machine
        shot("agreement")
        browser.close()

    for path in shots:
        assert path.stat().st_size > 10_000, path
    print("screenshots:", *shots, sep="\n  ")


def _browser_page(p, server: str, run_id: str, name: str = "bruno", width: int = 1280):  # type: ignore[no-untyped-def]
    """A logged-in Chromium page (``name``) at ``width`` pixels, on the run's page."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: install it with `sudo apt-get install -y chromium` (Debian package)")
    browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="fr-FR")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{server}/runs/{run_id}")
    page.get_by_label("Nom d'utilisateur").fill(name)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(rf"/runs/{run_id}$"))
    return browser, page


def double_click(button) -> None:  # type: ignore[no-untyped-def]
    """Two clicks on ``button`` 40 ms apart, as a person double-clicks (Playwright's dblclick is so fast that Chromium
    sends the form once whatever the page does)."""
    button.scroll_into_view_if_needed()
    button.evaluate("b => { b.click(); setTimeout(() => b.click(), 40); }")


def test_a_double_click_makes_one_of_everything(server: str, run_id: str, workdir: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    log = DecisionLog(Store(f"sqlite:///{workdir / 'verbatim.db'}"))
    state = log.state(run_id, Q1)
    theme = sorted((t.theme_id for t in state.active_themes()), key=lambda t: -len(state.excerpts_of(t)))[2]
    with sync_playwright() as p:
        browser, page = _browser_page(p, server, run_id, "chloe")
        posts: list[tuple[str, str]] = []
        page.on("request", lambda r: posts.append((r.url, r.post_data or "")) if r.method == "POST" else None)
        page.goto(f"{server}/runs/{run_id}/q/1/themes/{theme}")
        cards = page.locator("article.excerpt")
        picked = [(cards.nth(i).get_attribute("id") or "").removeprefix("e-") for i in (0, 1)]
        for excerpt in picked:
            page.locator(f"#sel-{excerpt}").check()
        page.get_by_placeholder("Nom du nouveau thème…").fill("Double clic")
        double_click(page.get_by_role("button", name="Scinder vers un nouveau thème"))
        expect(page.locator(".flash").first).to_be_visible(timeout=30_000)  # the answer to the split has come
        page.wait_for_timeout(500)
        labels = [t.label for t in log.state(run_id, Q1).themes.values()]
        assert labels.count("Double clic") == 1, "one theme, not two"
        assert [u for u, _ in posts if u.endswith("/bulk")] == [f"{server}/runs/{run_id}/q/1/bulk"], "sent once"

        page.goto(f"{server}/runs/{run_id}/q/1/themes/{theme}")
        card = page.locator("article.excerpt").filter(has=page.get_by_text("proposé par la machine")).first
        excerpt = (card.get_attribute("id") or "").removeprefix("e-")
        double_click(card.get_by_role("button", name="Accepter"))
        page.wait_for_load_state()
        page.wait_for_timeout(500)
        assert len(log.decisions(run_id, Q1, excerpt)) == 1, "one acceptance, not two"
        assert sum(1 for u, data in posts if u.endswith("/decide") and f"excerpt_id={excerpt}" in data) == 1
        browser.close()


def test_no_sideways_scroll_at_phone_width(server: str, run_id: str, workdir: Path) -> None:
    from playwright.sync_api import sync_playwright

    log = DecisionLog(Store(f"sqlite:///{workdir / 'verbatim.db'}"))
    state = log.state(run_id, Q1)
    theme = sorted((t.theme_id for t in state.active_themes()), key=lambda t: -len(state.excerpts_of(t)))[0]
    excerpt = state.excerpts_of(theme)[0]
    paths = ["/", f"/runs/{run_id}", f"/runs/{run_id}/q/1", f"/runs/{run_id}/q/1/themes/{theme}",
             f"/runs/{run_id}/q/1/queue", f"/runs/{run_id}/q/1/excerpt?id={excerpt}", f"/runs/{run_id}/agreement",
             f"/runs/{run_id}/double-coding", f"/runs/{run_id}/adjudication"]  # fmt: skip
    with sync_playwright() as p:
        browser, page = _browser_page(p, server, run_id, "anne", width=390)
        too_wide = {}
        for path in paths:
            page.goto(server + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                too_wide[path] = width
        assert too_wide == {}, "the page scrolls sideways at 390 px"
        page.goto(f"{server}/runs/{run_id}/q/1/themes/{theme}")
        recode = page.locator("article.excerpt").get_by_role("button", name="Recoder", exact=True).first  # on a card
        box = recode.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, "« Recoder » is on the screen"
        browser.close()


def _keep(path: Path, name: str) -> None:
    """A README screenshot: copied to ``$VERBATIM_SCREENSHOTS/name`` when that folder is given."""
    if os.environ.get("VERBATIM_SCREENSHOTS"):
        folder = Path(os.environ["VERBATIM_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / name)


def test_a_paged_theme_and_the_adjudication_view(server: str, run_id: str, workdir: Path, tmp_path: Path) -> None:
    """A theme's excerpts come a page at a time (a count, next / previous); the admin's adjudication view puts two
    blind coders' disagreements side by side with the machine's code. Both are the README's screenshots."""
    from playwright.sync_api import expect, sync_playwright

    store = Store(f"sqlite:///{workdir / 'verbatim.db'}")
    log = DecisionLog(store)
    state = log.state(run_id, Q1)
    theme = sorted((t.theme_id for t in state.active_themes()), key=lambda t: -len(state.excerpts_of(t)))[0]
    n = len(state.excerpts_of(theme))
    size = 20  # pages of 20 (taille=20): page 2 has both a previous and a next page
    assert n > 2 * size, "the largest theme spans more than two pages"
    # blind double coding on the second question (the other browser tests work on the first): diane and chloe
    # disagree on every other excerpt
    sample = ReviewData(store).draw_double_coding(run_id, Q2, 6, "diane", "chloe", seed=5)
    q2 = log.state(run_id, Q2)
    themes = [t.theme_id for t in q2.active_themes()]
    for i, e in enumerate(sample):
        current = q2.codes[e].theme_id
        for coder, chosen in (("diane", themes[i % 3]), ("chloe", themes[i % 3] if i % 2 else themes[3 + i % 2])):
            log.decide(run_id, Q2, blind.blind_kind(chosen, current), coder, excerpt_id=e, theme_id=current,
                       to_theme_id=chosen if chosen != current else None, double_coding=True)  # fmt: skip
    with sync_playwright() as p:
        browser, page = _browser_page(p, server, run_id, "anne")
        page.goto(f"{server}/runs/{run_id}/q/1/themes/{theme}?taille={size}")
        page.get_by_role("link", name="Extraits suivants →").first.click()
        expect(page).to_have_url(re.compile(r"page=2"))
        expect(page.locator("#extraits")).to_contain_text(f"Extraits {size + 1} à {2 * size} sur {n}")
        expect(page.get_by_role("link", name="← Extraits précédents").first).to_be_visible()
        expect(page.get_by_role("link", name="Extraits suivants →").first).to_be_visible()
        page.evaluate("document.getElementById('extraits').scrollIntoView()")
        paged = tmp_path / "theme-paged.png"
        page.screenshot(path=str(paged), full_page=False)

        page.goto(f"{server}/runs/{run_id}/adjudication")
        expect(page.get_by_text("à arbitrer").first).to_be_visible()
        expect(page.locator("article.excerpt")).to_have_count(3)  # the disagreements only
        adjudication = tmp_path / "adjudication.png"
        page.screenshot(path=str(adjudication), full_page=False)
        browser.close()
    for path in (paged, adjudication):
        assert path.stat().st_size > 10_000, path
        _keep(path, path.name)


def test_blindness_a_stale_cookie_and_the_reviewers_place_in_the_browser(
    server: str, run_id: str, workdir: Path
) -> None:
    """Issue 20 in Chromium: a blind coder never sees the other coder's code or name on the pages they can open; a
    cookie copied before logout opens nothing after it; after « Accepter » the page is at the next excerpt."""
    from playwright.sync_api import expect, sync_playwright

    store = Store(f"sqlite:///{workdir / 'verbatim.db'}")
    log = DecisionLog(store)
    (excerpt, *_others) = ReviewData(store).draw_double_coding(run_id, Q2, 4, "bruno", "diane", seed=11)
    q2 = log.state(run_id, Q2)
    current = q2.codes[excerpt].theme_id
    chosen = next(t.theme_id for t in q2.active_themes() if t.theme_id != current)
    log.decide(run_id, Q2, blind.blind_kind(chosen, current), "bruno", excerpt_id=excerpt, theme_id=current,
               to_theme_id=chosen, double_coding=True)  # fmt: skip
    with sync_playwright() as p:
        browser, page = _browser_page(p, server, run_id, "diane")
        pages = {
            "extrait": f"/runs/{run_id}/q/2/excerpt?id={excerpt}",
            "thème": f"/runs/{run_id}/q/2/themes/{current}?taille=500",
            "file": f"/runs/{run_id}/q/2/queue?seuil=1",
            "double codage": f"/runs/{run_id}/double-coding",
        }
        for name, path in pages.items():
            page.goto(server + path)
            card = page.locator(f"#e-{excerpt}")
            text = card.first.inner_text() if card.count() else page.locator("main").inner_text()
            assert "bruno" not in text, f"{name}: the other coder's name"
        page.goto(server + pages["extrait"])
        expect(page.get_by_text("bruno")).to_have_count(0)
        assert log.state(run_id, Q2).codes[excerpt].theme_id == current, "a blind code changes no excerpt's code"

        # keeping the place: « Accepter » on the first card to review brings the page back at the next one
        theme = sorted((t.theme_id for t in log.state(run_id, Q1).active_themes()),
                       key=lambda t: -len(log.state(run_id, Q1).excerpts_of(t)))[3]  # fmt: skip
        page.goto(f"{server}/runs/{run_id}/q/1/themes/{theme}")
        cards = page.locator("article.excerpt")
        first, second = ((cards.nth(i).get_attribute("id") or "") for i in (0, 1))
        cards.nth(0).get_by_role("button", name="Accepter").click()
        expect(page).to_have_url(re.compile(rf"#{re.escape(second)}$"))
        expect(page.locator(f"#{second}")).to_be_in_viewport()
        assert log.state(run_id, Q1).codes[first.removeprefix("e-")].status == ReviewStatus.ACCEPTED

        # a cookie copied before logout opens nothing after it
        stale = browser.new_context(locale="fr-FR")
        stale.add_cookies(page.context.cookies())
        other = stale.new_page()
        other.goto(f"{server}/runs/{run_id}")
        expect(other.get_by_role("heading", name=f"Analyse {run_id}")).to_be_visible()
        page.get_by_role("button", name="Se déconnecter").click()
        expect(page).to_have_url(re.compile(r"/login"))
        other.goto(f"{server}/runs/{run_id}")
        expect(other).to_have_url(re.compile(r"/login\?next="))
        browser.close()


def test_search_open_a_result_and_recode_from_the_concordance(server: str, run_id: str, workdir: Path) -> None:
    """Issue 17 in Chromium: search the run, open a hit, come back and recode every hit of one question to a theme."""
    from playwright.sync_api import expect, sync_playwright

    log = DecisionLog(Store(f"sqlite:///{workdir / 'verbatim.db'}"))
    with sync_playwright() as p:
        browser, page = _browser_page(p, server, run_id, "chloe")
        page.get_by_label("Rechercher dans les réponses").fill("tablette*")
        page.get_by_role("button", name="Rechercher").click()
        expect(page.get_by_role("heading", name=re.compile(r"extraits? trouvés? pour « tablette\* »"))).to_be_visible()
        hits = page.locator("table.concordance tbody tr")
        assert hits.count() >= 2
        first = (hits.first.get_attribute("id") or "").removeprefix("hit-")
        hits.first.locator("td.match a").click()
        expect(page).to_have_url(re.compile(r"/excerpt\?id="))
        expect(page.locator(f"#e-{first}")).to_be_visible()
        page.go_back()

        page.get_by_label("Question").select_option(label=Q2)
        page.get_by_role("button", name="Chercher").click()
        ids = [
            (r.get_attribute("id") or "").removeprefix("hit-") for r in page.locator("table.concordance tbody tr").all()
        ]
        assert ids and all(i.startswith("Q2-") for i in ids)
        state = log.state(run_id, Q2)
        others = [t for t in state.active_themes() if any(state.codes[i].theme_id != t.theme_id for i in ids)]
        target = max(others, key=lambda t: len(state.excerpts_of(t.theme_id))).theme_id  # not every hit's theme
        page.get_by_label("Recoder tous ces extraits vers").select_option(str(target))
        page.get_by_role("button", name=re.compile(r"^Recoder \(\d+\)$")).click()
        expect(page.locator(".flash").first).to_contain_text("recodé")
        codes = log.state(run_id, Q2).codes
        assert all(codes[i].theme_id == target for i in ids), "every hit recoded to the theme"
        browser.close()
