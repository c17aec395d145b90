"""Decisions in a spreadsheet: export a run's excerpts for review in Excel or LibreOffice, import the edits back.

The exported workbook (``.xlsx``) has one sheet, ``Décisions``, with one row per excerpt:

| column | meaning |
|---|---|
| ``excerpt_id``, ``question``, ``respondent_id`` | which excerpt (do not edit) |
| ``excerpt`` | the excerpt's text (do not edit: an edited text makes the row refused) |
| ``answer`` | the respondent's whole (pseudonymised) answer, for context |
| ``theme`` | the excerpt's current theme label when exported, ``(à revoir)`` when queued |
| ``status`` | ``machine``, ``queued``, ``accepted``, ``recoded``, ``rejected`` |
| ``code`` | **the column to edit**, pre-filled with ``theme``; a drop-down lists the themes and ``(rejeter)`` |
| ``accept`` | **optional**: ``x`` (or ``oui``, ``yes``, ``1``) to confirm the current theme without changing it |
| ``seen`` | hidden: the latest decision on the excerpt when exported (later ones by others: a conflict) |

The drop-down lists live in a hidden sheet, ``Thèmes``, one column per question (a data validation per question's
block of rows points to its column). Rows are sorted by question, then excerpt id.

Import (:func:`import_decisions`) reads the rows by header name (columns may be moved; rows may be re-sorted or
filtered) and records, for each **changed** row, one decision by the named researcher:

* ``code`` different from ``theme``: ``recode`` into the theme with that label, or ``reject`` for ``(rejeter)``;
* ``code`` equal to ``theme`` and ``accept`` marked: ``accept`` (of the current theme);
* anything else: unchanged, nothing recorded.

Rows that cannot be applied are reported with their spreadsheet row number (the header is row 1) and the reason,
and nothing is recorded for them: unknown excerpt id, excerpt of another question, edited excerpt text, unknown or
ambiguous theme label, an excerpt listed twice, an accept on a queued excerpt. The other rows are recorded together,
one batch per question (undo-able as one gesture).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from verbatim.errors import InputFileError
from verbatim.models.decisions import DecisionLog
from verbatim.models.machine_codes import run_questions
from verbatim.models.review import QUEUE, DecisionKind, ReviewStatus
from verbatim.models.store import Store

SHEET = "Décisions"
LISTS_SHEET = "Thèmes"
QUEUE_LABEL = "(à revoir)"
REJECT = "(rejeter)"
COLUMNS = ["excerpt_id", "question", "respondent_id", "excerpt", "answer", "theme", "status", "code", "accept", "seen"]
REQUIRED = ("excerpt_id", "question", "excerpt", "theme", "code")
YES = frozenset({"x", "oui", "o", "yes", "y", "1", "vrai", "true", "✓", "✔"})
_WIDTHS = {"excerpt_id": 16, "question": 14, "respondent_id": 12, "excerpt": 60, "answer": 60, "theme": 30,
           "status": 10, "code": 30, "accept": 8, "seen": 6}  # fmt: skip


def _text(value: Any) -> str:
    """A cell as text, the way it reads: line ends and Unicode form normalised, outer spaces removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text).strip()


