"""The respondents table (CSV, XLSX, SPSS .sav) from a real reviewed run, the CLI that writes it, and the report ZIP.

The table is checked against the survey file itself (one row per respondent, attributes) and, for the 0/1 theme
columns, against the coded quotes export (a respondent has 1 for a theme iff one of its excerpts has it now).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE
from tests.export_support import ATTRIBUTES, FORMULA_ANSWERS, QUESTIONS, ReviewedRun, write_survey
from verbatim.cli.main import app
from verbatim.errors import ConfigError
from verbatim.formats.exports import (
    write_quotes_csv,
    write_report,
    write_respondents_csv,
    write_respondents_sav,
    write_respondents_xlsx,
    zip_folder,
)
from verbatim.formats.exports.data import RunView
from verbatim.formats.exports.respondents import spss_name
from verbatim.models.store import Store

SPSS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
THEME_COLUMN = re.compile(r"q(\d+)_t(\d+)")
STATUSES = {"coded", "queued", "rejected"}
runner = CliRunner()


def _read_csv(path: Path, excel_fr: bool = False) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8-sig" if excel_fr else "utf-8")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if excel_fr else ","))


def _survey(tmp_path: Path) -> pd.DataFrame:
    """The file the run analysed: the sample survey and the planted rows."""
    return pd.read_csv(write_survey(tmp_path / "survey.csv"), sep=";", dtype=str, keep_default_na=False)


def _current_themes(run: RunView, tmp_path: Path) -> dict[tuple[str, str], set[int]]:
    """(question, respondent) -> the themes its excerpts have now, read from the coded quotes export."""
    themes: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in _read_csv(write_quotes_csv(run, tmp_path / "quotes.csv")):
        if r["theme_id"] != "-1":
            themes[(r["question"], r["respondent_id"])].add(int(r["theme_id"]))
    return themes


@pytest.mark.slow
def test_one_row_per_respondent_of_the_survey_file(run: RunView, tmp_path: Path) -> None:
    rows = _read_csv(write_respondents_csv(run, tmp_path / "respondents.csv"))
    survey = _survey(tmp_path)
    sample_rows = len(pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False))
    assert sample_rows == 420
    assert len(rows) == len(survey) == sample_rows + len(FORMULA_ANSWERS)
    assert [r["respondent_id"] for r in rows] == survey["id"].tolist(), "every row of the file, in its order"
    header = list(rows[0])
    assert header[: 1 + len(ATTRIBUTES)] == ["respondent_id", *ATTRIBUTES]
    for r, (_, s) in zip(rows, survey.iterrows(), strict=True):
        assert all(r[a] == s[a] for a in ATTRIBUTES)
    assert all(SPSS_NAME.fullmatch(name) for name in header), header
    assert len({h.casefold() for h in header}) == len(header)
    for n in (1, 2):
        assert header.index(f"q{n}_status") < header.index(f"q{n}_reason")
    blank = {q: set(survey.loc[survey[q].str.strip() == "", "id"]) for q in QUESTIONS}
    assert all(blank.values()), "the sample holds empty answers"
    for n, q in enumerate(QUESTIONS, start=1):
        for r in rows:
            if r["respondent_id"] in blank[q]:
                assert (r[f"q{n}_status"], r[f"q{n}_reason"]) == ("rejected", "empty")
    nothing_analysed = [r for r in rows if {r["q1_status"], r["q2_status"]} == {"rejected"}]
    assert nothing_analysed, "respondents whose answers were all rejected are rows too"


@pytest.mark.slow
def test_theme_columns_follow_the_current_codes(reviewed: ReviewedRun, run: RunView, tmp_path: Path) -> None:
    rows = _read_csv(write_respondents_csv(run, tmp_path / "respondents.csv"))
    current = _current_themes(run, tmp_path)
    columns: dict[str, tuple[str, int]] = {}
    for name in rows[0]:
        match = THEME_COLUMN.fullmatch(name)
        if match:
            columns[name] = (QUESTIONS[int(match[1]) - 1], int(match[2]))
    for q in QUESTIONS:
        active = {t.theme_id for t in run.question(q).active_themes()}
        assert {t for question, t in columns.values() if question == q} == active
    d = reviewed.decisions
    assert ("difficultes", d.merged_from) not in columns.values(), "a theme merged away has no column"
    assert ("difficultes", d.split_theme) in columns.values(), "a theme split off by a researcher has one"
    ones = 0
    for r in rows:
        for name, (q, theme) in columns.items():
            assert r[name] in ("0", "1")
            assert (r[name] == "1") == (theme in current.get((q, r["respondent_id"]), set())), (name, r)
            ones += r[name] == "1"
    assert ones >= len(rows)
    by_id = {r["respondent_id"]: r for r in rows}
    q1 = run.question("difficultes")
    recode_column = next(n for n, qt in columns.items() if qt == ("difficultes", d.recode_target))
    split_column = next(n for n, qt in columns.items() if qt == ("difficultes", d.split_theme))
    for e in q1.excerpts:
        if e.excerpt_id in d.recoded:
            assert by_id[e.respondent_id][recode_column] == "1"
        if e.excerpt_id in d.split_excerpts:
            assert by_id[e.respondent_id][split_column] == "1"


@pytest.mark.slow
def test_status_columns_say_where_each_answer_stands(reviewed: ReviewedRun, run: RunView, tmp_path: Path) -> None:
    rows = _read_csv(write_respondents_csv(run, tmp_path / "respondents.csv"))
    current = _current_themes(run, tmp_path)
    stored = {
        (a.question, a.respondent_id): (a.status, a.reason or "") for a in reviewed.store.answers(reviewed.run_id)
    }
    counts = {s: 0 for s in STATUSES}
    for n, q in enumerate(QUESTIONS, start=1):
        themes = [c for c in rows[0] if c.startswith(f"q{n}_t")]
        for r in rows:
            status, reason = r[f"q{n}_status"], r[f"q{n}_reason"]
            counts[status] += 1
            machine_status, machine_reason = stored[(q, r["respondent_id"])]
            if machine_status == "rejected":
                assert (status, reason) == ("rejected", machine_reason) and reason
                assert all(r[c] == "0" for c in themes)
            else:
                assert reason == ""
                has_theme = bool(current.get((q, r["respondent_id"])))
                assert status == ("coded" if has_theme else "queued")
                assert has_theme == any(r[c] == "1" for c in themes)
    assert all(counts.values()), counts  # every status is checked (the fixture queues an answer by rejecting it)
    assert sum(counts.values()) == len(rows) * len(QUESTIONS)
    for e in run.question("difficultes").excerpts:  # answers coded by the machine whose excerpts were all rejected
        if e.excerpt_id in reviewed.decisions.rejected and not current.get(("difficultes", e.respondent_id)):
            assert next(r for r in rows if r["respondent_id"] == e.respondent_id)["q1_status"] == "queued"
    (emptied,) = [
        e.respondent_id for e in run.question("difficultes").excerpts if e.excerpt_id == reviewed.decisions.rejected[0]
    ]
    assert next(r for r in rows if r["respondent_id"] == emptied)["q1_status"] == "queued", "its one excerpt rejected"


@pytest.mark.slow
def test_excel_fr_csv(run: RunView, tmp_path: Path) -> None:
    path = write_respondents_csv(run, tmp_path / "fr.csv", excel_fr=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in path.read_bytes()
    assert _read_csv(path, excel_fr=True) == _read_csv(write_respondents_csv(run, tmp_path / "plain.csv"))


@pytest.mark.slow
def test_sav_has_variable_and_value_labels(run: RunView, tmp_path: Path) -> None:
    plain = _read_csv(write_respondents_csv(run, tmp_path / "respondents.csv"))
    frame, meta = pyreadstat.read_sav(str(write_respondents_sav(run, tmp_path / "respondents.sav")))
    assert meta.column_names == list(plain[0])
    assert len(frame) == len(plain)
    labels = meta.column_names_to_labels
    columns = {(int(m[1]), int(m[2])): c for c in meta.column_names if (m := THEME_COLUMN.fullmatch(c))}
    for n, q in enumerate(QUESTIONS, start=1):
        assert q in labels[f"q{n}_status"]
        assert meta.variable_value_labels[f"q{n}_status"] == {1: "coded", 2: "queued", 3: "rejected"}
        themes = run.question(q).active_themes()
        assert {t for m, t in columns if m == n} == {t.theme_id for t in themes}
        for theme in themes:
            assert labels[columns[(n, theme.theme_id)]] == theme.label
            assert meta.variable_value_labels[columns[(n, theme.theme_id)]] == {0: "non", 1: "oui"}
    assert labels["profession"] == "profession"
    codes = {"coded": 1, "queued": 2, "rejected": 3}
    for (_, row), p in zip(frame.iterrows(), plain, strict=True):
        assert row["respondent_id"] == p["respondent_id"] and row["region"] == p["region"]
        assert int(row["q1_status"]) == codes[p["q1_status"]] and row["q2_reason"] == p["q2_reason"]
        for name in plain[0]:
            if THEME_COLUMN.fullmatch(name):
                assert int(row[name]) == int(p[name])


@pytest.mark.slow
def test_xlsx_has_the_table_and_its_variables(run: RunView, tmp_path: Path) -> None:
    plain = _read_csv(write_respondents_csv(run, tmp_path / "respondents.csv"))
    wb = openpyxl.load_workbook(write_respondents_xlsx(run, tmp_path / "respondents.xlsx"))
    assert wb.sheetnames == ["Respondents", "Variables"]
    table = list(wb["Respondents"].iter_rows(values_only=True))
    assert list(table[0]) == list(plain[0]) and len(table) == len(plain) + 1
    for cells, expected in zip(table[1:], plain, strict=True):
        assert ["" if v is None else str(v) for v in cells] == list(expected.values())
    variables = list(wb["Variables"].iter_rows(values_only=True))
    assert variables[0] == ("variable", "question", "theme_id", "label")
    assert [v[0] for v in variables[1:]] == list(plain[0])
    by_name = {v[0]: v for v in variables[1:]}
    for n, q in enumerate(QUESTIONS, start=1):
        assert by_name[f"q{n}_status"][1] == q
        for theme in run.question(q).active_themes():
            row = next(v for v in variables[1:] if v[1] == q and v[2] == theme.theme_id)
            assert THEME_COLUMN.fullmatch(str(row[0])) and row[3] == theme.label


def test_spss_names_are_valid_and_unique() -> None:
    taken = {"respondent_id"}
    names = [spss_name(w, taken) for w in ["Années d'expérience", "1er choix", "AND", "x" * 100, "Région", "région",
                                           "RESPONDENT_ID", "", "q1_status"]]  # fmt: skip
    assert names[:3] == ["Annees_d_experience", "v_1er_choix", "AND_"]
    assert names[3] == "x" * 64 and names[4:6] == ["Region", "region_2"]
    assert names[6] == "RESPONDENT_ID_2" and names[7] == "var"
    assert all(SPSS_NAME.fullmatch(n) for n in names)
    assert len({n.casefold() for n in names}) == len(names)


def _export(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["export", *args])
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("out", "extra", "message"),
    [
        ("table.json", [], "--format respondents writes one file ending in .csv, .xlsx or .sav: got table.json"),
        ("table", [], "--format respondents writes one file ending in .csv, .xlsx or .sav"),
        ("table.sav", ["--excel-fr"], "--excel-fr applies to CSV files"),
    ],
)
def test_cli_refuses_a_wrong_name(out: str, extra: list[str], message: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    Store(url)
    target = tmp_path / "out" / out
    code, output = _export("RUN", "--format", "respondents", "--out", str(target), *extra, "--database-url", url)
    assert code == 2, output
    assert message in output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_cli_writes_each_suffix(reviewed: ReviewedRun, run: RunView, tmp_path: Path) -> None:
    expected = _read_csv(write_respondents_csv(run, tmp_path / "expected.csv"))
    for suffix in (".csv", ".xlsx", ".sav"):
        out = tmp_path / f"table{suffix}"
        code, output = _export(reviewed.run_id, "--format", "respondents", "--out", str(out),
                               "--database-url", reviewed.database_url)  # fmt: skip
        assert code == 0, output
        assert str(out) in output
        if suffix == ".csv":
            assert _read_csv(out) == expected
        elif suffix == ".xlsx":
            assert openpyxl.load_workbook(out).sheetnames == ["Respondents", "Variables"]
        else:
            frame, _ = pyreadstat.read_sav(str(out))
            assert frame["respondent_id"].tolist() == [r["respondent_id"] for r in expected]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["expected.csv", "table.csv", "table.sav", "table.xlsx"]


def test_zip_folder_zips_every_file_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    (folder / "charts").mkdir(parents=True)
    (folder / "report.md").write_text("# Rapport\n", encoding="utf-8")
    (folder / "report.docx").write_bytes(b"PK\x03\x04 docx")
    (folder / "charts" / "difficultes.png").write_bytes(b"\x89PNG")
    (folder / ".report.md.abc.partial").write_text("half", encoding="utf-8")
    out = zip_folder(folder, folder / "report.zip")
    assert out == folder / "report.zip"
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        assert sorted(z.namelist()) == ["charts/difficultes.png", "report.docx", "report.md"]
        assert z.read("report.md") == b"# Rapport\n"
    assert sorted(p.name for p in folder.iterdir()) == [".report.md.abc.partial", "charts", "report.docx",
                                                       "report.md", "report.zip"]  # fmt: skip
    again = zip_folder(folder, folder / "report.zip")
    with zipfile.ZipFile(again) as z:
        assert "report.zip" not in z.namelist()
    with pytest.raises(ConfigError, match="not a folder"):
        zip_folder(tmp_path / "missing", tmp_path / "missing.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no file"):
        zip_folder(tmp_path / "empty", tmp_path / "empty.zip")
    assert not (tmp_path / "missing.zip").exists() and not (tmp_path / "empty.zip").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


@pytest.mark.slow
def test_zip_of_a_real_report(run: RunView, tmp_path: Path) -> None:
    folder = tmp_path / "report"
    write_report(run, folder, n_quotes=2)
    out = zip_folder(folder, tmp_path / "report.zip")
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {"report.md", "report.docx"} <= names
        assert names == {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        assert any(n.endswith(".png") for n in names)
        assert z.read("report.md") == (tmp_path / "report" / "report.md").read_bytes()
