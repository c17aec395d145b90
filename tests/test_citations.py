"""The citations page of the report team, over the reviewed sample run (real store, real decisions): validated
quotes only unless asked, filters by attribute and length, attribution and excerpt ids, the same ranking as the
report."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.test_review_api import PASSWORD, Browser
from verbatim.formats.exports import choose_quotes, load_run
from verbatim.formats.exports.citations import citable_quotes
from verbatim.models.decisions import DecisionLog, Role
from verbatim.web.auth import hash_password


@pytest.fixture(scope="module")
def reader(reviewed) -> Browser:  # type: ignore[no-untyped-def]
    from verbatim.web.app import create_app

    log = DecisionLog(reviewed.store)
    if log.user("lectrice") is None:
        log.add_user("lectrice", Role.VIEWER, hash_password(PASSWORD))
    return Browser(create_app(reviewed.database_url, secret="test-secret-key"), "lectrice")


def _quotes(page: str) -> list[tuple[str, str]]:
    """(text, excerpt id) of each quote on the page."""
    found = re.findall(r"<blockquote>« (.*?) »</blockquote>.*?extrait <code>([^<]+)</code>", page, re.S)
    return [(html.unescape(t), html.unescape(e)) for t, e in found]


def test_citable_quotes_are_validated_filtered_and_ranked_like_the_report(reviewed, run) -> None:  # type: ignore[no-untyped-def]
    for question in run.questions:
        for theme in question.active_themes():
            theme_id = theme.state.theme_id
            quotes = citable_quotes(run, question, theme_id)
            validated = {e.excerpt_id for e in question.excerpts_of(theme_id) if e.validated}
            assert {q.excerpt_id for q in quotes} == validated
            everything = citable_quotes(run, question, theme_id, validated_only=False)
            assert len(everything) == len(question.excerpts_of(theme_id))
            report = choose_quotes(run, question, theme_id, n=3)
            if report.validated and quotes:
                assert report.quotes[0].excerpt_id in [q.excerpt_id for q in quotes]
    question = run.questions[0]
    theme_id = max(question.active_themes(), key=lambda t: len(question.excerpts_of(t.state.theme_id))).state.theme_id
    everything = citable_quotes(run, question, theme_id, validated_only=False)
    profession = run.respondents[everything[0].respondent_id]["profession"]
    mine = citable_quotes(run, question, theme_id, validated_only=False, where={"profession": profession})
    assert mine and all(run.respondents[q.respondent_id]["profession"] == profession for q in mine)
    assert len(mine) == sum(run.respondents[q.respondent_id]["profession"] == profession for q in everything)
    short = citable_quotes(run, question, theme_id, validated_only=False, min_chars=40, max_chars=120)
    assert short and all(40 <= len(q.text) <= 120 for q in short)


def test_the_citations_page_shows_validated_quotes_with_attribution(reader: Browser, reviewed) -> None:  # type: ignore[no-untyped-def]
    view = load_run(reviewed.store, reviewed.run_id)
    question = view.questions[0]
    page = reader.get(f"/runs/{reviewed.run_id}/citations", q="1").text
    shown = _quotes(page)
    validated = {e.excerpt_id: e for e in question.excerpts if e.validated}
    assert shown, "the reviewed run has validated quotes"
    assert {e for _, e in shown} <= set(validated), "only validated quotes unless asked"
    text, excerpt_id = shown[0]
    respondent = view.respondents[validated[excerpt_id].respondent_id]
    assert f"— {respondent['profession']}" in html.unescape(page)
    assert text == " ".join(validated[excerpt_id].text.split())
    assert 'data-copy="' in page


def test_filters_by_attribute_theme_and_length(reader: Browser, reviewed) -> None:  # type: ignore[no-untyped-def]
    view = load_run(reviewed.store, reviewed.run_id)
    question = view.questions[0]
    theme = max(question.active_themes(), key=lambda t: len(question.excerpts_of(t.state.theme_id)))
    theme_id = theme.state.theme_id
    base = {"q": "1", "theme": str(theme_id), "tout": "true"}
    page = reader.get(f"/runs/{reviewed.run_id}/citations", **base).text
    assert page.count('<section class="card citations"') == 1
    assert len(_quotes(page)) == min(len(question.excerpts_of(theme_id)), 200)
    region = view.respondents[question.excerpts_of(theme_id)[0].respondent_id]["region"]
    page = reader.get(f"/runs/{reviewed.run_id}/citations", **base, attr_region=region, min="30", max="150").text
    for _text, excerpt_id in _quotes(page):
        e = next(x for x in question.excerpts if x.excerpt_id == excerpt_id)
        assert view.respondents[e.respondent_id]["region"] == region
        assert 30 <= len(" ".join(e.text.split())) <= 150
    assert reader.get(f"/runs/{reviewed.run_id}/citations", q="1", min="90", max="10").status_code == 400
    assert reader.get(f"/runs/{reviewed.run_id}/citations", q="9").status_code == 404


def test_citations_need_a_login(reviewed) -> None:  # type: ignore[no-untyped-def]
    from verbatim.web.app import create_app

    client = TestClient(create_app(reviewed.database_url, secret="test-secret-key"), follow_redirects=False)
    assert client.get(f"/runs/{reviewed.run_id}/citations").status_code == 303
