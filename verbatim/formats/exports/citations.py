"""Choosing the quotes a report cites for a theme: validated, short enough, diverse, attributed.

* **Validated first**: excerpts a researcher accepted or recoded into the theme. Only when a theme has none do
  the machine's codes stand in, and the report says so (:attr:`QuoteChoice.validated` is ``False``).
* **Ranked** by the machine's score for the theme (how central the excerpt is), the theme's representative excerpts
  first, excerpts of a citable length (40 to 300 characters) before very short or long ones.
* **Short enough**: a quote longer than ``max_chars`` (300) is cut after its last whole sentence that fits, else
  after its last whole word, and marked ``[…]``.
* **Diverse**: at most one quote per respondent; professions (or the first attribution column) not yet quoted come
  first; a quote too close to one already chosen (Jaccard similarity of character 4-grams of the folded text
  ≥ 0.5) is left out.
* **Attributed**: ``— éducatrice spécialisée, association, Grand Est``, from the respondent's attributes.

Text comes from the store, which holds only pseudonymised text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from verbatim.formats.exports.data import ExcerptView, QuestionView, RunView

DEFAULT_ATTRIBUTION = ("profession", "structure", "region")
MAX_CHARS = 300
MIN_CHARS = 40
NEAR_DUPLICATE = 0.5
ELLIPSIS = "[…]"
_SENTENCE_END = re.compile(r"[.!?…](?:[»”\")\]]*)(?=\s)")


@dataclass(frozen=True)
class Quote:
    excerpt_id: str
    respondent_id: str
    text: str  # as cited (trimmed with "[…]" when too long)
    attribution: str  # "éducateur·rice spécialisé·e, association, Grand Est"
    validated: bool
    trimmed: bool


@dataclass(frozen=True)
class QuoteChoice:
    quotes: tuple[Quote, ...]
    validated: bool  # False: the theme has no validated excerpt, these are the machine's codes


def fold(text: str) -> str:
    """Lower case, no accents, spaces collapsed: the text compared for near-duplicates."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def shingles(text: str, k: int = 4) -> frozenset[str]:
    folded = fold(text)
    if len(folded) <= k:
        return frozenset({folded})
    return frozenset(folded[i : i + k] for i in range(len(folded) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def trim(text: str, max_chars: int = MAX_CHARS) -> tuple[str, bool]:
    """``text`` if short enough, else cut at the last sentence end (else word) that fits, followed by ``[…]``."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text, False
    room = max_chars - len(ELLIPSIS) - 1
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= room]
    if ends and ends[-1] >= room // 3:
        cut = text[: ends[-1]]
    else:
        cut = text[:room]
        if " " in cut and not text[room : room + 1].isspace():
            cut = cut[: cut.rfind(" ")]
        cut = cut.rstrip(" ,;:–-")
    return f"{cut.rstrip()} {ELLIPSIS}", True


def attribution(attributes: dict[str, str], columns: Sequence[str] = DEFAULT_ATTRIBUTION) -> str:
    """The respondent as a report names them: the non-empty values of ``columns``, comma-separated."""
    return ", ".join(v.strip() for c in columns if (v := str(attributes.get(c, "") or "")).strip())


def _rank_key(e: ExcerptView, representatives: Sequence[str]) -> tuple[int, int, float, str]:
    rep = representatives.index(e.excerpt_id) if e.excerpt_id in representatives else len(representatives)
    length = len(e.text.strip())
    citable = 0 if MIN_CHARS <= length <= MAX_CHARS else 1
    same_theme = e.machine_theme_id == e.code.theme_id
    return (citable, rep, -(e.code.score if same_theme else e.code.score / 2), e.excerpt_id)


def choose_quotes(
    run: RunView,
    question: QuestionView,
    theme_id: int,
    n: int = 5,
    columns: Sequence[str] = DEFAULT_ATTRIBUTION,
    max_chars: int = MAX_CHARS,
) -> QuoteChoice:
    """The ``n`` best quotes of a theme (see the module docstring)."""
    coded = question.excerpts_of(theme_id)
    validated = [e for e in coded if e.validated]
    pool = validated or coded
    theme = question.themes.get(theme_id)
    representatives = list(theme.representative_excerpt_ids) if theme else []
    ranked = sorted(pool, key=lambda e: _rank_key(e, representatives))
    diversity_column = next((c for c in columns if c in run.attributes), None)

    chosen: list[ExcerptView] = []
    seen_shingles: list[frozenset[str]] = []

    def take(e: ExcerptView, need_new_group: bool) -> bool:
        if any(c.respondent_id == e.respondent_id for c in chosen):
            return False
        if need_new_group and diversity_column:
            group = run.respondents.get(e.respondent_id, {}).get(diversity_column, "")
            if any(run.respondents.get(c.respondent_id, {}).get(diversity_column, "") == group for c in chosen):
                return False
        s = shingles(e.text)
        if any(jaccard(s, other) >= NEAR_DUPLICATE for other in seen_shingles):
            return False
        chosen.append(e)
        seen_shingles.append(s)
        return True

    for need_new_group in (True, False):
        for e in ranked:
            if len(chosen) >= n:
                break
            if e not in chosen:
                take(e, need_new_group)
    chosen.sort(key=lambda e: ranked.index(e))
    quotes = []
    for e in chosen:
        text, trimmed = trim(e.text, max_chars)
        quotes.append(
            Quote(
                e.excerpt_id, e.respondent_id, text, attribution(run.respondents.get(e.respondent_id, {}), columns),
                e.validated, trimmed,
            )
        )  # fmt: skip
    return QuoteChoice(tuple(quotes), bool(validated))


def citable_quotes(
    run: RunView,
    question: QuestionView,
    theme_id: int,
    *,
    where: Mapping[str, str] | None = None,
    min_chars: int = 0,
    max_chars: int | None = None,
    validated_only: bool = True,
    columns: Sequence[str] = DEFAULT_ATTRIBUTION,
) -> list[Quote]:
    """Every quote of a theme a report may cite, best first (the ranking of :func:`choose_quotes`): validated
    excerpts (or all, with ``validated_only=False``) whose respondent has the attribute values of ``where`` and whose
    length (in characters) is between ``min_chars`` and ``max_chars``. Texts are whole, never trimmed."""
    theme = question.themes.get(theme_id)
    representatives = list(theme.representative_excerpt_ids) if theme else []
    pool = []
    for e in question.excerpts_of(theme_id):
        attributes = run.respondents.get(e.respondent_id, {})
        length = len(" ".join(e.text.split()))
        if validated_only and not e.validated:
            continue
        if any(str(attributes.get(k, "")) != v for k, v in (where or {}).items()):
            continue
        if length < min_chars or (max_chars is not None and length > max_chars):
            continue
        pool.append(e)
    pool.sort(key=lambda e: _rank_key(e, representatives))
    return [_whole_quote(run, e, columns) for e in pool]


def _whole_quote(run: RunView, e: ExcerptView, columns: Sequence[str]) -> Quote:
    attributed = attribution(run.respondents.get(e.respondent_id, {}), columns)
    return Quote(e.excerpt_id, e.respondent_id, " ".join(e.text.split()), attributed, e.validated, False)
