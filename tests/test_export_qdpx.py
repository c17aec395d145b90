"""REFI-QDA projects (.qdpx) from a real reviewed run: archive layout, schema, offsets (emoji included), coders,
attributes on cases and on sources, one source per question, read-back."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from tests.export_support import PROJECT_XSD, ReviewedRun
from verbatim.formats.exports import read_qdpx, write_qdpx
from verbatim.formats.exports.data import RunView
from verbatim.formats.exports.refi_qda import DOCUMENT_VARIABLE, MACHINE_USER, QdpxProject, QdpxSources

pytestmark = pytest.mark.slow  # the first test of the session analyses the survey (about a minute)
P = "{urn:QDA-XML:project:1.0}"


@pytest.fixture(scope="module")
def qdpx(run: RunView, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_qdpx(run, tmp_path_factory.mktemp("qdpx") / "project.qdpx")


@pytest.fixture(scope="module")
def project(qdpx: Path) -> QdpxProject:
    return read_qdpx(qdpx)


@pytest.fixture(scope="module")
def by_question(run: RunView, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_qdpx(run, tmp_path_factory.mktemp("qdpx") / "questions.qdpx", sources=QdpxSources.QUESTION)


@pytest.mark.parametrize("layout", ["qdpx", "by_question"])
def test_archive_layout_and_schema(layout: str, request: pytest.FixtureRequest) -> None:
    qdpx: Path = request.getfixturevalue(layout)
    assert PROJECT_XSD.is_file(), f"the REFI-QDA schema {PROJECT_XSD} is missing (it lives in ../shared/refi-qda)"
    with zipfile.ZipFile(qdpx) as zf:
        names = zf.namelist()
        xml = zf.read("project.qde")
    assert "project.qde" in names
    sources = [n for n in names if n != "project.qde"]
    assert sources and all(re.fullmatch(r"sources/[0-9a-f-]{36}\.txt", n) for n in sources)
    schema = etree.XMLSchema(etree.parse(str(PROJECT_XSD)))
    doc = etree.fromstring(xml)
    assert schema.validate(doc), schema.error_log
    paths = {s.get("plainTextPath") for s in doc.iter(f"{P}TextSource")}
    guids = {s.get("guid") for s in doc.iter(f"{P}TextSource")}
    assert paths == {f"internal://{g}.txt" for g in guids}
    assert {f"sources/{g}.txt" for g in guids} == set(sources)
    for code in doc.iter(f"{P}Code"):
        assert code.get("isCodable") == "false" or re.fullmatch(r"#[0-9A-F]{6}", code.get("color", ""))


def test_selections_are_the_excerpts(reviewed: ReviewedRun, project: QdpxProject) -> None:
    excerpts = {e.excerpt_id: e for e in reviewed.store.excerpts(reviewed.run_id)}
    selections = [sel for s in project.sources for sel in s.selections]
    assert len(selections) > 1000
    for source in project.sources:
        assert "\r" not in source.text and unicodedata.normalize("NFC", source.text) == source.text
        respondent, _, question = source.name.partition(" – ")
        assert re.fullmatch(r"[RW]\d{4}", respondent) and question in ("difficultes", "idees")
        for sel in source.selections:
            e = excerpts[sel.name]
            assert (e.respondent_id, e.question) == (respondent, question)
            assert sel.text == source.text[sel.start : sel.end] == unicodedata.normalize("NFC", e.text)
            assert (sel.start, sel.end) == (e.start, e.end), "sample answers are NFC with \\n: offsets unchanged"


def test_codings_by_machine_and_researchers(reviewed: ReviewedRun, run: RunView, project: QdpxProject) -> None:
    d = reviewed.decisions
    q = run.question("difficultes")
    assert set(project.users.values()) == {MACHINE_USER, "alice", "bruno"}
    by_excerpt: dict[str, list[tuple[str, str]]] = {}
    for _, excerpt_id, _, _, _, code, user in project.codings():
        by_excerpt.setdefault(excerpt_id, []).append((user, code))
    for e in d.accepted:
        label = q.label(d.accepted_theme)
        assert sorted(by_excerpt[e]) == [(MACHINE_USER, label), ("alice", label)]
    for e in d.recoded:
        users = dict(by_excerpt[e])
        assert users["bruno"] == q.label(d.recode_target)
        assert users[MACHINE_USER] != users["bruno"]
    for e in d.split_excerpts:
        assert dict(by_excerpt[e])["bruno"] == d.split_label
    codable = {c.name for c in project.codes.values() if c.codable}
    assert d.renamed_label in codable and d.split_label in codable
    assert q.themes[d.merged_from].label not in codable
    machine = [e for e in q.excerpts if e.code.status == "machine"]
    for e in machine[:100]:
        assert by_excerpt[e.excerpt_id] == [(MACHINE_USER, q.label(e.code.theme_id))]
    all_codes = {code for pairs in by_excerpt.values() for _, code in pairs}
    assert all_codes <= codable


def test_cases_carry_the_respondent_attributes(run: RunView, project: QdpxProject) -> None:
    attributes = {"profession", "structure", "region", "anciennete"}
    assert set(project.variables.values()) == attributes | {DOCUMENT_VARIABLE.format(a) for a in attributes}
    sources = {s.guid for s in project.sources}
    assert len(project.cases) > 300
    for case in project.cases:
        assert case.variables == run.respondents[case.name]
        assert case.sources and set(case.sources) <= sources


def test_qdpx_is_reproducible_and_validated_only_filters(run: RunView, qdpx: Path, tmp_path: Path) -> None:
    assert write_qdpx(run, tmp_path / "again.qdpx").read_bytes() == qdpx.read_bytes()
    validated = read_qdpx(write_qdpx(run, tmp_path / "validated.qdpx", validated_only=True))
    users_per_selection = [{c.user for c in sel.codings} for s in validated.sources for sel in s.selections]
    assert users_per_selection and all(users - {MACHINE_USER} for users in users_per_selection)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_offsets_count_code_points_around_emoji(reviewed: ReviewedRun, project: QdpxProject, by_question: Path) -> None:
    """Positions count characters (code points): an emoji is one, not the two UTF-16 units of .NET or Qt. The
    sample's emoji end their answers: in one source per question, the next paragraphs' selections follow them."""
    spanning, following = [], []
    for source in [*project.sources, *read_qdpx(by_question).sources]:
        for sel in source.selections:
            if any(ord(c) > 0xFFFF for c in sel.text):
                spanning.append((source, sel))
            elif any(ord(c) > 0xFFFF for c in source.text[: sel.start]):
                following.append((source, sel))
    assert spanning and following, "the sample survey has answers with emoji"
    excerpts = {e.excerpt_id: e for e in reviewed.store.excerpts(reviewed.run_id)}
    for source, sel in spanning + following:
        assert source.text[sel.start : sel.end] == unicodedata.normalize("NFC", excerpts[sel.name].text)
        assert _utf16_units(source.text[: sel.end]) > sel.end, "UTF-16 would count more"
    for _, sel in spanning:
        assert sel.end - sel.start == len(sel.text) < _utf16_units(sel.text)
    for source, sel in following:
        before = source.text[: sel.start]
        assert sel.start == len(before) == _utf16_units(before) - sum(ord(c) > 0xFFFF for c in before)


def test_attributes_on_cases_and_on_sources(run: RunView, project: QdpxProject) -> None:
    attributes = ["profession", "structure", "region", "anciennete"]
    assert sorted(project.variables.values()) == sorted(
        [*attributes, *(DOCUMENT_VARIABLE.format(a) for a in attributes)]
    )
    case_of = {g: case for case in project.cases for g in case.sources}
    assert {s.guid for s in project.sources} == set(case_of), "every source is linked to its respondent's case"
    for source in project.sources:
        respondent = source.name.partition(" – ")[0]
        assert case_of[source.guid].name == respondent
        assert source.variables == {DOCUMENT_VARIABLE.format(k): v for k, v in run.respondents[respondent].items()}
        assert source.variables and all(source.variables.values())


def test_one_source_per_question(run: RunView, project: QdpxProject, by_question: Path) -> None:
    grouped = read_qdpx(by_question)
    assert [s.name for s in grouped.sources] == ["difficultes", "idees"]
    assert set(grouped.variables.values()) == {"profession", "structure", "region", "anciennete"}
    assert {c.name: c.variables for c in grouped.cases} == {c.name: c.variables for c in project.cases}
    assert all(not c.sources for c in grouped.cases), "a paragraph is no document: no SourceRef"
    flat = {sel.name: (s, sel) for s in project.sources for sel in s.selections}
    for source in grouped.sources:
        assert not source.variables
        # the answers of the question, in the order of the per-answer sources, each headed by its respondent id
        answers = [s for s in project.sources if s.name.partition(" – ")[2] == source.name]
        expected, starts = "", {}
        for i, answer in enumerate(answers):
            expected += ("\n\n" if i else "") + answer.name.partition(" – ")[0] + "\n"
            starts[answer.guid] = len(expected)
            expected += answer.text
        assert source.text == expected
        assert len(source.selections) == sum(len(a.selections) for a in answers)
        for sel in source.selections:
            alone, same = flat[sel.name]
            assert (sel.start, sel.end) == (same.start + starts[alone.guid], same.end + starts[alone.guid])
            assert sel.text == same.text and sel.codings == same.codings
