"""The specificities table: per question, theme and attribute value, the respondents of the group carrying the theme
against an even spread, with the exact test of :mod:`verbatim.models.specificities`.

Columns: ``question, theme_id, theme, attribute, value, n, group_size, expected, ratio, p_value, p_adjusted,
direction`` (``over``, ``under`` or empty). CSV (or French Excel CSV) and XLSX."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from verbatim.formats.exports.cells import fill_sheet, naive_utc, write_atomically, write_csv
from verbatim.formats.exports.citations import Quote, citable_quotes
from verbatim.formats.exports.data import QuestionView, RunView
from verbatim.models.review import QUEUE
from verbatim.models.specificities import Direction, Specificity, specificities

COLUMNS = ["question", "theme_id", "theme", "attribute", "value", "n", "group_size", "expected", "ratio", "p_value",
           "p_adjusted", "direction"]  # fmt: skip


def question_specificities(run: RunView, q: QuestionView) -> list[Specificity]:
    """Every theme x attribute value cell of question ``q``: counts per respondent, rejected answers left out."""
    themes_of: dict[str, set[int]] = {r: set() for r in q.respondents_answering()}
    for e in q.excerpts:
        if e.respondent_id in themes_of and e.code.theme_id != QUEUE:
            themes_of[e.respondent_id].add(e.code.theme_id)
    active = {t.theme_id for t in q.active_themes()}
    cells = specificities(themes_of, run.respondents, run.attributes)
    return [c for c in cells if c.theme_id in active]


def specificity_rows(run: RunView) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for q in run.questions:
        for c in question_specificities(run, q):
            rows.append([
                q.question, c.theme_id, q.label(c.theme_id), c.attribute, c.value, c.n, c.group_size,
                round(c.expected, 3), round(c.ratio, 3), float(f"{c.p_value:.4g}"), float(f"{c.p_adjusted:.4g}"),
                str(c.direction),
            ])  # fmt: skip
    return rows


def write_specificities_csv(run: RunView, path: Path, excel_fr: bool = False) -> Path:
    return write_csv(path, COLUMNS, specificity_rows(run), excel_fr)


def write_specificities_xlsx(run: RunView, path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Specificities"
    fill_sheet(ws, COLUMNS, specificity_rows(run))
    wb.properties.creator = "Verbatim"
    wb.properties.created = naive_utc(run.created_at) or datetime(2000, 1, 1)
    wb.properties.modified = wb.properties.created
    return write_atomically(path, lambda tmp: wb.save(tmp))


def write_specificities(run: RunView, path: Path, excel_fr: bool = False) -> Path:
    if path.suffix.lower() == ".xlsx":
        return write_specificities_xlsx(run, path)
    return write_specificities_csv(run, path, excel_fr)


@dataclass(frozen=True)
class GroupTheme:
    """A theme a group over-represents, with one quote of that group (validated first)."""

    cell: Specificity
    label: str
    quote: Quote | None


def group_profile(run: RunView, attribute: str, value: str) -> list[tuple[QuestionView, list[GroupTheme]]]:
    """For one group (``attribute`` = ``value``), per question: the themes it over-represents, strongest first, each
    with the best quote of a respondent of that group. What the report team writes a group's paragraph from."""
    profile = []
    for q in run.questions:
        cells = [c for c in question_specificities(run, q) if c.attribute == attribute and c.value == value]
        over = sorted((c for c in cells if c.direction == Direction.OVER), key=lambda c: (c.p_adjusted, -c.ratio))
        themes = []
        for c in over:
            quotes = citable_quotes(run, q, c.theme_id, where={attribute: value}, validated_only=False)
            themes.append(GroupTheme(c, q.label(c.theme_id), quotes[0] if quotes else None))
        profile.append((q, themes))
    return profile
