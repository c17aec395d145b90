"""Split answers into excerpts (sentences and list items) and give each its content lemmas.

One spaCy pass per answer does both: the sentence recogniser (``senter``) cuts sentences and the rule-based
lemmatiser, which needs the part of speech of each word in context, gives lemmas. Lemmatising the whole answer and
then keeping the tokens of each excerpt gives each word the context of its sentence, as lemmatising excerpt by
excerpt would, in one pass instead of two.

The rules, in order:

1. *Blocks.* Each line that starts with a list marker (``-``, ``•``, ``*``, ``1.``, ``2)``, ``a)``...) opens a block
   of its own, without its marker. Other lines open a block unless they continue the previous line (the previous
   line ends without punctuation and this one starts in lower case). Blank lines end blocks.
2. *Sentences.* Inside a block, each sentence that ``senter`` finds is an excerpt.
3. *Merges.* An excerpt with no letter or digit (an emoji, "!!!") joins its neighbour. A piece that does not end
   a sentence (it ends on a word or a comma) joins the next piece of its block: ``senter`` sometimes cuts inside
   a sentence ("Les difficultés sont nombreuses. Entre" | "Teams, les mails…"), and a fragment is not an excerpt.
   A sentence of fewer than ``min_words`` words joins its neighbour in the same block ("Oui. Le manque de
   formation." stays one excerpt); a block of its own (a list item, a one-line answer) is kept, however short.
   A piece joined to a piece of another block (an introduction ending in ":" and the list item after it) belongs
   to that block from then on.

Every excerpt keeps ``start``/``end`` offsets such that ``text[start:end]`` is the excerpt, with no surrounding
whitespace.

A re-run does not split again: :meth:`ExcerptSplitter.split_cached` keeps each answer's segments in a
:class:`SegmentCache`, keyed by the text's hash under a namespace naming the spaCy model and version, ``min_words``
and a fingerprint of these rules' source (this module and the stop list), so any change of model or rule starts
afresh.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from verbatim.nlp import stopwords
from verbatim.nlp.cache import ValueCache, fill_missing, fingerprint, text_key
from verbatim.nlp.spacy_pipeline import load_pipeline, pipeline_id
from verbatim.nlp.stopwords import STOP_WORDS

if TYPE_CHECKING:  # spaCy itself is imported by the stop list, through verbatim.nlp.heavy_imports
    from spacy.language import Language
    from spacy.tokens import Doc, Token

#: Parts of speech that carry the content of an excerpt. Proper nouns are kept: institutions and software
#: ("CAF", "France Connect", "Pôle emploi") are the substance of many answers; person names are masked before.
CONTENT_POS = frozenset({"NOUN", "VERB", "ADJ", "ADV", "PROPN"})

_LIST_MARKER = re.compile(r"[ \t]*(?:[-–—•*·▪►→✓✔]+|\d{1,2}[.)°]|[a-z]\))[ \t]+")
_SENTENCE_END = re.compile(r"[.!?…:;»)]\s*$")
_MASK = re.compile(r"\[[A-ZÉÈÊÀÇ ]+\]")
_HAS_ALNUM = re.compile(r"\w")
_GOES_ON = re.compile(r"[\w,(«'’\-–]$")  # a piece ending like this is not a whole sentence
_WORD = re.compile(r"[^\W\d_]{2,}")
_ELISION = re.compile(r"^[cdjlmnst]['’]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Segment:
    """An excerpt of an answer: ``answer[start:end]``, its content lemmas and their surface forms."""

    start: int
    end: int
    lemmas: tuple[str, ...]
    surfaces: tuple[str, ...]


@dataclass(slots=True)
class _Piece:
    start: int
    end: int
    block: int
    whole_block: bool = False


def _blocks(text: str) -> Iterator[tuple[int, int, bool]]:
    """Yield (start, end, is_list_item) for the blocks of ``text``, without list markers."""
    start: int | None = None
    end = 0
    is_item = False
    previous_line = ""
    offset = 0
    for line in text.splitlines(keepends=True):
        line_start, line_end = offset, offset + len(line.rstrip("\r\n"))
        offset += len(line)
        content = text[line_start:line_end]
        if not content.strip():
            if start is not None:
                yield start, end, is_item
            start, previous_line = None, ""
            continue
        marker = _LIST_MARKER.match(content)
        stripped = content.strip()
        continues = (
            start is not None and marker is None and not _SENTENCE_END.search(previous_line) and stripped[:1].islower()
        )
        if not continues:
            if start is not None:
                yield start, end, is_item
            is_item = marker is not None
            start = line_start + (marker.end() if marker else len(content) - len(content.lstrip()))
        end = line_start + len(content.rstrip())
        previous_line = content
    if start is not None:
        yield start, end, is_item


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _pieces(doc: Doc) -> list[_Piece]:
    text = doc.text
    sentence_starts = sorted({sent.start_char for sent in doc.sents})
    pieces: list[_Piece] = []
    for block_index, (b_start, b_end, _is_item) in enumerate(_blocks(text)):
        cuts = [b_start, *(s for s in sentence_starts if b_start < s < b_end), b_end]
        block_pieces = []
        for left, right in itertools.pairwise(cuts):
            s, e = _strip(text, left, right)
            if s < e:
                block_pieces.append(_Piece(s, e, block_index))
        if len(block_pieces) == 1:
            block_pieces[0].whole_block = True
        pieces.extend(block_pieces)
    return pieces


def _merge(text: str, pieces: list[_Piece], min_words: int) -> list[tuple[int, int]]:
    """Join too-short pieces to a neighbour until none is left (see the module's rules)."""

    def partner(i: int, merged: list[_Piece]) -> int | None:
        piece = merged[i]
        fragment = text[piece.start : piece.end]
        n_words = len(_WORD.findall(fragment))
        prev_i = i - 1 if i > 0 else None
        next_i = i + 1 if i + 1 < len(merged) else None
        if not _HAS_ALNUM.search(fragment):  # emoji, punctuation: stick to the text before it
            return prev_i if prev_i is not None else next_i
        if fragment.endswith(":") and n_words < 2 * min_words:  # "Plusieurs choses :" introduces a list
            return next_i
        same_prev = prev_i is not None and merged[prev_i].block == piece.block
        same_next = next_i is not None and merged[next_i].block == piece.block
        if same_next and _GOES_ON.search(fragment):  # cut inside a sentence: "… nombreuses. Entre" | "Teams, …"
            return next_i
        if piece.whole_block or n_words >= min_words:
            return None
        if same_prev and not (same_next and prev_i is not None and merged[prev_i].start == piece.start):
            return prev_i
        return next_i if same_next else (prev_i if same_prev else None)

    merged = list(pieces)
    i = 0
    while i < len(merged) and len(merged) > 1:
        j = partner(i, merged)
        if j is None:
            i += 1
            continue
        a, b = sorted((i, j))
        if merged[a].block == merged[b].block:
            joined = _Piece(merged[a].start, merged[b].end, merged[a].block)
        else:  # the piece joins its partner's block
            joined = _Piece(merged[a].start, merged[b].end, merged[j].block, merged[j].whole_block)
        merged[a] = joined
        del merged[b]
        i = max(a - 1, 0)
    return [(p.start, p.end) for p in merged]


def _clean_lemma(lemma: str) -> str:
    lemma = _ELISION.sub("", lemma.lower().replace("’", "'"))
    return lemma.strip("-'")


def token_lemma(token: Token) -> str | None:
    """A token's content lemma, or ``None`` when it carries no content (a stop word, a symbol, a function word)."""
    if token.pos_ not in CONTENT_POS:
        return None
    if len(_WORD.findall(token.text)) == 0:  # "%", "4G", "2€": symbols and codes are no theme words
        return None
    # Proper nouns and acronyms keep their own spelling: the lemmatiser mangles them ("ANTS" -> "ant").
    own_spelling = token.pos_ == "PROPN" or (token.text.isupper() and len(token.text) > 1)
    lemma = _clean_lemma(token.text if own_spelling else (token.lemma_ or token.text))
    if len(lemma) < 2 or not _WORD.search(lemma) or lemma in STOP_WORDS:
        return None
    return lemma


def masked_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Where pseudonymisation placeholders ("[PERSONNE]") lie in ``text[start:end]``: no lemma comes from them."""
    return [(m.start(), m.end()) for m in _MASK.finditer(text, start, len(text) if end is None else end)]


def content_lemmas(doc: Doc, start: int, end: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The content lemmas of ``doc.text[start:end]`` and their lower-cased surface forms."""
    masked = masked_spans(doc.text, start, end)
    lemmas: list[str] = []
    surfaces: list[str] = []
    for token in doc:
        if token.idx < start:
            continue
        if token.idx >= end:
            break
        if any(s <= token.idx < e for s, e in masked):
            continue
        lemma = token_lemma(token)
        if lemma is None:
            continue
        lemmas.append(lemma)
        # Labels read better with verbs in the infinitive ("retrouver", not "retrouvent"); other words as written.
        surfaces.append(lemma if token.pos_ == "VERB" else _clean_lemma(token.text))
    return tuple(lemmas), tuple(surfaces)


def segment_doc(doc: Doc, min_words: int = 3) -> list[Segment]:
    """The excerpts of one analysed answer."""
    spans = _merge(doc.text, _pieces(doc), min_words)
    return [Segment(s, e, *content_lemmas(doc, s, e)) for s, e in spans]


@functools.cache
def _rules_fingerprint() -> str:
    """A hash of the splitting and lemma rules' source: editing them invalidates cached segments."""
    return fingerprint(inspect.getsource(sys.modules[__name__]) + inspect.getsource(stopwords))


class SegmentCache(ValueCache):
    """Each answer's segments (offsets, lemmas, surfaces) on disk, keyed by the SHA-256 of its (masked) text.

    The answers' texts are not stored; the lemmas of their content words are (pseudonymised, as in the store).
    """

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, "segments")

    def get(self, namespace: str, keys: Sequence[bytes]) -> dict[bytes, list[Segment]]:
        found = self._store.get(namespace, keys)
        return {
            key: [Segment(s, e, tuple(lemmas), tuple(surfaces)) for s, e, lemmas, surfaces in json.loads(blob)]
            for key, blob in found.items()
        }

    def put(self, namespace: str, keys: Sequence[bytes], segments: Sequence[Sequence[Segment]]) -> None:
        blobs = (
            json.dumps([[p.start, p.end, p.lemmas, p.surfaces] for p in parts], ensure_ascii=False).encode("utf-8")
            for parts in segments
        )
        self._store.put(namespace, zip(keys, blobs, strict=True))


