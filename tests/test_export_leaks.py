"""No export ever shows what pseudonymisation masked, even when the store keeps the original answers."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.export_support import PLANTED_EMAIL, SECRETS, ReviewedRun
from verbatim.flows.export import ExportConfig, export_run
from verbatim.models.tables import AnswerRow

pytestmark = pytest.mark.slow  # the first test of the session analyses the survey (about a minute)


def _texts(path: Path) -> list[tuple[str, str]]:
    """(name, text) of a file and, for zip-based files (xlsx, docx, qdpx), of every member."""
    data = path.read_bytes()
    out = [(path.name, data.decode("utf-8", errors="ignore"))]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            out += [(f"{path.name}!{n}", zf.read(n).decode("utf-8", errors="ignore")) for n in zf.namelist()]
    return out


def test_no_export_contains_masked_text(reviewed: ReviewedRun, tmp_path: Path) -> None:
    with reviewed.store.session() as s:
        originals = [t for t in s.scalars(select(AnswerRow.original_text)) if t]
        stored = list(s.scalars(select(AnswerRow.text)))
    assert any(PLANTED_EMAIL in t for t in originals), "the store keeps the unmasked answers (--keep-original)"
    assert not any(PLANTED_EMAIL in t for t in stored) and any("[EMAIL]" in t for t in stored)

    outputs = {
        "csv": tmp_path / "quotes.csv",
        "xlsx": tmp_path / "quotes.xlsx",
        "codebook": tmp_path / "codebook",
        "qdpx": tmp_path / "project.qdpx",
        "report": tmp_path / "report",
        "respondents": tmp_path / "respondents.sav",
    }
    files: list[Path] = []
    for fmt, out in outputs.items():
        config = ExportConfig(run_id=reviewed.run_id, format=fmt, out=out, database_url=reviewed.database_url)  # type: ignore[arg-type]
        files += export_run(config).files
    files += export_run(
        ExportConfig(
            run_id=reviewed.run_id, format="csv", out=tmp_path / "fr.csv", excel_fr=True,  # type: ignore[arg-type]
            database_url=reviewed.database_url,
        )
    ).files  # fmt: skip
    assert {p.suffix for p in files} >= {".csv", ".xlsx", ".qdc", ".qdpx", ".md", ".docx", ".png", ".sav"}
    assert all(p.is_file() for p in files) and sorted(tmp_path.rglob("*.partial")) == []
    masked = 0
    for path in files:
        for name, text in _texts(path):
            folded = unicodedata.normalize("NFC", text).casefold()
            masked += folded.count("[email]") + folded.count("[téléphone]")
            for secret in SECRETS:
                assert secret.casefold() not in folded, f"{secret!r} found in {name}"
    assert masked > 0, "the masks themselves are exported"
