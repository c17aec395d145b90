"""Phrases respondents wrote, found by spaCy's dependency parser: the candidates of theme labels.

The fast pipeline of the analysis has no parser (``verbatim.nlp.spacy_pipeline``); labels need one only on the few
most central excerpts of each theme, so :func:`excerpt_phrases` parses those alone (a pipeline with the parser,
loaded once, :data:`MAX_CHARS` characters of an excerpt at most) and remembers what it found per text.

A phrase is a contiguous span of an excerpt, kept as written:

* a noun or proper noun, with its adjectives ("zones blanches", "messagerie non sécurisée", "seule connexion"),
  its flat or fixed parts ("France Travail"), with or without one complement introduced by "de", "en" or "sans"
  ("manque de formation", "démarches en ligne"), and with or without what denies it ("pas d'ordinateur",
  "aucune aide": its key then holds "pas", so that it is not the noun alone);
* an infinitive with its object or its complement ("simplifier les démarches", "former les équipes",
  "sensibiliser aux arnaques"): what respondents propose.

A span is at most :data:`MAX_WORDS` words, starts and ends on a word that carries meaning (never on an article, a
preposition, a conjunction, a pronoun or a negation) and holds no punctuation. Its *key* is its content lemmas, made
as the excerpts' lemmas are (:func:`verbatim.nlp.excerpts.token_lemma`), so that it can be counted in every
excerpt of a question without parsing them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verbatim.nlp.excerpts import masked_spans, token_lemma
from verbatim.nlp.spacy_pipeline import load_pipeline
from verbatim.nlp.stopwords import STOP_WORDS

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

#: Longest phrase, in words.
MAX_WORDS = 6
#: Most content lemmas in a phrase's key.
MAX_KEY = 4
#: Characters of an excerpt parsed at most (a long excerpt's phrases come from its beginning).
MAX_CHARS = 600
#: Phrases remembered per text parsed (an LRU of this many texts).
CACHE_TEXTS = 50_000

_NOUNS = frozenset({"NOUN", "PROPN"})
_ADJECTIVE_DEPS = frozenset({"amod", "acl"})
_PART_DEPS = frozenset({"flat", "flat:name", "flat:foreign", "fixed", "compound"})
#: Prepositions that introduce a noun's complement in a phrase ("manque de formation", "démarches en ligne"; "à"
#: is left out: the parser often hangs a verb's complement on its object, "sensibiliser les usagers aux arnaques").
_PREPOSITIONS = frozenset({"de", "d'", "d’", "du", "des", "en", "sans"})
_OBJECT_DEPS = frozenset({"obj", "obl", "obl:arg", "obl:mod", "iobj"})
#: Adverbs kept before an adjective ("non sécurisée", "mal adaptés", "trop lents").
_ADVERBS = frozenset({"non", "peu", "mal", "trop", "très", "plus", "moins", "pas", "assez", "mieux"})
#: Words a phrase never starts or ends with.
_NEGATIONS = frozenset({"ne", "n'", "n’", "pas", "non", "jamais", "rien", "plus", "ni"})
_DE = frozenset({"de", "d'", "d’"})
#: Words that deny the noun they determine.
_DENYING = frozenset({"aucun", "aucune", "sans"})
_EDGE_POS = frozenset({"DET", "ADP", "CCONJ", "SCONJ", "PRON", "PUNCT", "AUX", "PART", "SYM", "NUM", "X", "SPACE"})


@dataclass(frozen=True, slots=True)
class Phrase:
    """A span of an excerpt: its text as written and its content lemmas."""

    text: str
    key: tuple[str, ...]
    verbal: bool  # an infinitive with its complement


def _adjective(token: Token) -> list[Token]:
    """An adjective (or a participle used as one) with the adverbs that qualify it ("non sécurisée")."""
    if token.pos_ not in {"ADJ", "VERB"} or (token.pos_ == "VERB" and token.morph.get("VerbForm", []) != ["Part"]):
        return []
    words = [token]
    for child in token.children:
        if child.dep_ == "advmod" and child.lower_ in _ADVERBS:
            words.append(child)
        elif child.dep_ not in {"advmod"}:
            return []  # a participle with its own complements is a clause, not an adjective
    return words


def _noun_cores(noun: Token) -> list[list[Token]]:
    """A noun alone (with its flat parts), with each of its adjectives, and with all of them."""
    base = [noun] + [t for child in noun.children if child.dep_ in _PART_DEPS for t in child.subtree]
    adjectives = [a for child in noun.children if child.dep_ in _ADJECTIVE_DEPS if (a := _adjective(child))]
    cores = [base] + [base + a for a in adjectives]
    if len(adjectives) > 1:
        cores.append(base + [t for a in adjectives for t in a])
    return cores


def _introduced(noun: Token) -> list[Token]:
    """The preposition and article before a noun's complement ("de", "de la", "en"), or nothing when there is none
    (or another preposition)."""
    words = [c for c in noun.children if c.dep_ in {"case", "det"} and c.i < noun.i]
    if not any(w.lower_ in _PREPOSITIONS for w in words):
        return []
    return words


def _negated(noun: Token) -> list[Token]:
    """The words that deny a noun: "pas de" ("pas de problème"), "aucun", "aucune", or nothing."""
    for det in noun.children:
        if det.dep_ != "det" or det.i > noun.i:
            continue
        if det.lower_ in _DENYING:
            return [det]
        before = det.nbor(-1) if det.i > 0 else None
        if det.lower_ in _DE and before is not None and before.lower_ in _NEGATIONS:
            return [before, det]
    return []


def _noun_phrases(noun: Token) -> list[list[Token]]:
    cores = _noun_cores(noun)
    phrases = list(cores)
    denial = _negated(noun)
    if denial:
        phrases.extend(denial + core for core in cores)
    for child in noun.children:
        if child.dep_ != "nmod" or child.pos_ not in _NOUNS or child.i < noun.i:
            continue
        lead = _introduced(child)
        if not lead:
            continue
        tail = _noun_cores(child)[-1]  # the complement whole: "zones blanches", not "zones"
        phrases.extend(core + lead + tail for core in cores)
    return phrases


def _verb_phrases(verb: Token) -> list[list[Token]]:
    if verb.morph.get("VerbForm", []) != ["Inf"] or verb.lemma_.lower() in STOP_WORDS:
        return []  # "faire des synthèses" says what "synthèses" says
    phrases: list[list[Token]] = []
    for child in verb.children:
        if child.dep_ not in _OBJECT_DEPS or child.pos_ not in _NOUNS or child.i < verb.i:
            continue
        lead = [c for c in child.children if c.dep_ in {"case", "det"} and c.i < child.i]
        whole = _noun_cores(child)[-1]
        phrases.extend([verb, *lead, *tail] for tail in _noun_phrases(child) if set(whole) <= set(tail))
    return phrases


def _contiguous(tokens: Sequence[Token]) -> bool:
    indices = sorted({t.i for t in tokens})
    return indices[-1] - indices[0] + 1 == len(indices)


def _glued(before: Token | None, after: Token | None) -> bool:
    """True when two tokens are parts of one written word (no space between, letters or a hyphen at the joint)."""
    if before is None or after is None or before.whitespace_:
        return False
    end, start = before.text[-1:], after.text[:1]
    return (end.isalnum() or end == "-") and (start.isalnum() or start == "-")


def _acceptable(tokens: Sequence[Token]) -> bool:
    first, last = tokens[0], tokens[-1]
    denial = first.lower_ in _DENYING or (first.lower_ in _NEGATIONS and len(tokens) > 2 and tokens[1].lower_ in _DE)
    if len(tokens) > MAX_WORDS or (first.pos_ in _EDGE_POS and not denial) or last.pos_ in _EDGE_POS:
        return False
    if (first.lower_ in _NEGATIONS and not denial) or last.lower_ in _NEGATIONS:
        return False
    if _glued(first.nbor(-1) if first.i > 0 else None, first) or _glued(
        last, last.nbor(1) if last.i + 1 < len(last.doc) else None
    ):
        return False  # a piece of a longer word ("val-de" of "Val-de-Marne")
    return not any(t.is_punct or t.pos_ in {"PUNCT", "SYM", "X"} or t.is_space for t in tokens)


def _written(tokens: Sequence[Token], shouting: bool) -> str:
    """A phrase as shown: whitespace collapsed, lower case except proper nouns, acronyms and words capitalised
    within a sentence ("CAF", "Pôle emploi", "Amazone"), unless the whole excerpt is in capitals (then everything is
    lower case)."""
    words = []
    for t in tokens:
        capital = t.text[:1].isupper() and not t.is_sent_start
        keep = not shouting and (t.pos_ == "PROPN" or capital or (len(t.text) > 1 and t.text.isupper()))
        words.append(t.text_with_ws if keep else t.text_with_ws.lower())
    return " ".join("".join(words).split())


def phrases_of(doc: Doc) -> tuple[Phrase, ...]:
    """Every phrase of a parsed excerpt (see the module), in order of appearance, without repeats."""
    letters = [c for c in doc.text if c.isalpha()]
    shouting = len(letters) >= 8 and sum(c.isupper() for c in letters) > 0.6 * len(letters)
    masked = masked_spans(doc.text)
    lemmas = [None if any(s <= t.idx < e for s, e in masked) else token_lemma(t) for t in doc]
    found: dict[tuple[int, int], Phrase] = {}
    for token in doc:
        if token.pos_ in _NOUNS:
            candidates, verbal = _noun_phrases(token), False
        elif token.pos_ == "VERB":
            candidates, verbal = _verb_phrases(token), True
        else:
            continue
        for words in candidates:
            if not _contiguous(words):
                continue
            ordered = sorted(set(words), key=lambda t: t.i)
            if not _acceptable(ordered):
                continue
            start, end = ordered[0].idx, ordered[-1].idx + len(ordered[-1].text)
            key = tuple(lemma for t in ordered if (lemma := lemmas[t.i]) is not None)
            if ordered[0].lower_ in _DENYING and key:  # "aucune difficulté" is not "difficulté"
                key = ("sans" if ordered[0].lower_ == "sans" else "pas", *key)
            if not key or len(key) > MAX_KEY or (start, end) in found:
                continue
            found[(start, end)] = Phrase(_written(ordered, shouting), key, verbal)
    return tuple(found[span] for span in sorted(found))


_cache: dict[str, tuple[Phrase, ...]] = {}
_lock = threading.Lock()


def load_parser_in_background() -> None:
    """Start loading the parser pipeline in a thread: for a process that meanwhile waits on others (the themes' fits
    in worker processes), so that the labels do not wait for it afterwards (a later ``load_pipeline("parse")``
    waits for this load rather than repeating it)."""
    threading.Thread(target=load_pipeline, args=("parse",), name="load-parser", daemon=True).start()


def excerpt_phrases(texts: Iterable[str]) -> list[tuple[Phrase, ...]]:
    """The phrases of each text, parsed once per process (texts already seen come from memory)."""
    texts = list(texts)
    with _lock:
        missing = list(dict.fromkeys(t for t in texts if t not in _cache))
    parsed: dict[str, tuple[Phrase, ...]] = {}
    if missing:
        nlp = load_pipeline("parse")
        parsed = {
            t: phrases_of(doc) for t, doc in zip(missing, nlp.pipe([t[:MAX_CHARS] for t in missing]), strict=True)
        }
        with _lock:
            for text, phrases in parsed.items():
                if len(_cache) >= CACHE_TEXTS:
                    _cache.pop(next(iter(_cache)))
                _cache[text] = phrases
    with _lock:
        return [parsed[t] if t in parsed else _cache.get(t, ()) for t in texts]
