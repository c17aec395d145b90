"""Coded quotes as CSV and XLSX, from a real reviewed run: rows, attributes, review state, formula safety."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.export_support import ATTRIBUTES, FORMULA_ANSWERS, QUESTIONS, ReviewedRun, write_survey
from verbatim.formats.exports import write_quotes_csv, write_quotes_xlsx
from verbatim.formats.exports.data import RunView
from verbatim.formats.exports.quotes import quote_columns

pytestmark = pytest.mark.slow  # the first test of the session analyses the survey (about a minute)


def _read_csv(path: Path, excel_fr: bool = False) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8-sig" if excel_fr else "utf-8")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if excel_fr else ","))


def test_csv_has_one_row_per_excerpt_with_attributes(reviewed: ReviewedRun, run: RunView, tmp_path: Path) -> None:
    rows = _read_csv(write_quotes_csv(run, tmp_path / "quotes.csv"))
    assert list(rows[0]) == [*["question", "respondent_id"], *ATTRIBUTES, *quote_columns(run)[6:]]
    assert len(rows) == len(reviewed.store.excerpts(reviewed.run_id))
    assert {r["question"] for r in rows} == set(QUESTIONS)
    survey = pd.read_csv(write_survey(tmp_path / "s.csv"), sep=";", dtype=str, keep_default_na=False).set_index("id")
    for r in rows[:200] + rows[-50:]:
        for attribute in ATTRIBUTES:
            assert r[attribute] == survey.loc[r["respondent_id"], attribute]
        if not r["answer"].startswith(("'", "–")):
            assert r["answer"][int(r["start"]) : int(r["end"])] == r["excerpt"]
    assert {r["status"] for r in rows} == {"machine", "accepted", "recoded", "rejected", "queued"}


def test_csv_shows_review_state_and_current_labels(reviewed: ReviewedRun, run: RunView, tmp_path: Path) -> None:
    d = reviewed.decisions
    by_id = {r["excerpt_id"]: r for r in _read_csv(write_quotes_csv(run, tmp_path / "quotes.csv"))}
    q = run.question("difficultes")
    for e in d.accepted:
        assert by_id[e]["status"] == "accepted" and by_id[e]["decided_by"] == "alice"
        assert by_id[e]["theme_id"] == str(d.accepted_theme)
        datetime.strptime(by_id[e]["decided_at"], "%Y-%m-%d %H:%M:%S")
    for e in d.recoded:
        assert (by_id[e]["status"], by_id[e]["decided_by"]) == ("recoded", "bruno")
        assert by_id[e]["theme_id"] == str(d.recode_target) and by_id[e]["theme"] == q.label(d.recode_target)
    for e in d.rejected:
        assert (by_id[e]["status"], by_id[e]["theme_id"], by_id[e]["theme"]) == ("rejected", "-1", "(à revoir)")
    for e in d.split_excerpts:
        assert (by_id[e]["theme"], by_id[e]["status"]) == (d.split_label, "recoded")
    mine = [r for r in by_id.values() if r["question"] == "difficultes"]
    assert not any(r["theme_id"] == str(d.merged_from) for r in mine), "merged theme followed to its target"
    from_merged = [e for e in q.excerpts if e.code.machine_theme_id == d.merged_from]
    assert from_merged
    for e in from_merged:
        assert by_id[e.excerpt_id]["machine_theme"] == d.renamed_label, "merged, then renamed: the current label"
        if by_id[e.excerpt_id]["status"] == "machine":
            assert by_id[e.excerpt_id]["theme_id"] == str(d.merged_into)
    assert all(r["decided_by"] == "" and r["decided_at"] == "" for r in mine if r["status"] == "machine")
    assert all(0 <= float(r["score"]) <= 1 for r in mine)


def test_formulas_are_neutralised_in_csv_but_list_items_read_naturally(run: RunView, tmp_path: Path) -> None:
    rows = _read_csv(write_quotes_csv(run, tmp_path / "quotes.csv"))
    answers = {r["respondent_id"]: r["answer"] for r in rows if r["question"] == "difficultes"}
    assert answers["R9001"] == "'" + FORMULA_ANSWERS["R9001"]
    assert answers["R9002"] == "'" + FORMULA_ANSWERS["R9002"]
    assert answers["R9003"] == "'" + FORMULA_ANSWERS["R9003"]
    assert answers["R9004"] == "–" + FORMULA_ANSWERS["R9004"][1:], "a list item keeps reading as one"
    for r in rows:
        for value in r.values():
            if not re.fullmatch(r"-?\d+(\.\d+)?", value):  # numbers (theme -1) are numbers, not formulas
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_validated_only_and_french_excel_flavour(reviewed: ReviewedRun, run: RunView, tmp_path: Path) -> None:
    d = reviewed.decisions
    path = write_quotes_csv(run, tmp_path / "quotes-fr.csv", validated_only=True, excel_fr=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    assert raw.decode("utf-8-sig").splitlines()[0].startswith("question;respondent_id;profession")
    rows = _read_csv(path, excel_fr=True)
    expected = {*d.accepted, *d.recoded, *d.split_excerpts, *d.idees_accepted}
    assert {r["excerpt_id"] for r in rows} == expected
    assert {r["status"] for r in rows} == {"accepted", "recoded"}
    assert all("," in r["score"] and "." not in r["score"] for r in rows), "decimal comma for French Excel"


def test_xlsx_sheets_layout_and_content(reviewed: ReviewedRun, run: RunView, tmp_path: Path) -> None:
    d = reviewed.decisions
    path = write_quotes_xlsx(run, tmp_path / "quotes.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["difficultes", "idees", "Codebook"]
    n_excerpts = 0
    for name in wb.sheetnames:
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
        assert all(cell.font.bold for cell in ws[1])
        n_excerpts += ws.max_row - 1 if name != "Codebook" else 0
    assert n_excerpts == len(reviewed.store.excerpts(reviewed.run_id))
    ws = wb["difficultes"]
    header = [c.value for c in ws[1]]
    col = {name: i for i, name in enumerate(header)}
    widths = {name: ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width for name, i in col.items()}
    assert widths["answer"] >= 50 and widths["excerpt"] >= 40 and widths["respondent_id"] < 20
    rows = {r[col["excerpt_id"]].value: r for r in ws.iter_rows(min_row=2)}
    for e in d.accepted:
        assert rows[e][col["status"]].value == "accepted" and rows[e][col["decided_by"]].value == "alice"
        assert isinstance(rows[e][col["decided_at"]].value, datetime)
    for e in d.recoded:
        assert rows[e][col["status"]].value == "recoded" and rows[e][col["decided_by"]].value == "bruno"
    assert rows[d.accepted[0]][col["answer"]].alignment.wrap_text
    formula_rows = [r for r in ws.iter_rows(min_row=2) if r[col["respondent_id"]].value in FORMULA_ANSWERS]
    assert formula_rows
    for r in formula_rows:
        cell = r[col["answer"]]
        assert cell.value == FORMULA_ANSWERS[r[col["respondent_id"]].value], "written as the respondent wrote it"
        assert cell.data_type == "s"
    codebook = wb["Codebook"]
    labels = {c.value for c in codebook["C"][1:]}
    assert d.renamed_label in labels and d.split_label in labels
    with zipfile.ZipFile(path) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in zf.read(n) or b"<f " in zf.read(n) for n in sheets), "no formula"