class ExcerptSplitter:
    """Cut answers into excerpts with their lemmas, in batches, on one or several processes.

    >>> splitter = ExcerptSplitter()
    >>> [text[s.start:s.end] for s in splitter.split([text])[0]]  # doctest: +SKIP
    """

    def __init__(
        self,
        nlp: Language | None = None,
        min_words: int = 3,
        batch_size: int = 256,
        n_process: int = 1,
        parallel_threshold: int = 2_000,
    ) -> None:
        self.nlp = nlp
        self.min_words = min_words
        self.batch_size = batch_size
        self.n_process = n_process
        self.parallel_threshold = parallel_threshold

    def _pipeline(self) -> Language:
        if self.nlp is None:
            self.nlp = load_pipeline("analyse")
        return self.nlp

    def iter_split(self, texts: Sequence[str]) -> Iterator[list[Segment]]:
        """Yield the segments of each text, in order (a generator, for progress reporting)."""
        n_process = self.n_process if len(texts) >= self.parallel_threshold else 1
        docs = self._pipeline().pipe(texts, batch_size=self.batch_size, n_process=n_process)
        for doc in docs:
            yield segment_doc(doc, self.min_words)

    def split(self, texts: Sequence[str]) -> list[list[Segment]]:
        return list(self.iter_split(texts))

    @property
    def cache_namespace(self) -> str:
        """What the segments depend on: the spaCy model and version, ``min_words`` and the rules' source."""
        return f"{pipeline_id(self.nlp)}|min_words={self.min_words}|rules-{_rules_fingerprint()}"

    def split_cached(
        self,
        texts: Sequence[str],
        cache: SegmentCache,
        progress: Callable[[int, int], None] | None = None,
        write_every: int = 1_000,
    ) -> list[list[Segment]]:
        """The segments of each text, as :meth:`split` gives them, splitting only texts the cache lacks.

        Identical texts are split once. New segments are written every ``write_every`` texts, so a run stopped in
        the middle keeps what it did. ``progress(done, total)`` counts the texts split.
        """
        namespace = self.cache_namespace
        keys = [text_key(t) for t in texts]
        return fill_missing(
            texts,
            keys,
            cache.get(namespace, keys),
            self.iter_split,
            lambda done, segments: cache.put(namespace, done, segments),
            write_every,
            progress,
        )


def query_lemmas(query: str) -> list[str]:
    """The content lemmas of a search query, as the excerpts' lemmas are made ("formées" -> ["former"])."""
    from verbatim.nlp.spacy_pipeline import load_pipeline

    doc = load_pipeline("analyse")(query)
    return list(content_lemmas(doc, 0, len(query))[0])
