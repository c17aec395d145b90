"""The review app's forms over HTTP (issue 20): one click has one effect (one-time form tokens), empty themes can be
deleted and restored, and what the forms accept matches what the server accepts. On a real analysis run of the
sample survey in a real SQLite store (fixtures of test_review_api)."""

from __future__ import annotations

import re

from tests.test_review_api import (
    Q1,
    Browser,
    app,
    big_themes,
    decide_url,
    fresh,
    log,
    people,
    run_id,
    store,
    workdir,
)
from verbatim.models.decisions import DecisionLog
from verbatim.models.review import DecisionKind, ReviewStatus

__all__ = ["app", "log", "people", "run_id", "store", "workdir"]  # module fixtures shared with test_review_api

ALREADY = "Ce formulaire avait déjà été envoyé"


def form_fields(html: str, marker: str) -> dict[str, str]:
    """The hidden fields of the first form after ``marker`` in ``html``."""
    form = html.split(marker, 1)[1].split("<form", 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def follow(browser: Browser, response_location: str) -> str:
    return browser.client.get(response_location).text


def test_the_same_form_sent_twice_acts_once(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    bruno = people["bruno"]
    theme = big_themes(log, run_id, Q1)[0]
    (excerpt,) = fresh(log, run_id, Q1, 1, theme=theme)
    page = bruno.get(f"/runs/{run_id}/q/1/excerpt", id=excerpt).text
    fields = form_fields(page, f'id="e-{excerpt}"')
    assert len(fields["once"]) >= 20, "the form carries a one-time token"
    before = len(log.decisions(run_id, Q1, excerpt))
    first = bruno.client.post(decide_url(run_id), data={**fields, "action": "accept"})
    second = bruno.client.post(decide_url(run_id), data={**fields, "action": "accept"})
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"], "back to the same page"
    assert ALREADY in follow(bruno, second.headers["location"])
    assert len(log.decisions(run_id, Q1, excerpt)) == before + 1, "one decision, not two"
    fresh_page = bruno.get(f"/runs/{run_id}/q/1/excerpt", id=excerpt).text
    assert form_fields(fresh_page, f'id="e-{excerpt}"')["once"] != fields["once"], "a new token on each page"

    # split twice into a new theme: one theme; create-and-recode twice: one theme
    ids = fresh(log, run_id, Q1, 2, theme=theme)
    page = bruno.get(f"/runs/{run_id}/q/1/themes/{theme}").text
    bulk = form_fields(page, 'id="bulk"')
    split = {**bulk, "action": "split", "label": "Scindé une fois", "excerpt_ids": ids}
    assert [bruno.client.post(f"/runs/{run_id}/q/1/bulk", data=split).status_code for _ in range(2)] == [303, 303]
    (other,) = fresh(log, run_id, Q1, 1, theme=theme)
    fields = form_fields(bruno.get(f"/runs/{run_id}/q/1/excerpt", id=other).text, f'id="e-{other}"')
    new = {**fields, "action": "new_theme", "label": "Créé une fois"}
    assert [bruno.client.post(decide_url(run_id), data=new).status_code for _ in range(2)] == [303, 303]
    labels = [t.label for t in log.state(run_id, Q1).themes.values()]
    assert labels.count("Scindé une fois") == 1 and labels.count("Créé une fois") == 1


def test_a_refused_form_can_be_sent_again(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    bruno = people["bruno"]
    theme = big_themes(log, run_id, Q1)[1]
    ids = fresh(log, run_id, Q1, 1, theme=theme)
    bulk = form_fields(bruno.get(f"/runs/{run_id}/q/1/themes/{theme}").text, 'id="bulk"')
    split = {**bulk, "action": "split", "label": "", "excerpt_ids": ids}
    assert bruno.client.post(f"/runs/{run_id}/q/1/bulk", data=split).status_code == 400
    split["label"] = "Corrigé puis envoyé"
    assert bruno.client.post(f"/runs/{run_id}/q/1/bulk", data=split).status_code == 303
    assert any(t.label == "Corrigé puis envoyé" for t in log.state(run_id, Q1).themes.values())


def test_every_form_that_changes_something_carries_a_one_time_token(
    people: dict[str, Browser], run_id: str, log: DecisionLog
) -> None:
    theme = big_themes(log, run_id, Q1)[0]
    excerpt = log.state(run_id, Q1).excerpts_of(theme)[0]
    paths = [f"/runs/{run_id}/q/1/themes/{theme}", f"/runs/{run_id}/q/1/excerpt?id={excerpt}",
             f"/runs/{run_id}/q/1/queue", f"/runs/{run_id}/agreement", f"/runs/{run_id}/double-coding",
             f"/runs/{run_id}/adjudication"]  # fmt: skip
    n_forms = 0
    for path in paths:
        html = people["anne"].client.get(path).text
        for form in re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html, flags=re.S):
            if form[0] == "/logout":
                continue
            n_forms += 1
            assert 'name="once" value="' in form[1], (path, form[0])
    assert n_forms > 10


def test_an_empty_theme_is_deleted_and_restored(people: dict[str, Browser], run_id: str, log: DecisionLog) -> None:
    chloe = people["chloe"]
    theme = big_themes(log, run_id, Q1)[2]
    (excerpt,) = fresh(log, run_id, Q1, 1, theme=theme)
    data = {"excerpt_id": excerpt, "action": "new_theme", "label": "Bientôt vide"}
    assert chloe.post(decide_url(run_id), data).status_code == 303
    state = log.state(run_id, Q1)
    empty = next(t.theme_id for t in state.themes.values() if t.label == "Bientôt vide")
    url = f"/runs/{run_id}/q/1/themes/{empty}"
    assert "Supprimer ce thème vide" not in chloe.get(url).text, "a theme with excerpts is not deleted"
    refused = chloe.post(f"{url}/delete", {})
    assert refused.status_code == 400 and "contient encore 1 extrait" in refused.text
    data = {"excerpt_id": excerpt, "action": "recode", "to_theme": str(theme), "seen": "0"}
    assert chloe.post(decide_url(run_id), data).status_code == 303
    page = chloe.get(url).text
    assert "Supprimer ce thème vide" in page
    fields = form_fields(page, 'class="warn">Fusionner</button>')  # the delete form follows the merge form
    response = chloe.client.post(f"{url}/delete", data=fields)
    assert response.status_code == 303
    state = log.state(run_id, Q1)
    assert not state.themes[empty].active and state.themes[empty].deleted
    assert empty not in {t.theme_id for t in state.active_themes()}
    page = chloe.get(url).text
    assert "a été supprimé" in page and "Suppression de thème" in page
    assert f"n° {empty} · Bientôt vide" not in chloe.get(f"/runs/{run_id}/q/1").text
    deletion = next(d for d in state.decisions if d.kind == DecisionKind.DELETE_THEME and d.theme_id == empty)
    assert chloe.post(f"/runs/{run_id}/q/1/undo", {"decision_id": str(deletion.id)}).status_code == 303
    assert log.state(run_id, Q1).themes[empty].active, "undo brings it back"
    # an undo that sends an excerpt back into a deleted theme leaves it in the review queue
    assert chloe.client.post(f"{url}/delete", data={"csrf": chloe.csrf}).status_code == 303
    recode = next(
        d for d in log.decisions(run_id, Q1, excerpt) if d.kind == DecisionKind.RECODE and d.to_theme_id == theme
    )
    assert chloe.post(f"/runs/{run_id}/q/1/undo", {"decision_id": str(recode.id)}).status_code == 303
    code = log.state(run_id, Q1).codes[excerpt]
    assert code.status == ReviewStatus.QUEUED and code.theme_id == -1


def test_a_theme_name_has_the_same_limit_in_the_form_and_on_the_server(
    people: dict[str, Browser], run_id: str, log: DecisionLog
) -> None:
    bruno = people["bruno"]
    theme = big_themes(log, run_id, Q1)[3]
    page = bruno.get(f"/runs/{run_id}/q/1/themes/{theme}").text
    limits = set(re.findall(r'name="label"[^>]*maxlength="(\d+)"', page))
    assert limits == {"200"}, "rename, split and new-theme fields"
    before = log.state(run_id, Q1).themes[theme].label
    (excerpt,) = fresh(log, run_id, Q1, 1, theme=theme)
    too_long = "x" * 201
    for path, data in (
        (f"/runs/{run_id}/q/1/themes/{theme}/edit", {"label": too_long}),
        (
            f"/runs/{run_id}/q/1/bulk",
            {"action": "split", "theme": str(theme), "label": too_long, "excerpt_ids": excerpt},
        ),
        (decide_url(run_id), {"excerpt_id": excerpt, "action": "new_theme", "label": too_long}),
    ):
        response = bruno.post(path, data)
        assert response.status_code == 400 and "200 caractères au plus" in response.text, path
    state = log.state(run_id, Q1)
    assert state.themes[theme].label == before and not any(t.label == too_long for t in state.themes.values())
    assert bruno.post(f"/runs/{run_id}/q/1/themes/{theme}/edit", {"label": "y" * 200}).status_code == 303
    assert log.state(run_id, Q1).themes[theme].label == "y" * 200


def test_a_threshold_that_is_not_a_number_is_the_default(people: dict[str, Browser], run_id: str) -> None:
    for value in ("nan", "inf", "-inf"):
        response = people["victor"].get(f"/runs/{run_id}/q/1/queue", seuil=value)
        assert response.status_code == 200
        assert "inférieur à 0,35" in response.text and 'name="seuil" type="number"' in response.text
        assert not re.search(r"inférieur à -?(nan|inf)|value=\"-?(nan|inf)\"", response.text)


def test_the_app_has_a_favicon(people: dict[str, Browser], run_id: str) -> None:
    assert '<link rel="icon" href="/static/favicon.svg"' in people["victor"].get(f"/runs/{run_id}").text
    icon = people["victor"].get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")


def test_every_answer_carries_the_security_headers(people: dict[str, Browser], run_id: str) -> None:
    """Pages, errors, the API and static files: a content policy, no sniffing, no framing; nothing but static files
    may be kept in a cache (a page shows pseudonymised quotes, the API a researcher's decisions)."""
    browser = people["victor"]
    page, missing = browser.get(f"/runs/{run_id}"), browser.get("/runs/no-such-run")
    api = browser.client.get("/api/v1/runs", headers={"Authorization": "Bearer not-a-token"})
    icon = browser.get("/static/favicon.svg")
    assert (page.status_code, missing.status_code, api.status_code, icon.status_code) == (200, 404, 401, 200)
    for response in (page, missing, api, icon):
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
    assert all(r.headers["cache-control"] == "no-store" for r in (page, missing, api))
    assert "no-store" not in icon.headers.get("cache-control", "")


def test_a_theme_page_shows_its_excerpts_a_page_at_a_time(
    people: dict[str, Browser], run_id: str, log: DecisionLog
) -> None:
    victor = people["victor"]
    theme = big_themes(log, run_id, Q1)[0]
    n = len(log.state(run_id, Q1).excerpts_of(theme))
    assert n > 20
    url = f"/runs/{run_id}/q/1/themes/{theme}"
    page = victor.get(url).text
    assert page.count('<article class="excerpt') == min(n, 50)
    assert page.index('id="extraits"') < page.index("Répartition par attribut"), "excerpts before the tables"
    assert f"{n} extraits ·" in page
    seen: list[str] = []
    for number in range(1, -(-n // 10) + 1):
        html = victor.get(url, page=str(number), taille="10").text
        cards = re.findall(r'<article class="excerpt[^"]*" id="e-([^"]+)"', html)
        assert len(cards) == min(10, n - 10 * (number - 1))
        assert f"Extraits {10 * (number - 1) + 1} à {10 * (number - 1) + len(cards)} sur {n}." in html
        assert ("Extraits suivants" in html) == (10 * number < n) and ("Extraits précédents" in html) == (number > 1)
        seen += cards
    assert sorted(seen) == sorted(log.state(run_id, Q1).excerpts_of(theme)), "every excerpt once"
    last = victor.get(url, page="999", taille="10").text
    assert re.findall(r'<article class="excerpt[^"]*" id="e-([^"]+)"', last) == seen[-len(re.findall('id="e-', last)) :]
    assert victor.get(url, page="deux").status_code == 400


def test_after_accepting_the_page_shows_the_next_excerpt(
    people: dict[str, Browser], run_id: str, log: DecisionLog
) -> None:
    diane = people["diane"]
    theme = big_themes(log, run_id, Q1)[4]
    url = f"/runs/{run_id}/q/1/themes/{theme}"
    page = diane.get(url).text
    first, second = re.findall(r'<article class="excerpt[^"]*" id="e-([^"]+)"', page)[:2]
    assert log.state(run_id, Q1).codes[first].decision_id is None, "the page starts with excerpts to review"
    fields = form_fields(page, f'id="e-{first}"')
    response = diane.client.post(decide_url(run_id), data={**fields, "action": "accept"})
    assert response.status_code == 303 and response.headers["location"] == f"{url}#e-{second}"
    after = diane.client.get(response.headers["location"]).text
    assert f'id="e-{second}"' in after and "accepté" in after


def test_a_file_sent_in_place_of_a_name_is_refused_not_kept_as_its_repr(
    people: dict[str, Browser], run_id: str, log: DecisionLog
) -> None:
    """A family renamed with a file in the ``label`` field (a script's mistake): refused as a missing name; before,
    the family was named after the file object's repr."""
    bruno = people["bruno"]
    family = log.state(run_id, Q1).active_families()[0][0]
    response = bruno.client.post(
        f"/runs/{run_id}/q/1/families/{family.family_id}/rename",
        data={"csrf": bruno.csrf},
        files={"label": ("nom.txt", b"Un nom", "text/plain")},
    )
    assert response.status_code == 400 and "Champ manquant" in response.text
    assert log.state(run_id, Q1).families[family.family_id].label == family.label
