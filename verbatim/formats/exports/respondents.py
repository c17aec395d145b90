"""The respondents table: one row per respondent of the survey file, its themes as 0/1 columns, for analysts.

Every respondent of the run is a row, in survey row order, whether its answers were coded, queued or rejected, so
the table merges back into the survey data on the id and crosses the themes with every closed question.

Columns (:func:`respondent_variables`), all valid SPSS variable names (ASCII letters, digits and ``_``, starting with
a letter, at most 64 characters, unique regardless of case):

* ``respondent_id``, then one column per attribute (in the order of the analysis; a name that SPSS would refuse is
  made valid: ``Années d'expérience`` → ``Annees_d_experience``, the original kept as its label);
* per question, numbered ``q1``, ``q2``… in the order of the run (the same numbers whichever questions are
  exported): ``qN_status`` (``coded``: at least one excerpt has a theme now; ``queued``: analysed, but no excerpt
  has a theme after review; ``rejected``: not analysed), ``qN_reason`` (why a rejected answer was: ``empty``,
  ``placeholder``, ``no_text``; blank otherwise), then ``qN_tXX`` for each active theme ``XX`` of the codebook as it
  stands after review: ``1`` when one of the respondent's excerpts currently has that theme, else ``0``.

CSV (UTF-8 ``,``; with ``excel_fr`` UTF-8 with BOM and ``;`` for French Excel, like the quotes); XLSX with a
``Variables`` sheet (each column's name, question, theme id and label); SPSS ``.sav`` (pyreadstat) with variable
labels (theme labels, question text, attribute names) and value labels (``0`` "non", ``1`` "oui"; status ``1``
coded, ``2`` queued, ``3`` rejected).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from verbatim.errors import ConfigError
from verbatim.formats.exports.cells import fill_sheet, naive_utc, write_atomically, write_csv
from verbatim.formats.exports.data import QuestionView, RunView
from verbatim.models.review import QUEUE

SUFFIXES = (".csv", ".xlsx", ".sav")
ID_COLUMN = "respondent_id"
RESPONDENTS_SHEET = "Respondents"
VARIABLES_SHEET = "Variables"
VARIABLE_COLUMNS = ["variable", "question", "theme_id", "label"]
YES_NO = {0: "non", 1: "oui"}
NAME_MAX = 64  # SPSS: bytes of a variable name
LABEL_MAX = 255  # SPSS: bytes of a variable label
SPSS_RESERVED = frozenset({"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"})


class AnswerState(StrEnum):
    """Where a respondent's answer to a question stands now (after review)."""

    CODED = "coded"
    QUEUED = "queued"
    REJECTED = "rejected"


STATUS_CODES = {AnswerState.CODED: 1, AnswerState.QUEUED: 2, AnswerState.REJECTED: 3}


@dataclass(frozen=True)
class Variable:
    """A column of the table: its name, its label, and for question columns the question (and theme)."""

    name: str
    label: str
    kind: str  # id | attribute | status | reason | theme
    question: str = ""
    theme_id: int | None = None
    key: str = ""  # the attribute read (attribute columns)


