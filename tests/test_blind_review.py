"""Blind double coding over HTTP (issue 20): blind codes are measurements, hidden from the other coder on every
page until both have coded the sample; nobody undoes another person's decision; an administrator settles the
disagreements. On a real analysis run of the sample survey in a real SQLite store (fixtures of test_review_api)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.test_review_api import (
    PASSWORD,
    Q1,
    Q2,
    Browser,
    app,
    big_themes,
    decide_url,
    log,
    run_id,
    store,
    workdir,
)
from verbatim.formats.exports import load_run
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.review import QUEUE, DecisionKind
from verbatim.models.store import Store
from verbatim.models.tables import DoubleCodingRow
from verbatim.web.auth import hash_password

__all__ = ["app", "log", "run_id", "store", "workdir"]  # module fixtures shared with test_review_api

#: Accounts of this module only, so that no other test's decisions put their names on the pages checked here.
EXTRA = {"eve": Role.RESEARCHER, "felix": Role.RESEARCHER, "gaby": Role.RESEARCHER, "hugo": Role.RESEARCHER}


@pytest.fixture(scope="module")
def people(app: FastAPI, log: DecisionLog) -> Iterator[dict[str, Browser]]:
    for name, role in EXTRA.items():
        log.add_user(name, role, hash_password(PASSWORD))
    browsers = {name: Browser(app, name) for name in ("anne", "bruno", "victor", *EXTRA)}
    yield browsers
    for b in browsers.values():
        b.client.close()


def draw(people: dict[str, Browser], store: Store, run_id: str, a: str, b: str, number: int, n: int) -> list[str]:
    """The admin draws ``n`` excerpts of question ``number`` for ``a`` and ``b``; the sample's excerpt ids."""
    data = {"question": str(number), "n": str(n), "coder_a": a, "coder_b": b, "seed": "3"}
    assert people["anne"].post(f"/runs/{run_id}/double-coding/draw", data).status_code == 303
    with store.session() as s:
        return sorted(
            s.scalars(
                select(DoubleCodingRow.excerpt_id).where(
                    DoubleCodingRow.run_id == run_id, DoubleCodingRow.coder_a == a, DoubleCodingRow.coder_b == b
                )
            )
        )


def code(browser: Browser, run_id: str, number: int, excerpt_id: str, theme: int) -> int:
    data = {"question": str(number), "excerpt_id": excerpt_id, "to_theme": str(theme)}
    return browser.post(f"/runs/{run_id}/double-coding/code", data).status_code


def pages_of(browser: Browser, run_id: str, number: int, excerpt_ids: list[str], log: DecisionLog) -> dict[str, str]:
    """Every page a coder can open about the sample: run, question, themes, queue, excerpts, agreement, blind page."""
    question = Q1 if number == 1 else Q2
    state = log.state(run_id, question)
    base = f"/runs/{run_id}"
    paths = [base, f"{base}/q/{number}", f"{base}/q/{number}/queue", f"{base}/q/{number}/queue?seuil=1",
             f"{base}/agreement", f"{base}/double-coding"]  # fmt: skip
    paths += sorted({f"/runs/{run_id}/q/{number}/themes/{state.codes[e].theme_id}" for e in excerpt_ids
                     if state.codes[e].theme_id != QUEUE})  # fmt: skip
    paths += [f"/runs/{run_id}/q/{number}/excerpt?id={e}" for e in excerpt_ids]
    pages = {}
    for path in paths:
        response = browser.client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.text
    return pages


