"""Search and concordance on the reviewed run of the sample survey: the store's search finds exactly what a plain scan
of the texts finds; lemmas on request; the page, the recoding of what was found and the API."""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.export_support import ReviewedRun
from tests.test_review_api import PASSWORD, Browser
from verbatim.models.accounts import Accounts
from verbatim.models.decisions import DecisionLog, Role, User
from verbatim.models.review import DecisionKind
from verbatim.models.search import SearchError, excerpt_texts, query_words, search_lemmas, search_words
from verbatim.models.search_text import fold
from verbatim.models.store import Store
from verbatim.models.tables import ExcerptRow, RespondentRow
from verbatim.models.transfer import copy_store
from verbatim.web.auth import hash_password
from verbatim.web.data import ReviewData
from verbatim.web.pages import theme_name
from verbatim.web.search import Filters, run_search

pytestmark = pytest.mark.slow  # the session's reviewed run (an analysis of the sample survey)


def _plain(text: str) -> str:
    """An independent folding: NFKD, combining marks dropped, case folded."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def plain_scan(reviewed: ReviewedRun, phrase: str) -> set[str]:
    words = [re.escape(_plain(w)) for w in phrase.split()]
    pattern = re.compile(r"(?<!\w)" + r"\W+".join(words) + r"(?!\w)")
    return {e.excerpt_id for e in reviewed.store.excerpts(reviewed.run_id) if pattern.search(_plain(e.text))}


@pytest.mark.parametrize("query", ["formation", "FORMATION", "messagerie sécurisée", "numérique", "écran", "CAF",
                                   "manque de formation", "mot de passe", "Logiciels"])  # fmt: skip
def test_search_finds_what_a_plain_scan_finds(reviewed: ReviewedRun, query: str) -> None:
    hits = search_words(reviewed.store, reviewed.run_id, query)
    expected = plain_scan(reviewed, query)
    assert expected, f"the sample has '{query}'"
    assert {h.excerpt_id for h in hits} == expected
    texts = excerpt_texts(reviewed.store, reviewed.run_id, [h.excerpt_id for h in hits])
    for h in hits:  # the offsets point at the words as written
        assert re.sub(r"\W+", " ", fold(texts[h.excerpt_id][h.start : h.end])).strip() == " ".join(fold(query).split())


def _scan(rows: list[ExcerptRow], words: list[str]) -> set[str]:
    """The excerpts whose text holds ``words`` one after the other (a trailing * for a word's beginning), by a plain
    scan of every excerpt with its own pattern: NFKD folding, words split at anything but letters and digits."""
    parts = [re.escape(_plain(w[:-1])) + r"[\w'’-]*" if w.endswith("*") else re.escape(_plain(w)) for w in words]
    pattern = re.compile(r"(?<!\w)" + r"[\W_]+".join(parts) + r"(?!\w)")
    return {e.excerpt_id for e in rows if pattern.search(_plain(e.text))}


def test_the_index_finds_what_a_scan_finds_on_both_backends(reviewed: ReviewedRun, database_url: str) -> None:
    """The sample survey in a store of each backend: for words and pairs of words drawn from its texts (and
    prefixes, and words the index splits: apostrophes, hyphens), the index's hits are a plain scan's."""
    store = Store(database_url)
    copy_store(reviewed.store, store)
    rows = store.excerpts(reviewed.run_id)
    words = sorted({w for r in rows for w in re.findall(r"[\w'’-]+", r.text) if len(w) > 2})
    pairs = sorted({" ".join(p) for r in rows for p in zip(r.text.split(), r.text.split()[1:], strict=False)})
    rng = random.Random(17)
    queries = rng.sample(words, 40) + rng.sample(pairs, 20) + ["numéri*", "form* de", "aujourd'hui", "e-mail", "l'*"]
    for query in queries:
        expected = _scan(rows, query_words(query))
        assert {h.excerpt_id for h in search_words(store, reviewed.run_id, query)} == expected, query
    lemmas = sorted({x for r in rows for x in r.lemmas.split()})
    for lemma in rng.sample(lemmas, 20):
        expected = {r.excerpt_id for r in rows if fold(lemma) in fold(r.lemmas).split()}
        assert {h.excerpt_id for h in search_lemmas(store, reviewed.run_id, [lemma])} == expected, lemma


def test_a_prefix_and_accents_ignored(reviewed: ReviewedRun) -> None:
    prefixed = {h.excerpt_id for h in search_words(reviewed.store, reviewed.run_id, "numéri*")}
    assert prefixed >= plain_scan(reviewed, "numérique") | plain_scan(reviewed, "numériques")
    assert {h.excerpt_id for h in search_words(reviewed.store, reviewed.run_id, "numerique")} == plain_scan(
        reviewed, "numérique"
    )
    with pytest.raises(SearchError, match="tapez un mot"):
        search_words(reviewed.store, reviewed.run_id, " ?! ")


def test_lemmas_on_request(reviewed: ReviewedRun) -> None:
    from verbatim.nlp.excerpts import query_lemmas

    assert query_lemmas("formées") == ["former"]
    lemma_hits = search_lemmas(reviewed.store, reviewed.run_id, query_lemmas("formées"))
    rows = {e.excerpt_id: e for e in reviewed.store.excerpts(reviewed.run_id)}
    expected = {e for e, r in rows.items() if "former" in r.lemmas.split()}
    assert {h.excerpt_id for h in lemma_hits} == expected and expected
    surface = {h.excerpt_id for h in search_words(reviewed.store, reviewed.run_id, "formées")}
    assert surface < expected, "as written, 'formées' finds only 'formées'; as lemmas, every form of 'former'"
    assert not any("formation" in rows[e].lemmas.split() and "former" not in rows[e].lemmas.split() for e in expected)


def test_counts_and_filters_agree_with_a_plain_count(reviewed: ReviewedRun) -> None:
    """The search's counts per theme and per group, and each filter, against a count made here hit by hit from the
    decision log's state and the respondents' attributes as stored."""
    store, run = reviewed.store, reviewed.run_id
    admin = User("admin", Role.ADMIN, "")  # sees every code: no blind sample hides any
    log = DecisionLog(store)
    with store.session() as s:
        who = {r.respondent_id: dict(r.attributes) for r in s.query(RespondentRow).filter_by(run_id=run)}
    questions = list(dict.fromkeys(e.question for e in store.excerpts(run)))
    questions = sorted(questions, key=lambda q: q != "difficultes")  # the survey's order: difficultes, idees
    states = {q: log.state(run, q) for q in questions}
    hits = search_words(store, run, "formation")
    rows = []  # (hit, theme id, status, attributes) counted here
    for h in hits:
        code = states[h.question].codes.get(h.excerpt_id)
        rows.append((h, code.theme_id if code else -1, str(code.status) if code else "queued", who[h.respondent_id]))
    data = ReviewData(store)
    found = run_search(data, run, admin, "formation")
    assert found.n == len(hits) and [e for e, _ in found.found] == [h.excerpt_id for h in hits]
    per_theme = Counter((questions.index(h.question) + 1, h.question, theme_name(states[h.question].themes, t))
                        for h, t, _, _ in rows)  # fmt: skip
    assert {(n, q, t): c for n, q, t, c in found.per_theme} == per_theme
    for attribute in ("profession", "region"):
        counted = Counter(str(a.get(attribute, "")) or "(vide)" for *_, a in rows)
        assert dict(found.per_group[attribute]) == counted
    profession = Counter(a["profession"] for *_, a in rows).most_common(1)[0][0]
    theme = Counter(t for h, t, _, _ in rows if h.question == "difficultes" and t >= 0).most_common(1)[0][0]
    status = Counter(s for _, _, s, _ in rows).most_common()[-1][0]  # the rarest status found
    for f, keep in (
        (Filters(attribute="profession", value=profession), lambda row: row[3].get("profession") == profession),
        (Filters(number=1, theme_id=theme), lambda row: row[0].question == "difficultes" and row[1] == theme),
        (Filters(status=status), lambda row: row[2] == status),
    ):
        narrowed = run_search(data, run, admin, "formation", f=f)
        expected = [row[0].excerpt_id for row in rows if keep(row)]
        assert expected and [e for e, _ in narrowed.found] == expected, f
        assert sum(c for *_, c in narrowed.per_theme) == narrowed.n == len(expected)


@pytest.fixture(scope="module")
def mine(reviewed: ReviewedRun, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A copy of the reviewed run's store: these tests decide, the other modules read the original as it was."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('search') / 'verbatim.db'}")
    copy_store(reviewed.store, store)
    log = DecisionLog(store)
    for name, role in (("chercheuse", Role.RESEARCHER), ("lectrice", Role.VIEWER)):
        if log.user(name) is None:
            log.add_user(name, role, hash_password(PASSWORD))
    return store


@pytest.fixture(scope="module")
def app(mine: Store) -> FastAPI:
    from verbatim.web.app import create_app

    return create_app(mine.url, secret="test-secret-key")


@pytest.fixture(scope="module")
def people(app: FastAPI) -> Iterator[dict[str, Browser]]:
    browsers = {name: Browser(app, name) for name in ("chercheuse", "lectrice")}
    yield browsers
    for b in browsers.values():
        b.client.close()


def test_the_search_page_shows_a_concordance_and_counts(reviewed: ReviewedRun, people: dict[str, Browser]) -> None:
    expected = plain_scan(reviewed, "messagerie")
    page = people["lectrice"].get(f"/runs/{reviewed.run_id}/search", q="Messagerie").text
    assert f"{len(expected)} extraits trouvés" in page
    assert {m for m in re.findall(r'id="hit-([^"]+)"', page)} == expected
    assert "<mark>messagerie</mark>" in page.lower() and "Par thème" in page and "Par groupe" in page
    assert 'action="/runs/' + reviewed.run_id + '/search/recode"' not in page, "viewers read only"
    assert "Recherche impossible" in people["lectrice"].get(f"/runs/{reviewed.run_id}/search", q="?!").text


def test_recode_everything_found_one_decision_each(
    reviewed: ReviewedRun, mine: Store, people: dict[str, Browser]
) -> None:
    log = DecisionLog(mine)
    run = reviewed.run_id
    question = 1
    state = log.state(run, "difficultes")
    found = {h.excerpt_id for h in search_words(mine, run, "imprimante", ["difficultes"])}
    assert found
    target = max(state.active_themes(), key=lambda t: len(state.excerpts_of(t.theme_id))).theme_id
    to_move = {e for e in found if state.codes[e].theme_id != target}
    chercheuse = people["chercheuse"]
    page = chercheuse.get(f"/runs/{run}/search", q="imprimante", question=str(question)).text
    assert 'id="recode-found"' in page
    once = re.search(r'name="once" value="([^"]+)"', page.split('id="recode-found"')[1])
    assert once
    before = len(log.decisions(run))
    form = {"q": "imprimante", "mode": "mots", "question": str(question), "to_theme": str(target),
            "once": once.group(1)}  # fmt: skip
    response = chercheuse.post(f"/runs/{run}/search/recode", form)
    assert response.status_code == 303 and "/search?" in response.headers["location"]
    new = log.decisions(run)[before:]
    assert len(new) == len(to_move) and {d.excerpt_id for d in new} == to_move
    assert all(d.kind == DecisionKind.RECODE and d.to_theme_id == target and d.coder == "chercheuse" for d in new)
    assert chercheuse.post(f"/runs/{run}/search/recode", form).status_code == 303
    assert len(log.decisions(run)) == before + len(to_move), "the same form twice acts once"
    state = log.state(run, "difficultes")
    assert all(state.codes[e].theme_id == target for e in found)


def test_the_api_searches_too(reviewed: ReviewedRun, mine: Store, app: FastAPI) -> None:
    token = Accounts(mine).create_token("lectrice", "search")[1]
    with TestClient(app) as client:
        url = f"/api/v1/runs/{reviewed.run_id}/search"
        assert client.get(url, params={"q": "formation"}).status_code == 401
        headers = {"Authorization": f"Bearer {token}"}
        body = client.get(url, params={"q": "formation", "question": 1}, headers=headers).json()
        expected = {e for e in plain_scan(reviewed, "formation") if e.startswith("Q1-")}
        assert body["n"] == len(expected) and {h["excerpt_id"] for h in body["hits"]} == expected
        assert all(h["match"].lower() == "formation" for h in body["hits"])
        assert sum(t["n"] for t in body["per_theme"]) == body["n"]
        refused = client.get(url, params={"q": "  "}, headers=headers)
        assert refused.status_code == 422 and "tapez un mot" in refused.json()["detail"]
