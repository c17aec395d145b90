"""Files people take away from a run, read from the store as it stands (after the researchers' decisions).

| format | what | written by |
|---|---|---|
| ``csv`` / ``xlsx`` | coded quotes, one row per excerpt, with respondent attributes and review state | :mod:`.quotes` |
| ``codebook`` | themes with counts and lineage: CSV, XLSX and REFI-QDA ``.qdc`` | :mod:`.codebook` |
| ``qdpx`` | a REFI-QDA project for NVivo, ATLAS.ti, MAXQDA, QualCoder (and :func:`read_qdpx`) | :mod:`.refi_qda` |
| ``report`` | the quote report: Markdown + PNG charts, and DOCX (one ZIP of it: :func:`zip_folder`) | :mod:`.report` |
| ``respondents`` | a row per respondent, 0/1 per theme, answer status: CSV, XLSX, SPSS .sav | :mod:`.respondents` |

Every file is written at once (a hidden temporary file renamed into place): an error leaves nothing half-written.
Only pseudonymised text is read (see :mod:`.data`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

from verbatim.errors import ConfigError
from verbatim.formats.exports.archive import zip_folder
from verbatim.formats.exports.cells import neutralise_csv, sheet_names, staged_folder
from verbatim.formats.exports.citations import DEFAULT_ATTRIBUTION, Quote, QuoteChoice, choose_quotes, trim
from verbatim.formats.exports.codebook import write_codebook_csv, write_codebook_xlsx, write_qdc
from verbatim.formats.exports.data import QUEUE_LABEL, QuestionView, RunView, check_questions, load_run
from verbatim.formats.exports.quotes import write_quotes_csv, write_quotes_xlsx
from verbatim.formats.exports.refi_qda import QdpxProject, QdpxSources, read_qdpx, write_qdpx
from verbatim.formats.exports.report import write_report
from verbatim.formats.exports.respondents import (
    write_respondents,
    write_respondents_csv,
    write_respondents_sav,
    write_respondents_xlsx,
)
from verbatim.formats.exports.specificities import question_specificities, write_specificities


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    CODEBOOK = "codebook"
    QDPX = "qdpx"
    REPORT = "report"
    RESPONDENTS = "respondents"
    SPECIFICITIES = "specificities"


#: What ``--out`` names for each format: a file with one of these suffixes, or a folder (``None``).
FILE_SUFFIXES: dict[ExportFormat, tuple[str, ...]] = {
    ExportFormat.CSV: (".csv",),
    ExportFormat.XLSX: (".xlsx",),
    ExportFormat.QDPX: (".qdpx",),
    ExportFormat.CODEBOOK: (".csv", ".xlsx", ".qdc", ""),
    ExportFormat.REPORT: ("",),
    ExportFormat.RESPONDENTS: (".csv", ".xlsx", ".sav"),
    ExportFormat.SPECIFICITIES: (".csv", ".xlsx"),
}


def check_output(
    fmt: ExportFormat, out: Path, excel_fr: bool = False, qdpx_sources: QdpxSources | str = QdpxSources.RESPONDENT
) -> None:
    """A :class:`ConfigError` when ``out`` does not suit ``fmt`` (wrong suffix, a folder where a file goes...) or
    an option does not apply to it."""
    try:
        qdpx_sources = QdpxSources(qdpx_sources)
    except ValueError:
        raise ConfigError(
            f"--qdpx-sources is respondent (one source per answer) or question (one per question), "
            f"not {str(qdpx_sources)[:40]!r}"
        ) from None
    if qdpx_sources != QdpxSources.RESPONDENT and fmt != ExportFormat.QDPX:
        raise ConfigError("--qdpx-sources applies to --format qdpx")
    suffix = out.suffix.lower()
    allowed = FILE_SUFFIXES[fmt]
    if fmt in (ExportFormat.CSV, ExportFormat.XLSX, ExportFormat.QDPX):
        if suffix not in allowed:
            raise ConfigError(f"--format {fmt} writes a {allowed[0]} file: give --out a name ending in {allowed[0]}")
        if out.is_dir():
            raise ConfigError(f"--out {out} is a folder: give a file name ending in {allowed[0]}")
    elif fmt == ExportFormat.SPECIFICITIES:
        if suffix not in allowed or out.is_dir():
            raise ConfigError(f"--format specificities writes one file ending in .csv or .xlsx: got {out.name or out}")
        if excel_fr and suffix != ".csv":
            raise ConfigError("--excel-fr applies to CSV files: give --out a name ending in .csv")
    elif fmt == ExportFormat.RESPONDENTS:
        if suffix not in allowed:
            raise ConfigError(
                f"--format respondents writes one file ending in .csv, .xlsx or .sav: got {out.name or out}"
            )
        if out.is_dir():
            raise ConfigError(f"--out {out} is a folder: give a file name ending in .csv, .xlsx or .sav")
        if excel_fr and suffix != ".csv":
            raise ConfigError("--excel-fr applies to CSV files: give --out a name ending in .csv")
    elif fmt == ExportFormat.CODEBOOK:
        if suffix and suffix not in allowed:
            raise ConfigError(
                f"--format codebook writes codebook.csv, codebook.xlsx and codebook.qdc into a folder, or one file "
                f"ending in .csv, .xlsx or .qdc; got {out.name}"
            )
        if suffix and out.is_dir():
            raise ConfigError(f"--out {out} is a folder: give a file name ending in {suffix}")
        if not suffix and out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out} is a file: give a folder for codebook.csv, .xlsx and .qdc")
    elif (out.exists() and not out.is_dir()) or suffix in (".md", ".docx", ".pdf", ".zip", ".csv", ".xlsx"):
        raise ConfigError(f"--format report writes a folder (report.md, report.docx, charts): {out} is a file name")
    if excel_fr and fmt not in (ExportFormat.CSV, ExportFormat.CODEBOOK, ExportFormat.RESPONDENTS,
                                ExportFormat.SPECIFICITIES):  # fmt: skip
        raise ConfigError(
            "--excel-fr applies to CSV files: use it with --format csv, --format codebook or --format respondents"
        )


def export(
    run: RunView,
    fmt: ExportFormat | str,
    out: Path,
    validated_only: bool = False,
    excel_fr: bool = False,
    n_quotes: int = 5,
    chart_attribute: str | None = None,
    attribution_columns: Sequence[str] = DEFAULT_ATTRIBUTION,
    qdpx_sources: QdpxSources | str = QdpxSources.RESPONDENT,
) -> list[Path]:
    """Write ``run`` in format ``fmt`` to ``out``; returns the files written. ``qdpx_sources``: one text source per
    answer (``respondent``) or per question (``question``) in a ``.qdpx``."""
    fmt = ExportFormat(fmt)
    check_output(fmt, out, excel_fr, qdpx_sources)
    if fmt == ExportFormat.CSV:
        return [write_quotes_csv(run, out, validated_only, excel_fr)]
    if fmt == ExportFormat.XLSX:
        return [write_quotes_xlsx(run, out, validated_only)]
    if fmt == ExportFormat.QDPX:
        return [write_qdpx(run, out, validated_only, qdpx_sources)]
    if fmt == ExportFormat.RESPONDENTS:
        return [write_respondents(run, out, excel_fr)]
    if fmt == ExportFormat.SPECIFICITIES:
        return [write_specificities(run, out, excel_fr)]
    if fmt == ExportFormat.CODEBOOK:
        suffix = out.suffix.lower()
        if suffix == ".csv":
            return [write_codebook_csv(run, out, excel_fr)]
        if suffix == ".xlsx":
            return [write_codebook_xlsx(run, out)]
        if suffix == ".qdc":
            return [write_qdc(run, out)]
        with staged_folder(out) as staging:
            write_codebook_csv(run, staging / "codebook.csv", excel_fr)
            write_codebook_xlsx(run, staging / "codebook.xlsx")
            write_qdc(run, staging / "codebook.qdc")
        return [out / "codebook.csv", out / "codebook.qdc", out / "codebook.xlsx"]
    return write_report(run, out, n_quotes, chart_attribute, attribution_columns)


__all__ = [
    "DEFAULT_ATTRIBUTION",
    "FILE_SUFFIXES",
    "QUEUE_LABEL",
    "ExportFormat",
    "QdpxProject",
    "QdpxSources",
    "QuestionView",
    "Quote",
    "QuoteChoice",
    "RunView",
    "check_output",
    "check_questions",
    "choose_quotes",
    "export",
    "load_run",
    "neutralise_csv",
    "question_specificities",
    "read_qdpx",
    "sheet_names",
    "trim",
    "write_codebook_csv",
    "write_codebook_xlsx",
    "write_qdc",
    "write_qdpx",
    "write_quotes_csv",
    "write_quotes_xlsx",
    "write_report",
    "write_respondents",
    "write_respondents_csv",
    "write_respondents_sav",
    "write_respondents_xlsx",
    "write_specificities",
    "zip_folder",
]
