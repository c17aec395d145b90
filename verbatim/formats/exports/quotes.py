"""The coded quotes: one row per excerpt, as CSV or XLSX, with the respondent's attributes and the review state.

Columns (:func:`quote_columns`): ``question, respondent_id``, one column per respondent attribute (in the order of
the analysis), ``excerpt_id, start, end, excerpt, answer`` (the whole pseudonymised answer; ``answer[start:end] ==
excerpt``), ``theme_id, theme`` (the current theme and its current label, after renames and merges; ``-1`` and
``(à revoir)`` for the review queue), ``family`` (the current theme's family, after renames and moves; empty for
the review queue), ``machine_theme`` (the machine's theme, followed through merges), ``score``
(the machine's score), ``status`` (``machine``, ``accepted``, ``recoded``, ``rejected``, ``queued``), ``decided_by``
and ``decided_at`` (who made the latest decision on the excerpt and when, UTC).

CSV: UTF-8, ``,``, ``\\n`` by default; the French Excel flavour (``excel_fr``) is UTF-8 with BOM, ``;``, ``\\r\\n``
and decimal commas. XLSX: one sheet per question plus a ``Codebook`` sheet. Text cells are made inert against
formula injection (see :mod:`verbatim.formats.exports.cells`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from verbatim.formats.exports.cells import fill_sheet, sheet_names, write_atomically, write_csv
from verbatim.formats.exports.cells import naive_utc as _utc
from verbatim.formats.exports.codebook import CODEBOOK_SHEET, codebook_columns, codebook_rows
from verbatim.formats.exports.data import QuestionView, RunView

BASE_COLUMNS = ["question", "respondent_id"]
EXCERPT_COLUMNS = [
    "excerpt_id", "start", "end", "excerpt", "answer", "theme_id", "theme", "family", "machine_theme", "score",
    "status", "decided_by", "decided_at",
]  # fmt: skip


def quote_columns(run: RunView) -> list[str]:
    return [*BASE_COLUMNS, *run.attributes, *EXCERPT_COLUMNS]


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
                question.family_label(e.code.theme_id), question.label(e.machine_theme_id), round(e.code.score, 4),
                str(e.code.status), e.code.decided_by or "", _utc(e.code.decided_at),
            ]
        )  # fmt: skip
    return rows


def write_quotes_csv(run: RunView, path: Path, validated_only: bool = False, excel_fr: bool = False) -> Path:
    rows = [r for q in run.questions for r in quote_rows(run, q, validated_only)]
    return write_csv(path, quote_columns(run), rows, excel_fr)


def write_quotes_xlsx(run: RunView, path: Path, validated_only: bool = False) -> Path:
    """One sheet per question (names made safe for Excel), then the ``Codebook`` sheet."""
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
