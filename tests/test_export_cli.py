"""``verbatim export``: clear messages and exit code 2 on bad input, nothing written; a real export otherwise."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.export_support import ReviewedRun, reviewed_run
from verbatim.cli.main import app
from verbatim.formats.exports import read_qdpx
from verbatim.models.store import Store

runner = CliRunner()


def _export(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["export", *args])
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def empty_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    Store(url)
    return url


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf", "--out", "x.csv"], "'respondents' or 'specificities'"),
        (["--format", "xlsx", "--out", "x.csv"], "give --out a name ending in .xlsx"),
        (["--format", "qdpx", "--out", "x.zip"], "ending in .qdpx"),
        (["--format", "xlsx", "--out", "x.xlsx", "--excel-fr"], "--excel-fr applies to CSV files"),
        (["--format", "report", "--out", "r", "--quotes", "0"], "quotes"),
        (["--format", "codebook", "--out", "c.json"], ".csv, .xlsx or .qdc"),
        (["--format", "report", "--out", "r.docx"], "report writes a folder"),
        (["--format", "csv", "--out", "x.csv"], "run 'RUN' not found"),
        (["--format", "csv", "--out", "x.csv", "--qdpx-sources", "question"], "applies to --format qdpx"),
        (["--format", "qdpx", "--out", "x.qdpx", "--qdpx-sources", "paragraph"], "'respondent' or 'question'"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(args: list[str], message: str, empty_db: str, tmp_path: Path) -> None:
    out_args = [str(tmp_path / "out" / a) if i and args[i - 1] == "--out" else a for i, a in enumerate(args)]
    code, output = _export("RUN", *out_args, "--database-url", empty_db)
    assert code == 2, output
    assert message in output
    assert not (tmp_path / "out").exists()


def test_missing_database_file_is_named(tmp_path: Path) -> None:
    code, output = _export("RUN", "--format", "csv", "--out", str(tmp_path / "x.csv"), "--database-url",
                           f"sqlite:///{tmp_path / 'nope.db'}")  # fmt: skip
    assert code == 2 and "not found" in output
    assert not (tmp_path / "nope.db").exists() and not (tmp_path / "x.csv").exists()


@pytest.mark.slow
def test_export_command_writes_the_file(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    reviewed: ReviewedRun = reviewed_run(tmp_path_factory)
    code, output = _export(reviewed.run_id, "--format", "csv", "--out", str(tmp_path / "q.csv"), "--question", "nope",
                           "--database-url", reviewed.database_url)  # fmt: skip
    assert code == 2 and "'nope' not in run" in output and "difficultes, idees" in output
    out = tmp_path / "fr.csv"
    code, output = _export(
        reviewed.run_id, "--format", "csv", "--out", str(out), "--excel-fr", "--validated-only", "--question",
        "difficultes", "--database-url", reviewed.database_url,
    )  # fmt: skip
    assert code == 0, output
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    d = reviewed.decisions
    assert {r["excerpt_id"] for r in rows} == {*d.accepted, *d.recoded, *d.split_excerpts}
    assert {r["question"] for r in rows} == {"difficultes"}


@pytest.mark.slow
def test_qdpx_sources_per_question(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    reviewed: ReviewedRun = reviewed_run(tmp_path_factory)
    out = tmp_path / "questions.qdpx"
    code, output = _export(
        reviewed.run_id, "--format", "qdpx", "--out", str(out), "--qdpx-sources", "question",
        "--database-url", reviewed.database_url,
    )  # fmt: skip
    assert code == 0, output
    project = read_qdpx(out)
    assert [s.name for s in project.sources] == ["difficultes", "idees"]
    assert sum(len(s.selections) for s in project.sources) > 1000
