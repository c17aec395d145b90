"""Search a run's excerpts for a word or a phrase: on the words as written (case and accents ignored; ``form*``
for every word that starts with "form"), or on their lemmas ("formé" finds "formés", "formait", "former" only when
the user asks for lemmas).

An index in the store finds the candidate excerpts (migration 0009): on SQLite, the FTS5 table ``excerpts_search``
over the folded text and lemmas (a phrase query); on PostgreSQL, ``LIKE`` on the folded columns, which trigram
indexes serve (a scan where the ``pg_trgm`` extension could not be created). Every candidate is then matched word
for word here, so the index only narrows: the hits are those of the plain rules below, index or not.

A :class:`Hit` gives the match's offsets in the excerpt's text (the folded text keeps them), for a concordance."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from itertools import chain, islice
from typing import Any, NamedTuple

from sqlalchemy import and_, null, select

from verbatim.errors import VerbatimError
from verbatim.models.bulk import chunks, stream_plain, stream_rows, without_collection
from verbatim.models.search_text import fold
from verbatim.models.store import Store, has_search_index
from verbatim.models.tables import ExcerptRow

MAX_QUERY = 200


class SearchError(VerbatimError):
    """A query that cannot be searched (empty, too long, nothing but punctuation)."""


class Hit(NamedTuple):
    """An excerpt found, and where in its text (a tuple: hits sort by question, then excerpt). The text itself is
    read for the hits shown only (:func:`excerpt_texts`): a common word finds tens of thousands."""

    question: str
    excerpt_id: str
    respondent_id: str
    start: int  # of the first match in the excerpt's text (-1: a lemma match whose words could not be placed)
    end: int


#: ``Hit(*fields)`` without the named tuple's own ``__new__``, a Python function: a common word makes tens of thousands
#: (41,523: 62 ms -> 28 ms)
_hit = partial(tuple.__new__, Hit)

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


def _word(w: str) -> str:
    return re.escape(w[:-1]) + r"[\w'’-]*" if w.endswith("*") else re.escape(w)


def _starting(literal: str, rest: str, after: str = r"\w") -> re.Pattern[str]:
    """``literal`` + ``rest`` where ``literal`` does not follow a character of ``after`` (it starts a word): the
    literal comes first in the pattern and the look-behind after it, so that the regex engine jumps from one
    occurrence of the literal to the next."""
    lit = re.escape(literal)
    return re.compile(lit + r"(?<!" + after + lit + ")" + rest)


def words_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """The query's words one after the other, whole words (a prefix for ``word*``), anything but letters and
    digits between them."""
    first = words[0].removesuffix("*")
    rest = (r"[\w'’-]*" if words[0].endswith("*") else "") + "".join(r"[\W_]+" + _word(w) for w in words[1:])
    return _starting(first, rest + r"(?![\w])")


def _match_expression(column: str, words: Sequence[str]) -> str | None:
    """The FTS5 query for the words in ``column`` (``folded : ("mot" + "de" + "passe")``), or None when a word has
    no letter or digit (the index holds only those: it cannot narrow on such a word).

    The index splits the text at every character but letters and digits, so each phrase finds every excerpt the
    exact pattern finds, and maybe a few more (``mot_de``). A prefix word ends its phrase: ``numéri* outil`` also
    matches "numérique-mobile outil", whose hyphen the index reads as a word boundary, hence two phrases, ANDed."""
    phrases, phrase = [], []
    for w in words:
        core = w.removesuffix("*")
        if not any(c.isalnum() for c in core):
            return None
        phrase.append('"' + core.replace('"', '""') + '"' + ("*" if w.endswith("*") else ""))
        if w.endswith("*"):
            phrases.append(phrase)
            phrase = []
    phrases += [phrase] if phrase else []
    return f"{column} : (" + " AND ".join("(" + " + ".join(p) + ")" for p in phrases) + ")"


#: The index's rows drive the join (SQLite keeps a CROSS JOIN's order): a rare word reads a few excerpts only.
_MATCH = (
    "SELECT e.question, e.excerpt_id, e.respondent_id, e.{column}, {folded} "
    "FROM excerpts_search CROSS JOIN excerpts AS e ON e.rowid = excerpts_search.rowid "
    "WHERE excerpts_search MATCH :match AND e.run_id = :run_id"
)


def _candidates(
    store: Store, run_id: str, questions: Sequence[str] | None, column: str, words: Sequence[str], indexed: bool
) -> Iterator[Sequence[Any]]:
    """(question, excerpt_id, respondent_id, ``column``, folded text) of the run's excerpts (of ``questions``) that
    may hold ``words`` in ``column`` (``folded`` or ``lemmas_folded``): through SQLite's full-text index when the
    store has it, else ``LIKE`` (PostgreSQL's trigram indexes serve it). Handed over as they come: the caller
    matches each while the server sends the next (``stream_plain``)."""
    with store.reading() as s:
        expression = _match_expression(column, words)
        if indexed and expression is not None and has_search_index(s.connection()):
            params: dict[str, str] = {"match": expression, "run_id": run_id}
            sql = _MATCH.format(column=column, folded="NULL" if column == "folded" else "e.folded")
            if questions:
                params |= {f"q{i}": q for i, q in enumerate(questions)}
                sql += " AND e.question IN (" + ", ".join(f":q{i}" for i in range(len(questions))) + ")"
            yield from stream_plain(s, sql, params)  # a common word finds tens of thousands: plain tuples
            return
        target = getattr(ExcerptRow, column)
        conditions = [ExcerptRow.run_id == run_id]
        if questions:
            conditions.append(ExcerptRow.question.in_(list(questions)))
        for w in words:
            conditions.append(target.like(f"%{_escape_like(w.removesuffix('*'))}%", escape="\\"))
        folded = ExcerptRow.folded if column != "folded" else null()
        columns = (ExcerptRow.question, ExcerptRow.excerpt_id, ExcerptRow.respondent_id, target, folded)
        yield from stream_rows(s, select(*columns).where(and_(*conditions)))


def search_words(
    store: Store, run_id: str, query: str, questions: Sequence[str] | None = None, *, indexed: bool = True
) -> list[Hit]:
    """The excerpts of ``run_id`` (of ``questions`` when given) where the query's words follow each other, in
    order (``indexed=False``: without SQLite's full-text index, the benchmark's baseline)."""
    return _in_order(words_found(store, run_id, query, questions, indexed=indexed))


def search_lemmas(
    store: Store, run_id: str, lemmas: Sequence[str], questions: Sequence[str] | None = None, *, indexed: bool = True
) -> list[Hit]:
    """The excerpts whose content lemmas hold ``lemmas`` in this order, one after the other (the stop words that
    the lemmas leave out may stand between them in the text); case and accents ignored."""
    return _in_order(lemmas_found(store, run_id, lemmas, questions, indexed=indexed))


def _in_order(batches: Iterator[list[Hit]]) -> list[Hit]:
    with without_collection():
        return sorted(chain.from_iterable(batches))


Match = Callable[[str], "re.Match[str] | None"]

#: Candidates matched at a time: a caller works on each batch of hits while the server sends the next rows.
BATCH = 2_000


def words_found(
    store: Store, run_id: str, query: str, questions: Sequence[str] | None = None, *, indexed: bool = True
) -> Iterator[list[Hit]]:
    """The hits of :func:`search_words` batch by batch, in no order, as the store hands the candidates over. A
    caller that works on each batch (the search page counts them) does so while the server sends the next: on
    PostgreSQL that hides most of the counting (``numéri*``, 41,523 hits on a run of 100,000 answers). A query
    that cannot be searched raises :class:`SearchError` here, before any batch."""
    words = query_words(query)
    search = words_pattern(words).search
    batches = _batches(_candidates(store, run_id, questions, "folded", words, indexed))
    return ([_hit((q, e, r, *m.span())) for q, e, r, folded, _ in batch if (m := search(folded or ""))]
            for batch in batches)  # fmt: skip


def lemmas_found(
    store: Store, run_id: str, lemmas: Sequence[str], questions: Sequence[str] | None = None, *, indexed: bool = True
) -> Iterator[list[Hit]]:
    """The hits of :func:`search_lemmas` batch by batch, in no order: see :func:`words_found`."""
    wanted = [fold(x) for x in lemmas if x]
    if not wanted:
        raise SearchError("aucun mot plein dans la recherche (les mots outils ne se cherchent pas en lemmes)")
    if any(w.split() != [w] for w in wanted):
        return iter(())  # a lemma with a space inside is never one of an excerpt's lemmas
    holds, place = lemmas_pattern(wanted).search, lemma_place(wanted).search
    batches = _batches(_candidates(store, run_id, questions, "lemmas_folded", wanted, indexed))
    return (_lemma_hits(batch, holds, place) for batch in batches)


def _lemma_hits(batch: list[Sequence[Any]], holds: Match, place: Match) -> list[Hit]:
    """The candidate rows whose lemmas hold the lemmas wanted (``holds``), placed in their text (``place``)."""
    hits = []
    for question, excerpt_id, respondent_id, lemma_text, folded in batch:
        if holds(lemma_text or ""):
            match = place(folded or "")
            start, end = (match.start(), match.end()) if match else (-1, -1)
            hits.append(_hit((question, excerpt_id, respondent_id, start, end)))
    return hits


def _batches(rows: Iterator[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    while batch := list(islice(rows, BATCH)):
        yield batch


def lemmas_pattern(wanted: Sequence[str]) -> re.Pattern[str]:
    """``wanted`` (folded lemmas, no space inside) one after the other among space-separated lemmas, whole."""
    return _starting(wanted[0], "".join(r"\s+" + re.escape(w) for w in wanted[1:]) + r"(?!\S)", after=r"\S")


def lemma_place(wanted: Sequence[str]) -> re.Pattern[str]:
    """Where a lemma match stands in the folded text: the first word sharing the first lemma's stem (its first five
    letters at most)."""
    return _starting(wanted[0][: max(3, min(5, len(wanted[0]) - 1))], r"[\w'’-]*")


def excerpt_texts(store: Store, run_id: str, excerpt_ids: Sequence[str]) -> dict[str, str]:
    """The texts of some excerpts of a run (the hits shown), by excerpt id."""
    texts: dict[str, str] = {}
    with store.session() as s:
        for chunk in chunks(excerpt_ids, 500):
            stmt = select(ExcerptRow.excerpt_id, ExcerptRow.text).where(
                ExcerptRow.run_id == run_id, ExcerptRow.excerpt_id.in_(chunk)
            )
            texts.update(s.execute(stmt).all())
    return texts