def export_decisions(store: Store, run_id: str, path: Path) -> int:
    """Write the review workbook of ``run_id`` to ``path``; returns the number of excerpt rows."""
    log = DecisionLog(store)
    answers = {(a.question, a.respondent_id): a.text for a in store.answers(run_id)}
    excerpts = sorted(store.excerpts(run_id), key=lambda e: e.excerpt_id)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    sheet.append(COLUMNS)
    code_col = get_column_letter(COLUMNS.index("code") + 1)
    n_rows = 0
    for qi, question in enumerate(run_questions(store, run_id)):
        state = log.state(run_id, question)
        labels = [t.label for t in state.active_themes()]
        col = get_column_letter(qi + 1)
        lists.cell(row=1, column=qi + 1, value=question)
        for i, label in enumerate([*labels, REJECT], start=2):
            lists.cell(row=i, column=qi + 1, value=label)
        latest: dict[str, int] = {}
        for d in state.decisions:
            if d.excerpt_id is not None:
                latest[d.excerpt_id] = d.id
        first = n_rows + 2
        for e in (e for e in excerpts if e.question == question):
            code = state.codes.get(e.excerpt_id)
            if code is None:
                continue
            label = state.themes[code.theme_id].label if code.theme_id != QUEUE else QUEUE_LABEL
            sheet.append(
                [
                    e.excerpt_id, question, e.respondent_id, e.text, answers.get((question, e.respondent_id), ""),
                    label, str(code.status), label, "", latest.get(e.excerpt_id, 0),
                ]
            )  # fmt: skip
            n_rows += 1
        last = n_rows + 1
        if last >= first:
            validation = DataValidation(
                type="list",
                formula1=f"{quote_sheetname(LISTS_SHEET)}!${col}$2:${col}${len(labels) + 2}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Thème inconnu",
                error=f"Choisissez un thème de la question « {question} » ou {REJECT}.",
            )
            validation.add(f"{code_col}{first}:{code_col}{last}")
            sheet.add_data_validation(validation)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    editable = PatternFill("solid", fgColor="FFF2CC")
    for j, name in enumerate(COLUMNS, start=1):
        letter = get_column_letter(j)
        sheet.column_dimensions[letter].width = _WIDTHS[name]
        sheet.cell(row=1, column=j).font = bold
        if name in ("code", "accept"):
            sheet.cell(row=1, column=j).fill = editable
    sheet.column_dimensions[get_column_letter(COLUMNS.index("seen") + 1)].hidden = True
    for row in sheet.iter_rows(min_row=2, min_col=4, max_col=5):
        for cell in row:
            cell.alignment = wrap
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return n_rows


@dataclass(frozen=True)
class RowProblem:
    row: int  # spreadsheet row number (the header is row 1)
    excerpt_id: str
    reason: str


@dataclass(frozen=True)
class RowDecision:
    row: int
    excerpt_id: str
    question: str
    kind: DecisionKind
    to_theme_id: int | None
    theme_id: int | None
    seen: int | None


@dataclass
class ImportReport:
    decisions: list[RowDecision] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    unchanged: int = 0
    recorded: bool = False

    def counts(self) -> dict[str, int]:
        counts = {k.value: 0 for k in (DecisionKind.RECODE, DecisionKind.REJECT, DecisionKind.ACCEPT)}
        for d in self.decisions:
            counts[d.kind.value] += 1
        return {**counts, "unchanged": self.unchanged, "refused": len(self.problems)}


