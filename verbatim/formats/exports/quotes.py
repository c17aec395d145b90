"""The coded quotes: one row per excerpt, as CSV or XLSX, with the respondent's attributes and the review state.

Columns (:func:`quote_columns`): ``question, respondent_id``, one column per respondent attribute (in the order of
the analysis), ``excerpt_id, start, end, excerpt, answer`` (the whole pseudonymised answer; ``answer[start:end] ==
excerpt``), ``theme_id, theme`` (the current theme and its current label, after renames and merges; ``-1`` and
``(à revoir)`` for the review queue), ``machine_theme`` (the machine's theme, followed through merges), ``score``
(the machine's score), ``status`` (``machine``, ``accepted``, ``recoded``, ``rejected``, ``queued``), ``decided_by``
and ``decided_at`` (who made the latest decision on the excerpt and when, UTC).

CSV: UTF-8, ``,``, ``\\n`` by default; the French Excel flavour (``excel_fr``) is UTF-8 with BOM, ``;``, ``\\r\\n``
and decimal commas. XLSX: one sheet per question plus a ``Codebook`` sheet. Text cells are made inert against
formula injection (see :mod:`verbatim.formats.exports.cells`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from verbatim.formats.exports.cells import neutralise_csv, sheet_names, write_atomically, xml_text
from verbatim.formats.exports.data import QuestionView, RunView

BASE_COLUMNS = ["question", "respondent_id"]
EXCERPT_COLUMNS = [
    "excerpt_id", "start", "end", "excerpt", "answer", "theme_id", "theme", "machine_theme", "score", "status",
    "decided_by", "decided_at",
]  # fmt: skip
CODEBOOK_SHEET = "Codebook"
WIDE = {"excerpt": 60, "answer": 80, "description": 60, "lineage": 50, "keywords": 40}
WRAPPED = frozenset({"excerpt", "answer", "description", "lineage", "keywords", "label", "theme", "machine_theme"})


def quote_columns(run: RunView) -> list[str]:
    return [*BASE_COLUMNS, *run.attributes, *EXCERPT_COLUMNS]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def quote_rows(run: RunView, question: QuestionView, validated_only: bool = False) -> list[list[Any]]:
    """One row per excerpt of ``question`` (only accepted or recoded ones with ``validated_only``)."""
    rows = []
    for e in question.excerpts:
        if validated_only and not e.validated:
            continue
        attrs = run.respondents.get(e.respondent_id, {})
        rows.append(
            [
                question.question, e.respondent_id, *(attrs.get(a, "") for a in run.attributes),
                e.excerpt_id, e.start, e.end, e.text, e.answer, e.code.theme_id, question.label(e.code.theme_id),
                question.label(e.machine_theme_id), round(e.code.score, 4), str(e.code.status),
                e.code.decided_by or "", _utc(e.code.decided_at),
            ]
        )  # fmt: skip
    return rows


def _csv_cell(value: Any, excel_fr: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.4f}"
        return text.replace(".", ",") if excel_fr else text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, int):
        return str(value)
    return neutralise_csv(str(value))


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], excel_fr: bool = False) -> Path:
    """A CSV file, written at once: UTF-8 ``,`` ``\\n``, or for French Excel UTF-8 BOM ``;`` ``\\r\\n``."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8-sig" if excel_fr else "utf-8", newline="") as f:
            writer = csv.writer(f, delimiter=";" if excel_fr else ",", lineterminator="\r\n" if excel_fr else "\n")
            writer.writerow([neutralise_csv(h) for h in header])
            for row in rows:
                writer.writerow([_csv_cell(v, excel_fr) for v in row])

    return write_atomically(path, write)


def write_quotes_csv(run: RunView, path: Path, validated_only: bool = False, excel_fr: bool = False) -> Path:
    rows = [r for q in run.questions for r in quote_rows(run, q, validated_only)]
    return write_csv(path, quote_columns(run), rows, excel_fr)


HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")


def fill_sheet(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Header in bold, frozen; auto filter; text as inert string cells; widths from the content; long text wrapped."""
    ws.append([xml_text(h) for h in header])
    for cell in ws[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    widths = [len(h) + 2 for h in header]
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            name = header[c - 1]
            if isinstance(value, str):
                cell = ws.cell(row=r, column=c, value=xml_text(value))
                cell.data_type = "s"  # a string, never a formula, whatever it starts with
                longest = max((len(line) for line in value.split("\n")), default=0)
            else:
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                    longest = 16
                elif isinstance(value, float):
                    cell.number_format = "0.0000"
                    longest = 6
                else:
                    longest = len(str(value)) if value is not None else 0
            cell.alignment = wrap if name in WRAPPED else top
            widths[c - 1] = max(widths[c - 1], min(longest + 2, WIDE.get(name, 30)))
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = max(8, width)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(rows) + 1)}"


def write_quotes_xlsx(run: RunView, path: Path, validated_only: bool = False) -> Path:
    """One sheet per question (names made safe for Excel), then the ``Codebook`` sheet."""
    from verbatim.formats.exports.codebook import codebook_columns, codebook_rows

    wb = Workbook()
    default = wb.active
    assert default is not None
    wb.remove(default)
    names = sheet_names([q.question for q in run.questions], reserved=[CODEBOOK_SHEET])
    for name, question in zip(names, run.questions, strict=True):
        ws = wb.create_sheet(name)
        fill_sheet(ws, quote_columns(run), quote_rows(run, question, validated_only))
    ws = wb.create_sheet(CODEBOOK_SHEET)
    fill_sheet(ws, codebook_columns(), codebook_rows(run))
    wb.properties.creator = "Verbatim"
    wb.properties.created = _utc(run.created_at) or datetime(2000, 1, 1)
    wb.properties.modified = wb.properties.created
    return write_atomically(path, lambda tmp: wb.save(tmp))
