"""Families of themes: the grouping (nlp), the derived state (decisions), and the reviewed sample run."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from verbatim.models.review import (
    DEFAULT_FAMILY_ID,
    DEFAULT_FAMILY_LABEL,
    OTHER_FAMILY_ID,
    Decision,
    DecisionKind,
    FamilyBase,
    ThemeBase,
    family_states,
    theme_states,
)
from verbatim.nlp.families import fit_families, n_families

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def test_number_of_families_follows_the_number_of_themes() -> None:
    assert [n_families(n) for n in (0, 1, 3)] == [0, 1, 1]
    assert 2 <= n_families(6) <= 3
    assert all(4 <= n_families(n) <= 6 for n in range(15, 21))
    assert n_families(60) == 6


def test_families_group_near_themes_and_are_labelled_from_their_words() -> None:
    rng = np.random.default_rng(0)
    axes = np.eye(8)
    # 8 themes of 5 excerpts: themes 0-3 near axis 0 ("logiciel"), themes 4-7 near axis 1 ("transport")
    vectors, members, lemmas, texts = [], [], [], []
    for t in range(8):
        base = axes[0 if t < 4 else 1] + 0.3 * axes[2 + t % 6]
        word = "logiciel" if t < 4 else "transport"
        members.append(list(range(5 * t, 5 * t + 5)))
        for _ in range(5):
            vectors.append(base + 0.01 * rng.normal(size=8))
            lemmas.append([word, f"mot{t}"])
            texts.append(f"{word} mot{t}")
    families = fit_families(np.array(vectors), list(range(8)), members, lemmas, lemmas, texts)
    assert len(families) == n_families(8) == 2
    assert sorted(t for f in families for t in f.theme_ids) == list(range(8))
    assert {frozenset(f.theme_ids) for f in families} == {frozenset(range(4)), frozenset(range(4, 8))}
    assert [f.family_id for f in families] == [1, 2]
    assert sorted(f.label.split()[0].strip(",") for f in families) == ["Logiciel", "Transport"]


def _decision(i: int, kind: DecisionKind, **kw: object) -> Decision:
    return Decision(i, kind, "alice", NOW, **kw)  # type: ignore[arg-type]


def test_renames_moves_and_researchers_themes_in_the_state() -> None:
    bases = [ThemeBase(0, "a", family_id=1), ThemeBase(1, "b", family_id=1), ThemeBase(2, "c", family_id=2)]
    decisions = [
        _decision(1, DecisionKind.CREATE_THEME, theme_id=2, to_theme_id=3, text="split of c"),
        _decision(2, DecisionKind.CREATE_THEME, to_theme_id=4, text="new"),
        _decision(3, DecisionKind.RENAME_FAMILY, family_id=2, text="Deux"),
        _decision(4, DecisionKind.MOVE_TO_FAMILY, theme_id=1, family_id=2),
        _decision(5, DecisionKind.MOVE_TO_FAMILY, theme_id=0, family_id=7, text="Nouvelle"),
        _decision(6, DecisionKind.UNDO, undoes_id=5),
    ]
    themes = theme_states(bases, decisions)
    families, of = family_states([FamilyBase(1, "Un"), FamilyBase(2, "Two")], bases, themes, decisions)
    assert of == {0: 1, 1: 2, 2: 2, 3: 2, 4: OTHER_FAMILY_ID}
    assert families[2].label == "Deux" and families[2].machine_label == "Two"
    assert 7 not in families and 7 not in set(of.values())  # the move into a new family was undone
    later = [*decisions, _decision(7, DecisionKind.MOVE_TO_FAMILY, theme_id=2, family_id=1)]
    _, of = family_states([FamilyBase(1, "Un"), FamilyBase(2, "Two")], bases, themes, later)
    assert of[2] == 1 and of[3] == 2  # a split theme stays where it started when its parent moves later
    families, of = family_states([FamilyBase(1, "Un"), FamilyBase(2, "Two")], bases, themes, decisions[:-1])
    assert of[0] == 7 and families[7].label == "Nouvelle" and families[7].created_by == "alice"


def test_a_run_analysed_before_families_reads_as_one_family() -> None:
    bases = [ThemeBase(0, "a"), ThemeBase(1, "b")]
    decisions = [_decision(1, DecisionKind.CREATE_THEME, to_theme_id=2, text="new")]
    themes = theme_states(bases, decisions)
    families, of = family_states([], bases, themes, decisions)
    assert set(of.values()) == {DEFAULT_FAMILY_ID}
    assert families[DEFAULT_FAMILY_ID].label == DEFAULT_FAMILY_LABEL


@pytest.mark.slow
def test_every_theme_of_the_reviewed_run_is_in_exactly_one_family(reviewed) -> None:  # type: ignore[no-untyped-def]
    from verbatim.models.decisions import DecisionLog

    log = DecisionLog(reviewed.store)
    for question in ("difficultes", "idees"):
        state = log.state(reviewed.run_id, question)
        grouped = [t.theme_id for _, themes in state.active_families() for t in themes]
        assert sorted(grouped) == [t.theme_id for t in state.active_themes()]
        assert len(state.active_families()) >= 2
    state = log.state(reviewed.run_id, "difficultes")
    d = reviewed.decisions
    renamed = state.family_of(d.accepted_theme)
    assert renamed is not None and renamed.label == d.family_label
    assert state.family_of(d.split_theme) == renamed  # a split theme is in its parent's family
    moved = state.family_of(d.moved_theme)
    assert moved is not None and moved.family_id == d.moved_to_family


@pytest.mark.slow
def test_exports_and_the_app_agree_on_families(reviewed, run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The quotes CSV, the codebook CSV and XLSX, the .qdc and the .qdpx carry each theme's family as the state
    derives it, with the researchers' rename and move."""
    import csv
    import zipfile

    import openpyxl
    from lxml import etree

    from tests.export_support import CODEBOOK_XSD, PROJECT_XSD
    from verbatim.formats.exports import export, write_qdpx
    from verbatim.models.decisions import DecisionLog

    log = DecisionLog(reviewed.store)
    states = {q: log.state(reviewed.run_id, q) for q in ("difficultes", "idees")}

    def family(question: str, theme_id: int) -> str:
        f = states[question].family_of(theme_id)
        return "" if theme_id == -1 or f is None else f.label

    d = reviewed.decisions
    renamed = states["difficultes"].families[d.family_renamed].label
    moved_to = states["difficultes"].families[d.moved_to_family].label
    assert renamed == d.family_label

    with export(run, "csv", tmp_path / "quotes.csv")[0].open(encoding="utf-8", newline="") as f:
        quotes = list(csv.DictReader(f))
    sheet = openpyxl.load_workbook(export(run, "xlsx", tmp_path / "quotes.xlsx")[0])["difficultes"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    in_sheet = [
        (r[header.index("theme_id")], r[header.index("family")] or "")
        for r in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert in_sheet == [(int(r["theme_id"]), r["family"]) for r in quotes if r["question"] == "difficultes"]
    assert all(r["family"] == family(r["question"], int(r["theme_id"])) for r in quotes)
    first = [r for r in quotes if r["question"] == "difficultes"]
    assert {r["family"] for r in first if int(r["theme_id"]) == d.accepted_theme} == {d.family_label}
    assert {r["family"] for r in first if int(r["theme_id"]) == d.moved_theme} == {moved_to}

    files = {p.suffix: p for p in export(run, "codebook", tmp_path / "codebook")}
    with files[".csv"].open(encoding="utf-8", newline="") as f:
        codebook = list(csv.DictReader(f))
    assert all(r["family"] == family(r["question"], int(r["theme_id"])) for r in codebook)
    sheet = openpyxl.load_workbook(files[".xlsx"])["Codebook"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert [row[header.index("family")] or "" for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        r["family"] for r in codebook
    ]

    def nested(root: etree._Element, ns: str) -> dict[str, dict[str, list[str]]]:
        return {
            q.get("name"): {
                f.get("name"): [t.get("name") for t in f.findall(f"{ns}Code")] for f in q.findall(f"{ns}Code")
            }
            for q in root.find(f"{ns}Codes").findall(f"{ns}Code")
        }

    expected = {q: {f.label: [t.label for t in themes] for f, themes in states[q].active_families()} for q in states}
    qdc = etree.parse(str(files[".qdc"]))
    assert etree.XMLSchema(etree.parse(str(CODEBOOK_XSD))).validate(qdc)
    assert nested(qdc.getroot(), "{urn:QDA-XML:codebook:1.0}") == expected
    assert d.split_label in expected["difficultes"][d.family_label]

    qdpx = write_qdpx(run, tmp_path / "project.qdpx")
    with zipfile.ZipFile(qdpx) as z:
        project = etree.fromstring(z.read("project.qde"))
    assert etree.XMLSchema(etree.parse(str(PROJECT_XSD))).validate(project)
    assert nested(project.find("{urn:QDA-XML:project:1.0}CodeBook"), "{urn:QDA-XML:project:1.0}") == expected


@pytest.mark.slow
def test_the_question_page_groups_themes_by_family_and_families_are_edited_there(  # type: ignore[no-untyped-def]
    reviewed, tmp_path
) -> None:
    """On a copy of the reviewed run: the page shows each active theme in exactly one collapsible family, as the
    state and the exports do; a family renamed and a theme moved into a new family from the browser are decisions
    that the exports then carry."""
    import html
    import re
    import sqlite3

    from tests.test_review_api import PASSWORD, Browser
    from verbatim.formats.exports import load_run
    from verbatim.formats.exports.codebook import codebook_columns, codebook_rows
    from verbatim.models.decisions import DecisionLog, Role
    from verbatim.models.store import Store
    from verbatim.web.app import create_app
    from verbatim.web.auth import hash_password

    source = sqlite3.connect(str(reviewed.workdir / "verbatim.db"))
    copy = sqlite3.connect(str(tmp_path / "copy.db"))
    source.backup(copy)
    source.close()
    copy.close()
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    store = Store(url)
    log = DecisionLog(store)
    log.add_user("fanny", Role.RESEARCHER, hash_password(PASSWORD))
    browser = Browser(create_app(url, secret="test-secret-key"), "fanny")
    run_id, q = reviewed.run_id, "difficultes"

    def page_families() -> dict[str, list[str]]:
        page = browser.get(f"/runs/{run_id}/q/1").text
        blocks = page.split('<details class="family card"')[1:]
        return {
            html.unescape(re.search(r'class="family-title">Famille « (.*?) »</h2>', b).group(1)): [  # type: ignore[union-attr]
                html.unescape(t) for t in re.findall(r"<h3><a [^>]*>n° \d+ · (.*?)</a></h3>", b)
            ]
            for b in blocks
        }

    state = log.state(run_id, q)
    assert page_families() == {f.label: [t.label for t in themes] for f, themes in state.active_families()}

    def send(path: str, data: dict[str, object]) -> None:
        form = browser.get(path.rsplit("/", 3)[0] if "/families/" in path else path.rsplit("/", 1)[0]).text
        once = re.search(r'name="once" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        assert browser.post(path, {**data, "once": once}).status_code == 303

    family = state.active_families()[-1][0]
    send(f"/runs/{run_id}/q/1/families/{family.family_id}/rename", {"label": "Famille renommée par Fanny"})
    theme = state.active_families()[0][1][0].theme_id
    send(f"/runs/{run_id}/q/1/themes/{theme}/family", {"family": "new", "new_label": "Nouvelle famille de Fanny"})
    state = log.state(run_id, q)
    assert state.families[family.family_id].label == "Famille renommée par Fanny"
    moved = state.family_of(theme)
    assert moved is not None and moved.label == "Nouvelle famille de Fanny" and moved.created_by == "fanny"
    shown = page_families()
    assert shown == {f.label: [t.label for t in themes] for f, themes in state.active_families()}
    assert shown["Nouvelle famille de Fanny"] == [state.themes[theme].label]
    assert "Nouvelle famille de Fanny" in browser.get(f"/runs/{run_id}/q/1/themes/{theme}").text
    rows = codebook_rows(load_run(store, run_id, [q]))
    family_of = {r[codebook_columns().index("theme_id")]: r[codebook_columns().index("family")] for r in rows}
    assert family_of[theme] == "Nouvelle famille de Fanny"
    assert "Famille renommée par Fanny" in family_of.values()
