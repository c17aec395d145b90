"""Safe cells and safe files: formula neutralisation, sheet names, writing a file all at once or not at all.

Formula injection (OWASP "CSV injection"): a spreadsheet may run a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return as a formula. Survey answers are typed by anyone, so every exported text cell is made
inert:

* **CSV**: such a cell gets a leading apostrophe ``'`` (the OWASP advice: Excel and LibreOffice show the text, run
  nothing). One exception, so that French answers still read naturally: an answer that starts as a list item,
  ``-`` followed by a space or a line break (``- pas de temps pour se former``), has that first hyphen written as
  an en dash ``–``, the French typographic list dash (``– pas de temps pour se former``), instead of getting
  ``'- pas de temps…``. Only the first character of the cell changes, and only in CSV files; the en dash can never
  start a formula.
* **XLSX**: text is written as string cells (``data_type == "s"``), never as formulas, so nothing needs changing:
  ``=SOMME(A1)`` or ``- pas de temps`` appear exactly as the respondent wrote them.

Control characters that XML 1.0 forbids (hence XLSX, DOCX and REFI-QDA) are removed from text written there.

The CSV and sheet writers every tabular export shares live here too: :func:`write_csv` and :func:`fill_sheet`.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from verbatim.paths import write_atomically

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LIST_ITEM = re.compile(r"-[ \t\n\u00a0\u202f]")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31
#: Widest columns of a sheet (characters), by column name; others stop at 30.
WIDE = {"excerpt": 60, "answer": 80, "description": 60, "lineage": 50, "keywords": 40}
#: Columns whose text wraps in a sheet.
WRAPPED = frozenset(
    {"excerpt", "answer", "description", "lineage", "keywords", "label", "theme", "family", "machine_theme"}
)


def neutralise_csv(value: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula (see the module docstring for the list-item exception)."""
    if not value.startswith(FORMULA_STARTS):
        return value
    if _LIST_ITEM.match(value):
        return "–" + value[1:]
    return "'" + value


def xml_text(value: str) -> str:
    """``value`` without the control characters XML 1.0 cannot hold (tab, line feed and carriage return stay)."""
    return _XML_ILLEGAL.sub("", value)


def sheet_names(wanted: Iterable[str], reserved: Iterable[str] = ()) -> list[str]:
    """Excel sheet names for ``wanted``, in order: at most 31 characters, none of ``[]:*?/\\``, not starting or
    ending with an apostrophe, not blank, unique regardless of case (also against ``reserved``): ``name (2)``."""
    taken = {r.casefold() for r in reserved}
    names = []
    for raw in wanted:
        base = _SHEET_FORBIDDEN.sub("_", raw).strip().strip("'").strip() or "question"
        if base.casefold() == "history":  # reserved by Excel
            base = "history_"
        name = base[:SHEET_NAME_MAX].rstrip("'")
        n = 1
        while name.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[: SHEET_NAME_MAX - len(suffix)].rstrip("'") + suffix
        taken.add(name.casefold())
        names.append(name)
    return names


@contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """Yield a hidden staging folder beside ``folder``; on success its files are moved into ``folder`` (created if
    needed, other files there left alone), on failure it is removed and ``folder`` is untouched."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    try:
        yield staging
        folder.mkdir(exist_ok=True)
        for item in sorted(staging.rglob("*")):
            if item.is_file():
                target = folder / item.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(item, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def naive_utc(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC without its time zone, to the second (as spreadsheets and CSV files show it)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


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
