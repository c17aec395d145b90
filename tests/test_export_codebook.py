"""The codebook as CSV, XLSX and REFI-QDA .qdc, from a real reviewed run: lineage, counts, schema validity."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from tests.export_support import CODEBOOK_XSD, ReviewedRun
from verbatim.formats.exports import export
from verbatim.formats.exports.data import RunView

pytestmark = pytest.mark.slow  # the first test of the session analyses the survey (about a minute)
NS = {"c": "urn:QDA-XML:codebook:1.0"}


@pytest.fixture(scope="module")
def folder(run: RunView, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("codebook") / "codebook"
    files = export(run, "codebook", out)
    assert sorted(p.name for p in files) == ["codebook.csv", "codebook.qdc", "codebook.xlsx"]
    return out


def _rows(folder: Path) -> dict[tuple[str, int], dict[str, str]]:
    with (folder / "codebook.csv").open(encoding="utf-8", newline="") as f:
        return {(r["question"], int(r["theme_id"])): r for r in csv.DictReader(f)}


def test_csv_has_every_theme_with_lineage(reviewed: ReviewedRun, run: RunView, folder: Path) -> None:
    d = reviewed.decisions
    rows = _rows(folder)
    assert len(rows) == sum(len(q.themes) for q in run.questions)
    merged = rows[("difficultes", d.merged_from)]
    target = rows[("difficultes", d.merged_into)]
    split = rows[("difficultes", d.split_theme)]
    parent = rows[("difficultes", d.split_parent)]
    assert merged["status"] == "merged" and merged["n_excerpts"] == "0"
    assert merged["lineage"] == f"merged into {d.merged_into} « {d.renamed_label} »"
    assert target["label"] == d.renamed_label and target["status"] == "active"
    assert f"absorbed {d.merged_from} «" in target["lineage"]
    assert int(target["n_excerpts"]) >= int(merged["machine_n_excerpts"]) + int(target["machine_n_excerpts"]) - 2
    assert split["label"] == d.split_label and split["created_by"] == "bruno"
    assert split["parent_theme_id"] == str(d.split_parent) and split["lineage"].startswith("split from")
    assert (split["n_excerpts"], split["n_validated"]) == (str(len(d.split_excerpts)), str(len(d.split_excerpts)))
    assert f"split into {d.split_theme} « {d.split_label} »" in parent["lineage"]
    assert int(parent["n_validated"]) == len(d.accepted)
    assert int(parent["n_excerpts"]) == int(parent["machine_n_excerpts"]) - len(d.split_excerpts)
    for r in rows.values():
        if r["created_by"] == "machine":
            assert r["keywords"] and r["description"]
        assert int(r["n_respondents"]) <= int(r["n_excerpts"])
    q = run.question("difficultes")
    for tid in q.themes:
        assert int(rows[("difficultes", tid)]["n_excerpts"]) == len(q.excerpts_of(tid))


def test_csv_has_the_columns_qda_tools_import(folder: Path) -> None:
    """``path`` (question/family/theme) and ``description``, beside Verbatim's own columns; one of ``tag``, ``name`` and
    ``path`` only, or Taguette refuses the file (see test_export_taguette)."""
    with (folder / "codebook.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        header = reader.fieldnames or []
    assert header[:3] == ["question", "theme_id", "label"] and header[-1] == "path" and "description" in header
    assert sum(h.lower() in ("tag", "name", "path") for h in header) == 1
    for r in rows:
        assert r["path"] == f"{r['question']}/{r['family'].replace('/', '-')}/{r['label'].replace('/', '-')}"
    assert len({r["path"] for r in rows}) == len(rows)


def test_xlsx_codebook_opens(folder: Path) -> None:
    wb = openpyxl.load_workbook(folder / "codebook.xlsx")
    ws = wb["Codebook"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert [c.value for c in ws[1]][:3] == ["question", "theme_id", "label"]
    assert ws.max_row - 1 == len(_rows(folder))


def test_qdc_validates_against_the_refi_qda_schema(reviewed: ReviewedRun, run: RunView, folder: Path) -> None:
    assert CODEBOOK_XSD.is_file(), f"the REFI-QDA schema {CODEBOOK_XSD} is missing (it lives in ../shared/refi-qda)"
    schema = etree.XMLSchema(etree.parse(str(CODEBOOK_XSD)))
    doc = etree.parse(str(folder / "codebook.qdc"))
    assert schema.validate(doc), schema.error_log
    root = doc.getroot()
    assert root.tag == "{urn:QDA-XML:codebook:1.0}CodeBook"
    questions = root.findall("c:Codes/c:Code", NS)
    assert [q.get("name") for q in questions] == ["difficultes", "idees"]
    assert all(q.get("isCodable") == "false" for q in questions)
    d = reviewed.decisions
    families = questions[0].findall("c:Code", NS)
    assert families and all(f.get("isCodable") == "false" for f in families)
    names = [c.get("name") for f in families for c in f.findall("c:Code", NS)]
    active = [t.label for t in run.question("difficultes").active_themes()]
    assert sorted(names) == sorted(active)
    assert d.renamed_label in names and d.split_label in names
    assert run.question("difficultes").themes[d.merged_from].label not in names or d.merged_from not in active
    for code in root.iter("{urn:QDA-XML:codebook:1.0}Code"):
        if code.get("isCodable") == "true":
            assert re.fullmatch(r"#[0-9A-F]{6}", code.get("color", ""))


def test_qdc_is_reproducible(run: RunView, folder: Path, tmp_path: Path) -> None:
    again = export(run, "codebook", tmp_path / "again.qdc")[0]
    assert again.read_bytes() == (folder / "codebook.qdc").read_bytes()
