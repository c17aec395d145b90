"""Read a survey export (CSV or XLSX) and turn the chosen columns into respondents and answers.

Two steps, so that the command line can check the columns before any work is done:

1. :func:`read_survey` reads the file as it is: every cell as text (``"NA"``, ``"None"`` and ``"007"`` stay
   what they are), line endings inside cells turned into ``"\\n"``, text in Unicode NFC form, headers
   stripped. CSV files may be UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1252, separated by
   ``,`` ``;`` or tabs; XLSX files are read with openpyxl, the first sheet unless one is named. Rows that are
   blank in every cell are skipped. The frame's index holds the 1-based *data row* number of each row (the
   header is not counted), so row numbers in messages match the file.
2. :func:`build_answers` checks the respondent ids (present and unique, all problems listed at once) and makes
   one :class:`~verbatim.models.records.Respondent` per row and one :class:`~verbatim.models.records.Answer`
   per (question, respondent). Empty answers and placeholders ("RAS", "Néant", "-"...) are rejected here, with
   their reason, so that counts add up from the first step.

Every problem with the file raises :class:`~verbatim.errors.InputFileError`, with the columns
:class:`~verbatim.errors.ColumnError`, with the rows :class:`~verbatim.errors.SurveyDataError`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import functools
import hashlib
import io
import math
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import charset_normalizer
import pandas as pd

from verbatim.errors import ColumnError, ConfigError, InputFileError, SurveyDataError
from verbatim.models.records import Answer, AnswerStatus, RejectReason, Respondent
from verbatim.models.tables import MAX_ID, MAX_QUESTION

__all__ = [
    "DEFAULT_PLACEHOLDERS",
    "SUPPORTED_SUFFIXES",
    "Ingested",
    "SurveyTable",
    "build_answers",
    "is_placeholder",
    "read_survey",
    "select_columns",
]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + EXCEL_SUFFIXES
DELIMITERS = (",", ";", "\t")

#: Answers that say "nothing to say". Compared after normalisation (lower case, accents removed, typographic
#: apostrophes made straight, spaces collapsed, trailing punctuation and wrapping quotes or brackets
#: removed), so "R.A.S.", " ras ", "« Néant »" and "Non." all match.
DEFAULT_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        # rien à signaler
        "ras",
        "r.a.s",
        "r a s",
        "rien",
        "rien à signaler",
        "rien à dire",
        "rien de particulier",
        "rien à ajouter",
        "néant",
        "neant",
        "non",
        "non merci",
        "no",
        "none",
        "aucun",
        "aucune",
        "aucun commentaire",
        "aucune remarque",
        "aucune idée",
        "pas d'idée",
        "pas de commentaire",
        "pas de remarque",
        "pas de réponse",
        "sans commentaire",
        "sans réponse",
        # ne sait pas, sans avis
        "nsp",
        "nspp",
        "ne sais pas",
        "je ne sais pas",
        "je sais pas",
        "sais pas",
        "ne se prononce pas",
        "sans avis",
        "pas d'avis",
        "sans opinion",
        # not applicable
        "n/a",
        "na",
        "n.a",
        "nc",
        "n.c",
        "sans objet",
        "non applicable",
        "non concerné",
        "non concernée",
        "pas concerné",
        "pas concernée",
        # export artefacts and filler signs
        "null",
        "nan",
        "x",
        "xx",
        "xxx",
        "-",
        "--",
        "---",
        "/",
        "//",
        ".",
        "..",
        "...",
        "…",
        "?",
        "??",
        "???",
        "*",
    }
)

_MAX_LISTED = 20  # how many ids, rows or columns a message names before "and N more"
_SNIFF_CHARS = 64 * 1024  # text sample used to find the delimiter
_SNIFF_RECORDS = 50  # records of that sample compared for a consistent column count
_CONFIDENT_CHAOS = 0.1  # charset-normalizer's "mess" ratio above which its guess is not trusted
_ROW_NOTE = "row numbers count data rows from 1, the header is not counted"

_ZIP_SIGNATURE = b"PK\x03\x04"
MAX_WORKBOOK_INFLATED = 2**30  # bytes a workbook's parts may inflate to
MAX_WORKBOOK_RATIO = 200  # and at most this many times the file's size (above 50 MiB)
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc, password-protected .xlsx
_PDF_SIGNATURE = b"%PDF-"

# Characters that Windows-1252 gives to bytes 0x80-0x9F and that French text practically never holds: finding
# them means the file is most likely in another 8-bit encoding (DOS cp850 gives "‚" for "é" and "Š" for "è").
_UNLIKELY_CP1252 = frozenset("‚ƒ„†‡ˆ‰Š‹Ž˜š›žŸ")
_FRENCH_NON_ASCII = frozenset("àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ«»‘’“”–—…€°•·")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_TRAILING_PUNCTUATION = ".!?,;:…"
_WRAPPING = "\"'«»“”„()[]{}"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width characters that str.strip() keeps


# ------------------------------------------------------------------------------------------------------------
# The table as read


@dataclass(frozen=True)
class SurveyTable:
    """A survey export as read: every cell as text, one row per respondent.

    ``frame`` has one ``str`` column per header cell (empty cells are ``""``, never NaN) and its index, named
    ``row``, holds the 1-based data row number of each row (the header is not counted; blank rows are skipped
    but keep their number).
    """

    path: Path
    encoding: str | None  # the text encoding of a CSV file; None for a workbook
    delimiter: str | None  # "," ";" or "\t" for a CSV file; None for a workbook
    sheet: str | None  # the sheet read from a workbook; None for a CSV file
    columns: list[str]
    n_rows: int
    sha256: str  # of the file's bytes
    frame: pd.DataFrame = field(repr=False)

    @property
    def source(self) -> str:
        """The file (and sheet) as messages name it."""
        if self.sheet is not None:
            return f"sheet '{self.sheet}' of '{self.path}'"
        return f"'{self.path}'"


def read_survey(path: Path | str, sheet: str | None = None) -> SurveyTable:
    """Read a CSV or XLSX survey export; ``sheet`` names the sheet of a workbook (default: the first one)."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"survey file '{path}' not found")
    if path.is_dir():
        raise InputFileError(f"'{path}' is a folder, not a survey file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputFileError(_unsupported_message(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"survey file '{path}' cannot be read: {exc.strerror or exc}") from exc
    if not data:
        raise InputFileError(f"survey file '{path}' is empty (0 bytes)")
    sha256 = hashlib.sha256(data).hexdigest()

    encoding: str | None = None
    delimiter: str | None = None
    sheet_name: str | None = None
    if suffix in EXCEL_SUFFIXES:
        sheet_name, cells = _read_workbook(path, data, sheet)
        where = f"sheet '{sheet_name}' of '{path}'"
    else:
        if sheet is not None:
            raise ConfigError(f"a sheet ('{sheet}') was given but '{path}' is a CSV file, which has no sheets")
        encoding, text = _decode(path, data)
        delimiter = _detect_delimiter(text)
        cells = _parse_csv(path, text, delimiter)
        where = f"'{path}'"

    columns, frame = _frame_from_cells(where, cells, workbook=suffix in EXCEL_SUFFIXES)
    return SurveyTable(
        path=path,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet_name,
        columns=columns,
        n_rows=len(frame),
        sha256=sha256,
        frame=frame,
    )


def _unsupported_message(path: Path) -> str:
    supported = ", ".join(SUPPORTED_SUFFIXES)
    message = f"'{path}' has an unsupported extension '{path.suffix or '(none)'}'; supported are: {supported}"
    hints = {
        ".xls": "save the workbook as .xlsx or as CSV UTF-8",
        ".ods": "save the spreadsheet as .xlsx or as CSV UTF-8",
        ".zip": "extract the survey export from the archive first",
    }
    hint = hints.get(path.suffix.lower())
    return f"{message}; {hint}" if hint else message


# ------------------------------------------------------------------------------------------------------------
# CSV: bytes to text


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """Return (encoding, text) of a CSV file's bytes; raise InputFileError for binary or undecodable files."""
    _reject_known_binary(path, data)
    for bom, encoding, label in (
        (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
        (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
        (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
        (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
    ):
        if data.startswith(bom):
            try:
                return encoding, data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputFileError(
                    f"'{path}' starts with a {label} byte order mark but is not valid {label} (bad bytes "
                    f"at offset {exc.start}): save it again as CSV UTF-8"
                ) from exc
    if b"\x00" in data:
        raise InputFileError(
            f"'{path}' is a binary file, not a CSV text file (it contains NUL bytes): export the survey as "
            "CSV UTF-8 or as .xlsx"
        )
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _unlikely_cp1252(text):
        return "cp1252", text
    # charset-normalizer, best guess first. On short files it may rank e.g. mac_greek first for a DOS-French
    # file, so a guess is taken only when it is confident and gives text made of the letters French uses.
    for guess in charset_normalizer.from_bytes(data):
        if guess.chaos <= _CONFIDENT_CHAOS and _plausible_french(str(guess)):
            return guess.encoding, str(guess)
    raise InputFileError(
        f"the text encoding of '{path}' cannot be told (it is neither UTF-8 nor Windows-1252): open it in a "
        "spreadsheet or text editor and save it as CSV UTF-8"
    )


def _reject_known_binary(path: Path, data: bytes) -> None:
    if data.startswith(_ZIP_SIGNATURE):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                mimetype = archive.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
        except (zipfile.BadZipFile, OSError, KeyError):
            names, mimetype = {"xl/workbook.xml"}, ""  # a damaged zip: most likely a workbook
        if "xl/workbook.xml" in names:
            raise InputFileError(f"'{path}' is not a CSV text file: this looks like an Excel file, rename it .xlsx")
        if "opendocument" in mimetype:
            raise InputFileError(
                f"'{path}' is not a CSV text file: this looks like an OpenDocument (.ods) spreadsheet; save "
                "it as .xlsx or as CSV UTF-8"
            )
        raise InputFileError(
            f"'{path}' is not a CSV text file: this looks like a zip archive; extract the survey export from it"
        )
    if data.startswith(_OLE_SIGNATURE):
        raise InputFileError(
            f"'{path}' is not a CSV text file: this looks like an Excel 97-2003 (.xls) workbook or another "
            "Office file; save it as .xlsx or as CSV UTF-8"
        )
    if data.startswith(_PDF_SIGNATURE):
        raise InputFileError(f"'{path}' is not a CSV text file: this looks like a PDF document")


def _plausible_french(text: str) -> bool:
    """True when at least 90 % of the non-ASCII characters of text are ones French text uses."""
    non_ascii = [char for char in text if ord(char) > 127 and not char.isspace()]
    if not non_ascii:
        return True
    return sum(1 for char in non_ascii if char in _FRENCH_NON_ASCII) >= 0.9 * len(non_ascii)


def _unlikely_cp1252(text: str) -> bool:
    """True when Windows-1252 decoding gives characters French text does not hold (another 8-bit encoding)."""
    unlikely = sum(1 for char in text if char in _UNLIKELY_CP1252)
    if not unlikely:
        return False
    non_ascii = sum(1 for char in text if ord(char) > 127)
    return unlikely >= 0.1 * non_ascii


# ------------------------------------------------------------------------------------------------------------
# CSV: text to cells


def _detect_delimiter(text: str) -> str:
    """Pick "," ";" or tab: csv.Sniffer's choice if it parses as consistently as the best candidate, else the
    candidate whose rows most often have as many cells as the header."""
    sample = text[:_SNIFF_CHARS]
    truncated = len(text) > len(sample)
    try:
        sniffed: str | None = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    scores = {delimiter: _consistency(sample, delimiter, truncated) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: scores[delimiter])  # ties: the first in DELIMITERS order
    if sniffed in scores and scores[sniffed][:2] == scores[best][:2]:
        return sniffed
    if scores[best][0]:
        return best
    return sniffed or ","  # a single column whatever the delimiter


def _consistency(sample: str, delimiter: str, truncated: bool) -> tuple[bool, float, int]:
    """(several columns?, share of rows with the header's cell count, header cell count) over the sample."""
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar='"'):
            if any(cell.strip() for cell in record):
                records.append(record)
            if len(records) > _SNIFF_RECORDS:
                break
    except csv.Error:
        return (False, 0.0, 0)
    if truncated and len(records) > 1:
        records.pop()  # may be cut in the middle
    if not records:
        return (False, 0.0, 0)
    width = len(records[0])
    rows = records[1:_SNIFF_RECORDS]
    fitting = sum(1 for row in rows if len(row) == width or not any(cell.strip() for cell in row[width:]))
    return (width > 1, fitting / len(rows) if rows else 1.0, width)


def _parse_csv(path: Path, text: str, delimiter: str) -> list[list[str]]:
    """Split the text into records of cells (quoted cells may span lines); line endings become "\\n"."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    records: list[list[str]] = []
    last_line = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=True)
    try:
        for record in reader:
            records.append(record)
            last_line = reader.line_num
    except csv.Error as exc:
        message = str(exc)
        if "unexpected end of data" in message or "field limit" in message:
            raise InputFileError(
                f"in '{path}', a quoted cell that starts on line {last_line + 1} is never closed: look for a "
                'stray double quote (") on that line, or save the file again from the survey tool'
            ) from exc
        # Text after a closing quote ('"oui" mais'): read it leniently, as spreadsheets do.
        records = _parse_csv_lenient(path, text, delimiter)
    return records


def _parse_csv_lenient(path: Path, text: str, delimiter: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False))
    except csv.Error as exc:
        raise InputFileError(f"'{path}' cannot be read as CSV: {exc}") from exc


# ------------------------------------------------------------------------------------------------------------
# XLSX


def _read_workbook(path: Path, data: bytes, sheet: str | None) -> tuple[str, list[list[str]]]:
    """Return (sheet name, cells as text) of one sheet of a workbook."""
    if not data.startswith(_ZIP_SIGNATURE):
        if data.startswith(_OLE_SIGNATURE):
            raise InputFileError(
                f"'{path}' is an Excel 97-2003 (.xls) workbook or a password-protected one, which cannot be "
                "read: open it in Excel or LibreOffice and save it as .xlsx without a password, or as CSV "
                "UTF-8"
            )
        if b"\x00" not in data[:4096]:
            raise InputFileError(
                f"'{path}' is not an Excel workbook: it looks like a text file; if it is a CSV export, rename it .csv"
            )
        raise InputFileError(f"'{path}' is not an Excel workbook (.xlsx): export the survey again as .xlsx or CSV")
    _refuse_zip_bomb(path, data)
    try:
        with pd.ExcelFile(io.BytesIO(data), engine="openpyxl") as book:
            names = [str(name) for name in book.sheet_names]
            if not names:
                raise InputFileError(f"workbook '{path}' has no sheet")
            if sheet is None:
                sheet = names[0]
            elif sheet not in names:
                raise InputFileError(
                    f"sheet '{sheet}' not found in '{path}'{_did_you_mean(sheet, names)}; sheets are: "
                    f"{_quoted_list(names)}"
                )
            raw = pd.read_excel(
                book, sheet_name=sheet, header=None, dtype=object, keep_default_na=False, na_filter=False
            )
    except InputFileError:
        raise
    # openpyxl's failures on a damaged workbook vary with the damage.
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, ParseError) as exc:
        raise InputFileError(
            f"'{path}' cannot be read as an Excel workbook ({type(exc).__name__}: {exc}): open it in Excel "
            "or LibreOffice and save it again as .xlsx, or as CSV UTF-8"
        ) from exc
    if raw.empty:
        others = [name for name in names if name != sheet]
        hint = f"; the other sheets are: {_quoted_list(others)}" if others else ""
        raise InputFileError(f"sheet '{sheet}' of '{path}' is empty{hint}")
    return sheet, [[_excel_cell(value) for value in row] for row in raw.itertuples(index=False, name=None)]


def _refuse_zip_bomb(path: Path, data: bytes) -> None:
    """A workbook is a zip archive: refuse one whose parts would inflate beyond what any survey export needs (a
    zip bomb), before openpyxl inflates anything. The sizes are the archive's own; Python's zipfile never inflates a
    part beyond its stated size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # a damaged archive: openpyxl's reading says what is wrong
    if inflated > MAX_WORKBOOK_INFLATED or (inflated > 50 * 2**20 and inflated > MAX_WORKBOOK_RATIO * len(data)):
        raise InputFileError(
            f"'{path}' would inflate to {inflated / 2**20:,.0f} MiB once unzipped (from {len(data) / 2**20:,.1f} "
            "MiB): refused, as a workbook this size is not a survey export (a zip bomb?); export the survey as CSV "
            "UTF-8 instead"
        )


def _excel_cell(value: Any) -> str:
    """The text of a workbook cell: whole numbers without ".0", dates in ISO form, errors and blanks as ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):  # error cells (#N/A, #DIV/0!) come as NaN
            return ""
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# ------------------------------------------------------------------------------------------------------------
# Cells to frame


def _clean_cell(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _clean_name(name: str) -> str:
    return _clean_cell(name).strip().strip(_INVISIBLE).strip()


def _is_blank(text: str) -> bool:
    return not text.strip().strip(_INVISIBLE).strip()


def _frame_from_cells(where: str, records: list[list[str]], workbook: bool) -> tuple[list[str], pd.DataFrame]:
    records = [[_clean_cell(cell) for cell in record] for record in records]
    start = 0
    while start < len(records) and all(_is_blank(cell) for cell in records[start]):
        start += 1  # blank lines above the header
    if start == len(records):
        raise InputFileError(f"{where} is empty: it has no header and no rows")
    header = [_clean_name(cell) for cell in records[start]]
    width = len(header)

    rows: list[tuple[int, list[str]]] = []
    too_long: list[int] = []
    for number, record in enumerate(records[start + 1 :], start=1):
        if len(record) > width:
            if any(not _is_blank(cell) for cell in record[width:]):
                too_long.append(number)
            record = record[:width]
        elif len(record) < width:
            record = record + [""] * (width - len(record))
        if not all(_is_blank(cell) for cell in record):
            rows.append((number, record))
    if too_long:
        raise InputFileError(
            f"{where}: {_rows_phrase(too_long)} {'has' if len(too_long) == 1 else 'have'} more cells than "
            f"the header ({width} columns); check that cells holding the delimiter or line breaks are quoted "
            f"({_ROW_NOTE})"
        )

    # Columns without a header: dropped when empty (a trailing delimiter), else named after their position.
    keep: list[int] = []
    names: list[str] = []
    for index, name in enumerate(header):
        if not name:
            if all(_is_blank(record[index]) for _, record in rows):
                continue
            name = f"unnamed_{_column_label(index, workbook)}"
        keep.append(index)
        names.append(name)
    positions: dict[str, list[int]] = {}
    for index, name in zip(keep, names, strict=True):
        positions.setdefault(name, []).append(index)
    duplicates = {name: found for name, found in positions.items() if len(found) > 1}
    if duplicates:
        listed = [
            f"'{name}' (columns {_and_list([_column_label(i, workbook) for i in found])})"
            for name, found in duplicates.items()
        ]
        raise InputFileError(
            f"the header of {where} has duplicate column names: {_and_list(listed)}; rename them so that "
            "each column name is unique"
        )
    if not rows:
        raise InputFileError(f"{where} has a header but no rows")

    frame = pd.DataFrame(
        {name: [record[index] for _, record in rows] for index, name in zip(keep, names, strict=True)},
        index=pd.Index([number for number, _ in rows], name="row"),
        dtype=str,
    )
    return names, frame


def _column_label(index: int, workbook: bool) -> str:
    """A 0-based column index as users see it: 'C' in a workbook, '3' in a CSV file."""
    if not workbook:
        return str(index + 1)
    label = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


# ------------------------------------------------------------------------------------------------------------
# Columns


def select_columns(table: SurveyTable, id_column: str, questions: Sequence[str], attributes: Sequence[str]) -> None:
    """Check that the id, question and attribute columns exist; raise ColumnError naming every missing one."""
    id_column = _clean_name(id_column)
    question_names = [_clean_name(name) for name in _as_names(questions)]
    attribute_names = [_clean_name(name) for name in _as_names(attributes)]

    problems: list[str] = []
    if not question_names:
        problems.append("no question column was given: name at least one open-question column")
    if id_column in question_names:
        problems.append(f"column '{id_column}' is the id column and cannot also be a question")
    seen: set[str] = set()
    for name in question_names:
        if name in seen:
            problems.append(f"question column '{name}' is given twice")
        seen.add(name)
    both = [name for name in dict.fromkeys(attribute_names) if name in seen]
    problems.extend(f"column '{name}' is given both as a question and as an attribute" for name in both)
    problems.extend(
        f"question column '{name[:60]}…' has a name of {len(name)} characters, more than the {MAX_QUESTION} kept: "
        "shorten its header in the file"
        for name in question_names
        if len(name) > MAX_QUESTION
    )
    if problems:
        raise ColumnError("; ".join(problems))

    available = set(table.columns)
    requested = [("id column", id_column)]
    requested += [("question column", name) for name in question_names]
    requested += [("attribute column", name) for name in attribute_names]
    missing = [(role, name) for role, name in dict.fromkeys(requested) if name not in available]
    if not missing:
        return
    columns = f"columns are: {_quoted_list(table.columns)}"
    if len(missing) == 1:
        role, name = missing[0]
        raise ColumnError(f"{role} '{name}' not found in {table.source}{_did_you_mean(name, table.columns)}; {columns}")
    listed = [f"{role} '{name}'{_did_you_mean(name, table.columns)}" for role, name in missing]
    raise ColumnError(f"{len(missing)} columns not found in {table.source}: {', '.join(listed)}; {columns}")


def _as_names(names: Sequence[str]) -> list[str]:
    return [names] if isinstance(names, str) else list(names)


def _did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """' (did you mean 'Q 12'?)' when a candidate is close to name, else ''."""
    key = _loose_key(name)
    same = [candidate for candidate in candidates if _loose_key(candidate) == key]
    if not same:
        by_key = {_loose_key(candidate): candidate for candidate in reversed(candidates)}
        same = [by_key[match] for match in difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.6)]
    return f" (did you mean '{same[0]}'?)" if same else ""


def _loose_key(name: str) -> str:
    """Case, accents, spaces and punctuation removed: 'Q 12' and 'q12', 'Région' and 'region' match."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if char.isalnum())


# ------------------------------------------------------------------------------------------------------------
# Respondents and answers


@dataclass
class Ingested:
    """The respondents of a survey and their answers, rejected ones (empty, placeholder) marked with a reason.

    ``answers`` holds one answer per (question, respondent), question by question, respondents in file order.
    """

    respondents: list[Respondent]
    answers: list[Answer]
    questions: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per question: ``rows``, ``to_analyse``, ``empty``, ``placeholder`` (the last three add up to
        ``rows``)."""
        counts = {question: _zero_counts() for question in self.questions}
        for answer in self.answers:
            tally = counts.setdefault(answer.question, _zero_counts())
            tally["rows"] += 1
            if answer.reason is RejectReason.EMPTY:
                tally["empty"] += 1
            elif answer.reason is RejectReason.PLACEHOLDER:
                tally["placeholder"] += 1
            else:
                tally["to_analyse"] += 1
        return counts


def _zero_counts() -> dict[str, int]:
    return {"rows": 0, "to_analyse": 0, "empty": 0, "placeholder": 0}


def build_answers(
    table: SurveyTable,
    id_column: str,
    questions: Sequence[str],
    attributes: Sequence[str],
    placeholders: Iterable[str] = DEFAULT_PLACEHOLDERS,
) -> Ingested:
    """Make the respondents and their answers to ``questions``.

    Raise ColumnError for missing columns, SurveyDataError for missing or repeated respondent ids (all of
    them) and when no answer is left to analyse. ``placeholders`` replaces :data:`DEFAULT_PLACEHOLDERS`.
    """
    select_columns(table, id_column, questions, attributes)
    id_column = _clean_name(id_column)
    question_names = [_clean_name(name) for name in _as_names(questions)]
    attribute_names = list(dict.fromkeys(_clean_name(name) for name in _as_names(attributes)))
    frame = table.frame
    rows = [int(number) for number in frame.index]
    ids = [_strip(cell) for cell in frame[id_column].tolist()]
    _check_ids(table, id_column, rows, ids)

    attribute_values = {name: [_strip(cell) for cell in frame[name].tolist()] for name in attribute_names}
    respondents = [
        Respondent(
            respondent_id=respondent_id,
            row=row,
            attributes={name: values[position] for name, values in attribute_values.items()},
        )
        for position, (respondent_id, row) in enumerate(zip(ids, rows, strict=True))
    ]

    keys = _placeholder_keys(_as_placeholder_set(placeholders))
    answers: list[Answer] = []
    for question in question_names:
        for respondent, cell in zip(respondents, frame[question].tolist(), strict=True):
            text = _strip(cell)
            reason: RejectReason | None = None
            if not text:
                reason = RejectReason.EMPTY
            elif _matches_placeholder(text, keys):
                reason = RejectReason.PLACEHOLDER
            answers.append(
                Answer(
                    question=question,
                    respondent_id=respondent.respondent_id,
                    row=respondent.row,
                    text=text,
                    status=AnswerStatus.REJECTED if reason else None,
                    reason=reason,
                )
            )
    ingested = Ingested(respondents=respondents, answers=answers, questions=question_names)

    counts = ingested.counts()
    if not any(tally["to_analyse"] for tally in counts.values()):
        empty = sum(tally["empty"] for tally in counts.values())
        placeholder = sum(tally["placeholder"] for tally in counts.values())
        raise SurveyDataError(
            f"no answer to analyse in {'column' if len(question_names) == 1 else 'columns'} "
            f"{_quoted_list(question_names)} of {table.source}: {empty} empty, {placeholder} "
            f"{'placeholder' if placeholder == 1 else 'placeholders'} (such as 'RAS' or '-'); check that "
            "these are the open-question columns"
        )
    return ingested


def _strip(text: str) -> str:
    return text.strip().strip(_INVISIBLE).strip()


def _check_ids(table: SurveyTable, id_column: str, rows: list[int], ids: list[str]) -> None:
    """Raise SurveyDataError naming every row without an id and every id used more than once."""
    missing = [row for row, respondent_id in zip(rows, ids, strict=True) if not respondent_id]
    seen: dict[str, list[int]] = {}
    for row, respondent_id in zip(rows, ids, strict=True):
        if respondent_id:
            seen.setdefault(respondent_id, []).append(row)
    repeated = {respondent_id: found for respondent_id, found in seen.items() if len(found) > 1}
    too_long = [row for row, respondent_id in zip(rows, ids, strict=True) if len(respondent_id) > MAX_ID]
    if not missing and not repeated and not too_long:
        return
    problems: list[str] = []
    if missing:
        has = "row has" if len(missing) == 1 else "rows have"
        problems.append(f"{len(missing)} {has} no id ({_rows_phrase(missing)})")
    if repeated:
        listed = [f"'{respondent_id}' ({_rows_phrase(found)})" for respondent_id, found in repeated.items()]
        problems.append(
            f"{len(repeated)} {'id is' if len(repeated) == 1 else 'ids are'} used more than once: "
            f"{_capped_list(listed, unit='more ids')}"
        )
    if too_long:
        has = "row has an id" if len(too_long) == 1 else "rows have ids"
        problems.append(f"{len(too_long)} {has} longer than {MAX_ID} characters ({_rows_phrase(too_long)})")
    raise SurveyDataError(
        f"respondent ids in column '{id_column}' of {table.source} must be present, unique and at most {MAX_ID} "
        "characters: "
        f"{'; '.join(problems)} ({_ROW_NOTE})"
    )


# ------------------------------------------------------------------------------------------------------------
# Placeholders


def is_placeholder(text: str, placeholders: Iterable[str] = DEFAULT_PLACEHOLDERS) -> bool:
    """True when ``text`` says "nothing to say" ("RAS", "R.A.S.", " ras ", "Néant", "-", "NSP", "Non."...).

    Both sides are compared after normalisation: lower case, accents removed, typographic apostrophes made
    straight, spaces collapsed, trailing punctuation and wrapping quotes or brackets removed. An empty text is
    not a placeholder (it is empty).
    """
    return _matches_placeholder(text, _placeholder_keys(_as_placeholder_set(placeholders)))


def _as_placeholder_set(placeholders: Iterable[str]) -> frozenset[str]:
    if isinstance(placeholders, str):  # one placeholder, not its characters
        return frozenset({placeholders})
    return placeholders if isinstance(placeholders, frozenset) else frozenset(placeholders)


@functools.lru_cache(maxsize=16)
def _placeholder_keys(placeholders: frozenset[str]) -> frozenset[str]:
    keys = set()
    for placeholder in placeholders:
        full, core = _placeholder_forms(placeholder)
        keys.add(core or full)
    keys.discard("")
    return frozenset(keys)


def _matches_placeholder(text: str, keys: frozenset[str]) -> bool:
    full, core = _placeholder_forms(text)
    return bool(full) and (full in keys or core in keys)


def _placeholder_forms(text: str) -> tuple[str, str]:
    """(normalised text, the same without trailing punctuation and wrapping quotes or brackets)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    full = " ".join(
        "".join(char for char in decomposed if not unicodedata.combining(char)).translate(_APOSTROPHES).split()
    )
    core, previous = full, None
    while core != previous:
        previous = core
        core = core.rstrip(_TRAILING_PUNCTUATION + " ").strip(_WRAPPING + " ")
    return full, core


# ------------------------------------------------------------------------------------------------------------
# Message helpers


def _and_list(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _capped_list(items: Sequence[str], unit: str = "more") -> str:
    """Like _and_list, naming at most _MAX_LISTED items and counting the others ('... and 12 more')."""
    if len(items) <= _MAX_LISTED:
        return _and_list(items)
    return f"{', '.join(items[:_MAX_LISTED])} and {len(items) - _MAX_LISTED} {unit}"


def _rows_phrase(rows: Sequence[int]) -> str:
    """'data row 3', 'data rows 3 and 17', 'data rows 1, 2, ... and 40 more'."""
    word = "data row" if len(rows) == 1 else "data rows"
    return f"{word} {_capped_list([str(row) for row in rows])}"


def _quoted_list(names: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)