def test_blind_codes_are_hidden_measurements_and_an_admin_settles_them(
    people: dict[str, Browser], run_id: str, log: DecisionLog, store: Store
) -> None:
    eve, felix, anne = people["eve"], people["felix"], people["anne"]
    sample = draw(people, store, run_id, "eve", "felix", 1, 5)
    assert len(sample) == 5
    themes = big_themes(log, run_id, Q1)
    # Before the blind coding, the admin splits the first excerpt of the sample into a new theme.
    parent = log.state(run_id, Q1).codes[sample[0]].theme_id
    split = {"action": "split", "theme": str(parent if parent != QUEUE else themes[0]), "label": "Avant"}
    split["excerpt_ids"] = [sample[0]]  # type: ignore[assignment]
    assert anne.post(f"/runs/{run_id}/q/1/bulk", split).status_code == 303
    before = log.state(run_id, Q1).codes
    split_theme = before[sample[0]].theme_id
    assert before[sample[0]].decided_by == "anne"

    # eve codes everything first: felix must see nothing of it, anywhere, and neither must other researchers.
    eve_themes = {e: themes[i % 3] for i, e in enumerate(sample)}
    for e in sample:
        assert code(eve, run_id, 1, e, eve_themes[e]) == 303
    for name, browser in (("felix", felix), ("bruno", people["bruno"])):
        for path, html in pages_of(browser, run_id, 1, sample, log).items():
            body = re.sub(r"<header class=\"top\">.*?</header>", "", html, flags=re.S)
            assert not re.search(r"\beve\b", body), (name, path)
            assert 'class="badge">double codage' not in html, (name, path)
    blind_page = felix.get(f"/runs/{run_id}/double-coding").text
    assert "codé : " not in blind_page and "à l'aveugle" in blind_page
    # ... and eve's codes do not change the excerpts' codes (nor what the exports read).
    after = log.state(run_id, Q1).codes
    assert all(after[e] == before[e] for e in sample), "blind codes are measurements"
    exported = {x.excerpt_id: x.code for x in load_run(store, run_id, [Q1]).question(Q1).excerpts}
    assert exported[sample[0]].theme_id == split_theme and exported[sample[0]].decided_by == "anne"
    assert not {exported[e].decided_by for e in sample} & {"eve", "felix"}

    # nobody undoes another person's decision, blind or not
    eve_decision = next(d for d in log.decisions(run_id, Q1, sample[1]) if d.coder == "eve")
    anne_split = next(d for d in log.decisions(run_id, Q1, sample[0]) if d.coder == "anne")
    for browser, decision in ((felix, eve_decision), (people["bruno"], anne_split), (anne, eve_decision)):
        response = browser.post(f"/runs/{run_id}/q/1/undo", {"decision_id": str(decision.id)})
        assert response.status_code == 403 and "ses propres décisions" in response.text
    assert not any(d.kind == DecisionKind.UNDO for d in log.decisions(run_id, Q1, sample[1]))
    history = people["bruno"].get(f"/runs/{run_id}/q/1/excerpt", id=sample[0]).text
    assert "Annuler</button>" not in history, "no undo button on someone else's decision"
    assert "Annuler</button>" in anne.get(f"/runs/{run_id}/q/1/excerpt", id=sample[0]).text

    # the adjudication opens when both have coded: felix agrees on the first two excerpts only
    assert "à l'aveugle" in anne.get(f"/runs/{run_id}/adjudication").text
    felix_themes = {e: eve_themes[e] if i < 2 else themes[3 + i % 2] for i, e in enumerate(sample)}
    for e in sample:
        assert code(felix, run_id, 1, e, felix_themes[e]) == 303
    assert all(log.state(run_id, Q1).codes[e] == before[e] for e in sample)
    assert code(felix, run_id, 1, sample[0], themes[0]) == 403, "a closed sample no longer changes"
    felix_decision = next(d for d in log.decisions(run_id, Q1, sample[2]) if d.coder == "felix")
    assert felix.post(f"/runs/{run_id}/q/1/undo", {"decision_id": str(felix_decision.id)}).status_code == 403
    assert "avec eve · échantillon clos" in felix.get(f"/runs/{run_id}/double-coding").text
    assert people["bruno"].get(f"/runs/{run_id}/adjudication").status_code == 403, "admins adjudicate"

    page = anne.get(f"/runs/{run_id}/adjudication").text
    assert "2 extrait(s) codé(s) de la même façon, 3 désaccord(s)" in page
    for e in sample[2:]:
        card = unescape(page.split(f'id="e-{e}"')[1].split("</article>")[0])  # labels may hold an apostrophe
        state = log.state(run_id, Q1)
        assert f"n° {eve_themes[e]} · {state.themes[eve_themes[e]].label}" in card.split('class="code-a"')[1]
        assert f"n° {felix_themes[e]} · " in card.split('class="code-b"')[1].split("</td>")[0]
        machine = state.codes[e].machine_theme_id
        assert re.sub(r"\s+", " ", card.split('class="code-machine">')[1].split("</td>")[0]).startswith(
            "File de revue" if machine == QUEUE else f"n° {machine} ·"
        )
        assert "à arbitrer" in card
    for e in sample[:2]:
        assert f'id="e-{e}"' not in page, "agreements are not listed"
    # anne settles the third excerpt with felix's theme: a normal decision, which changes the code
    target = sample[2]
    seen = re.search(r'name="seen" value="(\d+)"', page.split(f'id="e-{target}"')[1]).group(1)  # type: ignore[union-attr]
    data = {"excerpt_id": target, "action": f"recode:{felix_themes[target]}", "seen": seen,
            "theme": str(before[target].theme_id), "next": f"/runs/{run_id}/adjudication#e-{target}"}  # fmt: skip
    response = anne.post(decide_url(run_id), data)
    assert response.status_code == 303 and response.headers["location"].endswith(f"/adjudication#e-{target}")
    settled = log.state(run_id, Q1).codes[target]
    assert (settled.theme_id, settled.decided_by, settled.conflict) == (felix_themes[target], "anne", False)
    assert "arbitré par anne" in anne.get(f"/runs/{run_id}/adjudication").text