def spss_name(wanted: str, taken: set[str]) -> str:
    """A valid SPSS variable name for ``wanted``, not in ``taken`` (case-folded; the new name is added to it)."""
    ascii_name = unicodedata.normalize("NFKD", wanted).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_name).strip("_") or "var"
    if not base[0].isalpha():
        base = "v_" + base
    if base.upper() in SPSS_RESERVED:
        base += "_"
    base = base[:NAME_MAX]
    name, n = base, 1
    while name.casefold() in taken:
        n += 1
        suffix = f"_{n}"
        name = base[: NAME_MAX - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


def _number(run: RunView, question: QuestionView) -> int:
    return question.number or run.questions.index(question) + 1


def _theme_ids(question: QuestionView) -> list[int]:
    return sorted(t.theme_id for t in question.active_themes())


def respondent_variables(run: RunView) -> list[Variable]:
    """The columns of the table, in order (see the module docstring)."""
    taken = {ID_COLUMN.casefold()}
    per_question: list[Variable] = []
    for q in run.questions:
        prefix = f"q{_number(run, q)}"
        ids = _theme_ids(q)
        width = max(2, *(len(str(t)) for t in ids)) if ids else 2
        per_question += [
            Variable(spss_name(f"{prefix}_status", taken), f"{q.question} : statut", "status", q.question),
            Variable(spss_name(f"{prefix}_reason", taken), f"{q.question} : motif du rejet", "reason", q.question),
        ]
        per_question.extend(
            Variable(spss_name(f"{prefix}_t{t:0{width}d}", taken), q.label(t), "theme", q.question, t) for t in ids
        )
    attributes = [Variable(spss_name(a, taken), a, "attribute", key=a) for a in run.attributes]
    return [Variable(ID_COLUMN, "identifiant du répondant", "id"), *attributes, *per_question]


def answer_state(question: QuestionView, respondent_id: str, themed: set[str]) -> AnswerState | None:
    """``rejected`` when the answer was not analysed; ``coded`` when one of its excerpts has a theme now; else
    ``queued``; ``None`` when the respondent has no answer to the question in the store."""
    stored = question.statuses.get(respondent_id)
    if stored is None:
        return None
    if stored == AnswerState.REJECTED:
        return AnswerState.REJECTED
    return AnswerState.CODED if respondent_id in themed else AnswerState.QUEUED


def _current_themes(question: QuestionView) -> dict[str, set[int]]:
    themes: dict[str, set[int]] = {}
    for e in question.excerpts:
        if e.code.theme_id != QUEUE:
            themes.setdefault(e.respondent_id, set()).add(e.code.theme_id)
    return themes


def respondent_records(run: RunView) -> tuple[list[Variable], list[dict[str, Any]]]:
    """The columns and one record per respondent (survey row order): ``{name: value}``, status as an
    :class:`AnswerState` (or ``None``), themes as ``0``/``1``."""
    variables = respondent_variables(run)
    current = {q.question: _current_themes(q) for q in run.questions}
    themed = {question: set(by_respondent) for question, by_respondent in current.items()}
    questions = {q.question: q for q in run.questions}
    records = []
    for rid, attrs in run.respondents.items():
        record: dict[str, Any] = {}
        for v in variables:
            if v.kind == "id":
                record[v.name] = rid
            elif v.kind == "attribute":
                record[v.name] = attrs.get(v.key, "")
            else:
                q = questions[v.question]
                themes = current[v.question].get(rid, set())
                if v.kind == "status":
                    record[v.name] = answer_state(q, rid, themed[v.question])
                elif v.kind == "reason":
                    record[v.name] = q.reasons.get(rid, "")
                else:
                    record[v.name] = int(v.theme_id in themes)
        records.append(record)
    return variables, records


def _rows(variables: list[Variable], records: Iterable[dict[str, Any]]) -> list[list[Any]]:
    return [["" if r[v.name] is None else r[v.name] for v in variables] for r in records]


def write_respondents_csv(run: RunView, path: Path, excel_fr: bool = False) -> Path:
    variables, records = respondent_records(run)
    rows = [[str(x) if isinstance(x, AnswerState) else x for x in row] for row in _rows(variables, records)]
    return write_csv(path, [v.name for v in variables], rows, excel_fr)


def variable_rows(variables: list[Variable]) -> list[list[Any]]:
    """The ``Variables`` sheet: each column's name, question, theme id and label."""
    return [[v.name, v.question, v.theme_id, v.label] for v in variables]


def write_respondents_xlsx(run: RunView, path: Path) -> Path:
    """Sheet ``Respondents`` (the table), then sheet ``Variables``."""
    variables, records = respondent_records(run)
    rows = [[str(x) if isinstance(x, AnswerState) else x for x in row] for row in _rows(variables, records)]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = RESPONDENTS_SHEET
    fill_sheet(ws, [v.name for v in variables], rows)
    fill_sheet(wb.create_sheet(VARIABLES_SHEET), VARIABLE_COLUMNS, variable_rows(variables))
    wb.properties.creator = "Verbatim"
    wb.properties.created = naive_utc(run.created_at) or datetime(2000, 1, 1)
    wb.properties.modified = wb.properties.created
    return write_atomically(path, lambda tmp: wb.save(tmp))


def _clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def write_respondents_sav(run: RunView, path: Path) -> Path:
    """SPSS ``.sav``: status as numbers ``1``-``3``, themes ``0``/``1``, all with value labels; variable labels."""
    import pandas as pd
    import pyreadstat

    variables, records = respondent_records(run)
    columns: dict[str, Any] = {}
    value_labels: dict[str, dict[int | float, str]] = {}
    measures: dict[str, str] = {}
    for v in variables:
        values = [r[v.name] for r in records]
        if v.kind == "status":
            columns[v.name] = pd.Series([STATUS_CODES[s] if s else None for s in values], dtype="float64")
            value_labels[v.name] = {float(code): str(state) for state, code in STATUS_CODES.items()}
            measures[v.name] = "nominal"
        elif v.kind == "theme":
            columns[v.name] = pd.Series(values, dtype="int64")
            value_labels[v.name] = {float(k): label for k, label in YES_NO.items()}
            measures[v.name] = "nominal"
        else:
            columns[v.name] = pd.Series([str(x) for x in values], dtype=object)
            measures[v.name] = "nominal"
    frame = pd.DataFrame(columns, index=range(len(records)))
    labels: dict[str, str | None] = {v.name: _clip(v.label, LABEL_MAX) for v in variables}

    def write(tmp: Path) -> None:
        pyreadstat.write_sav(
            frame, str(tmp), file_label=_clip(f"Verbatim, run {run.run_id}", 64), column_labels=labels,
            variable_value_labels=value_labels, variable_measure=measures,
        )  # fmt: skip

    return write_atomically(path, write)


def write_respondents(run: RunView, path: Path, excel_fr: bool = False) -> Path:
    """The table in the format ``path``'s suffix names: ``.csv``, ``.xlsx`` or ``.sav``."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_respondents_csv(run, path, excel_fr)
    if excel_fr:
        raise ConfigError("--excel-fr applies to CSV files: give --out a name ending in .csv")
    if suffix == ".xlsx":
        return write_respondents_xlsx(run, path)
    if suffix == ".sav":
        return write_respondents_sav(run, path)
    raise ConfigError(f"--format respondents writes a .csv, .xlsx or .sav file: got {path.name}")