def _read_rows(path: Path) -> tuple[dict[str, int], list[tuple[int, tuple[Any, ...]]]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a zip, not a workbook, encrypted
        raise InputFileError(f"{path} cannot be read as an .xlsx workbook: {exc}") from exc
    sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise InputFileError(f"{path}: the sheet '{sheet.title}' is empty")
    columns = {_text(name): j for j, name in enumerate(header) if _text(name)}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputFileError(
            f"{path}: column(s) {', '.join(missing)} not found in sheet '{sheet.title}'; columns are: "
            f"{', '.join(columns)}. Export a fresh sheet with `verbatim decisions export`."
        )
    body = [(i, tuple(r)) for i, r in enumerate(rows, start=2) if any(_text(v) for v in r)]
    book.close()
    return columns, body


def plan_import(store: Store, run_id: str, path: Path) -> ImportReport:
    """What importing ``path`` would record (nothing is written): decisions per changed row, problems per row."""
    columns, body = _read_rows(path)
    log = DecisionLog(store)
    store.run(run_id)
    excerpts = {e.excerpt_id: e for e in store.excerpts(run_id)}
    states = {q: log.state(run_id, q) for q in run_questions(store, run_id)}
    labels: dict[str, dict[str, list[int]]] = {}
    for q, state in states.items():
        by_label: dict[str, list[int]] = {}
        for t in state.active_themes():
            by_label.setdefault(_text(t.label).casefold(), []).append(t.theme_id)
        labels[q] = by_label
    report = ImportReport()
    seen_rows: dict[str, int] = {}

    def cell(values: Sequence[Any], name: str) -> str:
        j = columns.get(name)
        return _text(values[j]) if j is not None and j < len(values) else ""

    for number, values in body:
        excerpt_id = cell(values, "excerpt_id")
        question = cell(values, "question")
        code, shown = cell(values, "code"), cell(values, "theme")
        accept = cell(values, "accept").casefold() in YES

        def refuse(reason: str, number: int = number, excerpt_id: str = excerpt_id) -> None:
            report.problems.append(RowProblem(number, excerpt_id, reason))

        excerpt = excerpts.get(excerpt_id)
        if excerpt is None:
            refuse(f"unknown excerpt id '{excerpt_id}' (not in run {run_id})" if excerpt_id else "no excerpt id")
            continue
        if question != excerpt.question:
            refuse(f"question '{question}' is wrong: excerpt {excerpt_id} belongs to '{excerpt.question}'")
            continue
        if cell(values, "excerpt") != _text(excerpt.text):
            refuse("the excerpt text was edited; only the 'code' and 'accept' columns may change")
            continue
        if excerpt_id in seen_rows:
            refuse(f"excerpt {excerpt_id} is listed twice (first at row {seen_rows[excerpt_id]})")
            continue
        seen_rows[excerpt_id] = number
        changed = code.casefold() != shown.casefold()
        if not changed and not accept:
            report.unchanged += 1
            continue
        state = states[excerpt.question]
        current = state.codes[excerpt_id]
        seen_text = cell(values, "seen")
        seen = int(seen_text) if seen_text.isdigit() else None
        if code.casefold() == REJECT.casefold():
            if current.status in (ReviewStatus.REJECTED, ReviewStatus.NO_THEME):
                report.unchanged += 1
                continue
            report.decisions.append(
                RowDecision(number, excerpt_id, excerpt.question, DecisionKind.REJECT, None, current.theme_id, seen)
            )
            continue
        if not code:
            refuse("the 'code' cell is empty: choose a theme from the list, or (rejeter)")
            continue
        matches = labels[excerpt.question].get(code.casefold(), [])
        if not changed and code.casefold() == QUEUE_LABEL.casefold():
            refuse("a queued excerpt cannot be accepted: choose a theme in 'code', or (rejeter)")
            continue
        if not matches:
            known = sorted(t.label for t in state.active_themes())
            refuse(f"unknown theme '{code}' for question '{excerpt.question}'; themes are: {'; '.join(known)}")
            continue
        if len(matches) > 1:
            refuse(f"theme label '{code}' names {len(matches)} themes of '{excerpt.question}': rename one first")
            continue
        target = matches[0]
        if not changed or target == current.theme_id:
            report.decisions.append(
                RowDecision(number, excerpt_id, excerpt.question, DecisionKind.ACCEPT, None, target, seen)
            )
        else:
            report.decisions.append(
                RowDecision(number, excerpt_id, excerpt.question, DecisionKind.RECODE, target, current.theme_id, seen)
            )
    return report


def import_decisions(store: Store, run_id: str, path: Path, coder: str, dry_run: bool = False) -> ImportReport:
    """Record the changed rows of ``path`` as ``coder``'s decisions (see the module docstring); rows with problems
    are reported and change nothing. With ``dry_run``, only the report."""
    report = plan_import(store, run_id, path)
    if dry_run or not report.decisions:
        return report
    log = DecisionLog(store)
    by_question: dict[str, list[RowDecision]] = {}
    for d in report.decisions:
        by_question.setdefault(d.question, []).append(d)
    for question, rows in by_question.items():
        log.decide_many(
            run_id,
            question,
            coder,
            [
                {"kind": d.kind, "excerpt_id": d.excerpt_id, "theme_id": d.theme_id, "to_theme_id": d.to_theme_id,
                 "seen_decision_id": d.seen}
                for d in rows
            ],
        )  # fmt: skip
    report.recorded = True
    return report
