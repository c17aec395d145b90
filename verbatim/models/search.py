"""Search a run's excerpts for a word or a phrase: on the words as written (case and accents ignored; ``form*``
for every word that starts with "form"), or on their lemmas ("formé" finds "formés", "formait", "former" only when
the user asks for lemmas). The database narrows the excerpts down (``LIKE`` on the folded text or the lemmas, an
index-free scan that stays fast: see the README's figures), then each candidate is matched word for word here.

A :class:`Hit` gives the match's offsets in the excerpt's text (the folded text keeps them), for a concordance."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, literal, select

from verbatim.errors import VerbatimError
from verbatim.models.search_text import fold
from verbatim.models.store import Store
from verbatim.models.tables import ExcerptRow

MAX_QUERY = 200


class SearchError(VerbatimError):
    """A query that cannot be searched (empty, too long, nothing but punctuation)."""


@dataclass(frozen=True)
class Hit:
    excerpt_id: str
    question: str
    respondent_id: str
    text: str
    start: int  # of the first match in text (-1: a lemma match whose words could not be placed)
    end: int


_WORD = re.compile(r"[\w'’-]+\*?")


def query_words(query: str) -> list[str]:
    """The folded words of a query (a trailing ``*`` kept: a prefix)."""
    if len(query) > MAX_QUERY:
        raise SearchError(f"la recherche est trop longue ({len(query)} caractères ; {MAX_QUERY} au plus)")
    words = [w for w in _WORD.findall(fold(query.strip().strip('"'))) if w.strip("*'’-")]
    if not words:
        raise SearchError("tapez un mot ou une expression à chercher")
    return words


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _pattern(words: Sequence[str]) -> re.Pattern[str]:
    parts = [re.escape(w[:-1]) + r"[\w'’-]*" if w.endswith("*") else re.escape(w) for w in words]
    return re.compile(r"(?<![\w])" + r"[\W_]+".join(parts) + r"(?![\w])")


def search_words(store: Store, run_id: str, query: str, questions: Sequence[str] | None = None) -> list[Hit]:
    """The excerpts of ``run_id`` (of ``questions`` when given) where the query's words follow each other."""
    words = query_words(query)
    pattern = _pattern(words)
    conditions = [ExcerptRow.run_id == run_id]
    if questions:
        conditions.append(ExcerptRow.question.in_(list(questions)))
    for w in words:
        stem = _escape_like(w.rstrip("*"))
        conditions.append(ExcerptRow.folded.like(f"%{stem}%", escape="\\"))
    hits = []
    with store.session() as s:
        columns = (ExcerptRow.excerpt_id, ExcerptRow.question, ExcerptRow.respondent_id, ExcerptRow.text)
        rows = s.execute(select(*columns, ExcerptRow.folded).where(and_(*conditions))).all()
    for excerpt_id, question, respondent_id, text, folded in rows:
        match = pattern.search(folded or fold(text))
        if match:
            hits.append(Hit(excerpt_id, question, respondent_id, text, match.start(), match.end()))
    return _ordered(hits)


def search_lemmas(
    store: Store, run_id: str, lemmas: Sequence[str], questions: Sequence[str] | None = None
) -> list[Hit]:
    """The excerpts whose content lemmas hold ``lemmas`` in this order, one after the other (the stop words that
    the lemmas leave out may stand between them in the text)."""
    wanted = [fold(x) for x in lemmas if x]
    if not wanted:
        raise SearchError("aucun mot plein dans la recherche (les mots outils ne se cherchent pas en lemmes)")
    padded = literal(" ") + ExcerptRow.lemmas + literal(" ")
    conditions = [ExcerptRow.run_id == run_id]
    if questions:
        conditions.append(ExcerptRow.question.in_(list(questions)))
    conditions += [padded.like(f"% {_escape_like(x)} %", escape="\\") for x in wanted]
    with store.session() as s:
        columns = (ExcerptRow.excerpt_id, ExcerptRow.question, ExcerptRow.respondent_id, ExcerptRow.text)
        rows = s.execute(select(*columns, ExcerptRow.folded, ExcerptRow.lemmas).where(and_(*conditions))).all()
    hits = []
    n = len(wanted)
    for excerpt_id, question, respondent_id, text, folded, lemma_text in rows:
        have = [fold(x) for x in lemma_text.split()]
        if not any(have[i : i + n] == wanted for i in range(len(have) - n + 1)):
            continue
        start, end = _place(folded or fold(text), wanted[0])
        hits.append(Hit(excerpt_id, question, respondent_id, text, start, end))
    return _ordered(hits)


def _place(folded: str, lemma: str) -> tuple[int, int]:
    """Where the first word sharing the lemma's stem stands in the text (the lemma's first five letters at most)."""
    stem = lemma[: max(3, min(5, len(lemma) - 1))]
    match = re.search(r"(?<![\w])" + re.escape(stem) + r"[\w'’-]*", folded)
    return (match.start(), match.end()) if match else (-1, -1)


def _ordered(hits: list[Hit]) -> list[Hit]:
    return sorted(hits, key=lambda h: (h.question, h.excerpt_id))
