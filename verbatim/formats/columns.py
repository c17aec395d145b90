"""What each column of a survey export looks like, and which columns are most likely the respondent id, the open
questions and the attributes: the upload form pre-selects them, the user corrects them.

Kinds, in the words of the form:
- ``id``: filled on (nearly) every row, every value distinct, short;
- ``text``: free text (answers several words long, mostly distinct);
- ``category``: few distinct values (profession, region, age band...);
- ``number``: numbers;
- ``empty``: nothing in it;
- ``short``: anything else (short, varied values: e.g. e-mails, dates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from verbatim.formats.survey import SurveyTable

#: Column names that say "respondent id" in the exports of French survey tools.
_ID_NAMES = re.compile(
    r"^(id|identifiant|ident|respondent|répondant|repondant|response ?id|numero|numéro|n°|no)(?!\w)", re.I
)
_NUMBER = re.compile(r"^[-+]?\d+([.,]\d+)?$")
MAX_CATEGORIES = 30
EXAMPLES = 3


class ColumnKind(StrEnum):
    ID = "id"
    TEXT = "text"
    CATEGORY = "category"
    NUMBER = "number"
    EMPTY = "empty"
    SHORT = "short"


KIND_LABELS = {
    ColumnKind.ID: "identifiants",
    ColumnKind.TEXT: "texte libre",
    ColumnKind.CATEGORY: "catégories",
    ColumnKind.NUMBER: "nombres",
    ColumnKind.EMPTY: "vide",
    ColumnKind.SHORT: "texte court",
}


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: ColumnKind
    n_filled: int
    n_distinct: int
    mean_words: float
    examples: tuple[str, ...]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class Suggestion:
    """The likely id column (None if no column fits), open questions and attributes, in the file's order."""

    id_column: str | None
    questions: list[str]
    attributes: list[str]


def profile_columns(table: SurveyTable) -> list[ColumnProfile]:
    """One profile per column of ``table``, in the file's order."""
    return [_profile(name, table.frame[name].tolist(), table.n_rows) for name in table.columns]


def _profile(name: str, values: list[str], n_rows: int) -> ColumnProfile:
    filled = [v.strip() for v in values if v.strip()]
    distinct = set(filled)
    words = [len(v.split()) for v in filled]
    mean_words = sum(words) / len(words) if words else 0.0
    examples = tuple(sorted(distinct, key=filled.index)[:EXAMPLES])
    kind = _kind(name, filled, distinct, mean_words, n_rows)
    return ColumnProfile(name, kind, len(filled), len(distinct), round(mean_words, 1), examples)


def _kind(name: str, filled: list[str], distinct: set[str], mean_words: float, n_rows: int) -> ColumnKind:
    if not filled:
        return ColumnKind.EMPTY
    numeric = sum(1 for v in filled if _NUMBER.match(v)) / len(filled)
    unique = len(distinct) == len(filled) and len(filled) >= 0.9 * n_rows
    if unique and mean_words <= 2 and (numeric < 1 or _ID_NAMES.match(name.strip())):
        return ColumnKind.ID
    if mean_words >= 4 and len(distinct) >= 0.5 * len(filled):
        return ColumnKind.TEXT
    if len(distinct) <= max(MAX_CATEGORIES, 0.02 * len(filled)) and len(distinct) < len(filled):
        return ColumnKind.CATEGORY
    if numeric >= 0.95:
        return ColumnKind.NUMBER
    return ColumnKind.SHORT


def suggest_columns(profiles: list[ColumnProfile]) -> Suggestion:
    """The id column (a column named like an id first, else the first id-like column), every free-text column as a
    question, every category column as an attribute."""
    ids = [p.name for p in profiles if p.kind == ColumnKind.ID]
    named = [n for n in ids if _ID_NAMES.match(n.strip())]
    id_column = next(iter(named or ids), None)
    questions = [p.name for p in profiles if p.kind == ColumnKind.TEXT and p.name != id_column]
    attributes = [
        p.name for p in profiles if p.kind == ColumnKind.CATEGORY and p.name != id_column and p.n_distinct >= 2
    ]
    return Suggestion(id_column, questions, attributes)