def test_blind_codes_are_logged_as_what_they_are(
    people: dict[str, Browser], run_id: str, log: DecisionLog, store: Store
) -> None:
    gaby = people["gaby"]
    sample = draw(people, store, run_id, "gaby", "hugo", 2, 3)
    state = log.state(run_id, Q2)
    themed = [e for e in sample if state.codes[e].theme_id != QUEUE]
    assert themed, "the draw has an excerpt with a theme"
    same, none = themed[0], next(e for e in sample if e != themed[0])
    assert code(gaby, run_id, 2, same, state.codes[same].theme_id) == 303
    assert code(gaby, run_id, 2, none, QUEUE) == 303
    (as_machine,) = [d for d in log.decisions(run_id, Q2, same) if d.coder == "gaby"]
    (no_theme,) = [d for d in log.decisions(run_id, Q2, none) if d.coder == "gaby"]
    assert as_machine.kind == DecisionKind.ACCEPT and as_machine.to_theme_id is None, "not a recode to itself"
    assert no_theme.kind == DecisionKind.REJECT and no_theme.double_coding
    for e in (same, none):
        history = gaby.get(f"/runs/{run_id}/q/2/excerpt", id=e).text
        assert "Recodage" not in history and "double codage" in history
    assert "Rejet" in gaby.get(f"/runs/{run_id}/q/2/excerpt", id=none).text
    assert log.state(run_id, Q2).codes[none].status == state.codes[none].status, "not rejected for real"


def test_blind_coders_read_the_codebook_and_keep_their_choice_on_an_error(
    people: dict[str, Browser], run_id: str, log: DecisionLog, store: Store
) -> None:
    hugo, anne = people["hugo"], people["anne"]
    theme = big_themes(log, run_id, Q2)[0]
    description = "Ce que les répondants disent des outils qui changent sans prévenir"
    data = {"label": log.state(run_id, Q2).themes[theme].label, "description": description}
    assert anne.post(f"/runs/{run_id}/q/2/themes/{theme}/edit", data).status_code == 303
    sample = draw(people, store, run_id, "gaby", "hugo", 2, 3)
    page = hugo.get(f"/runs/{run_id}/double-coding").text
    guide = page.split('class="card guide"')[1].split("</details>")[0]
    assert description in guide and guide.count('<blockquote class="quote">') >= 2
    rows = {e.excerpt_id: e.text for e in load_run(store, run_id, [Q2]).question(Q2).excerpts}
    assert not any(f"« {rows[e]} »" in guide for e in sample), "no quote from the sample itself"

    before = len(log.decisions(run_id, Q2))
    response = hugo.post(
        f"/runs/{run_id}/double-coding/code", {"question": "2", "excerpt_id": sample[0], "to_theme": "9999"}
    )
    assert response.status_code == 400 and "pas un thème actif" in response.text
    assert '<option value="9999" selected>' in response.text, "the choice is kept"
    assert len(log.decisions(run_id, Q2)) == before


def test_viewers_have_no_double_coding_link(people: dict[str, Browser], run_id: str) -> None:
    assert "Mon double codage" not in people["victor"].get(f"/runs/{run_id}").text
    assert "Mon double codage" in people["bruno"].get(f"/runs/{run_id}").text
