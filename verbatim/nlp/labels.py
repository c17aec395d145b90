"""Readable French theme labels, one-line descriptions and representative excerpts (central, diverse, and saying
something: content words, the theme's own keywords; see :func:`representatives`).

Themes and families are labelled by :func:`phrase_labels`: one or two phrases respondents wrote, found by spaCy's
parser in the theme's most central excerpts (:mod:`verbatim.nlp.phrases`: "messagerie non sécurisée", "manque de
formation", "zones blanches", "simplifier les démarches"), shown as written, ranked by how specific they are to
the theme against the other themes of the question, how many of its excerpts carry them and how central those
are, never the same phrase for two themes of a question. Every part of such a label occurs word for word in the
theme's excerpts (:func:`written_in`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from verbatim.nlp.stopwords import MEANINGFUL

_MAX_DESCRIPTION = 160
#: Endings that make two words the same term: plurals, feminines, infinitives ("télétravail" / "télétravailler").
_ENDINGS = frozenset({"s", "x", "e", "es", "r", "er", "ers", "ler", "ner", "é", "ée", "és", "ées"})
#: Endings of a noun and its verb ("organisation" / "organiser", "changement" / "changer") after a shared stem of at
#: least :data:`_MIN_STEM` letters.
_DERIVED = frozenset({"", "e", "es", "s", "er", "é", "ée", "és", "ées", "ation", "ations", "ement", "ements"})
_MIN_STEM = 4

#: Words kept in keywords because they carry meaning in a phrase ("manque de", "pas de réponse"), but that make
#: no label on their own.
WEAK_WORDS: frozenset[str] = MEANINGFUL | frozenset(
    {"trop", "bon", "bonne", "mauvais", "grand", "petit", "gros", "vrai", "ans", "an", "jour", "mois", "année", "rien"}
)

#: Words that end a lemma pair only as the front half of a negation ("ne ... pas adapté").
NEGATIONS: frozenset[str] = frozenset({"pas", "jamais", "rien"})


def _plain(word: str) -> str:
    """Lower case, without accents."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def same_term(a: str, b: str) -> bool:
    """True when two words differ only by accents, a plural, feminine or verb ending, or a noun/verb ending."""
    a, b = _plain(a), _plain(b)
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 3 and long_.startswith(short) and long_[len(short) :] in _ENDINGS:
        return True
    stem = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return stem >= _MIN_STEM and a[stem:] in _DERIVED and b[stem:] in _DERIVED


def _covers(covered: Sequence[str], word: str) -> bool:
    return any(same_term(word, c) for c in covered)


def describing_excerpt(candidates: Sequence[str], min_words: int = 6) -> str:
    """The first candidate (most central first) long enough to describe a theme, else the longest one."""
    for text in candidates:
        if len(text.split()) >= min_words:
            return text
    return max(candidates, key=len, default="")


def describe(text: str, limit: int = _MAX_DESCRIPTION) -> str:
    """One line from an excerpt: whitespace collapsed, cut at a word boundary with "…" when too long."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut} […]"


#: A quote says something when it holds at least this many content lemmas (nouns, verbs, adjectives, adverbs, proper
#: nouns, stop words left out): "Bref, c'est compliqué." (1) and "Il faudrait plusieurs choses." (0) do not.
MIN_CONTENT_WORDS = 3


def keyword_words(keywords: Sequence[str]) -> frozenset[str]:
    """The lemmas of a theme's keywords (lemmas and lemma pairs)."""
    return frozenset(w for term in keywords for w in term.split())


def informativeness(lemmas: Sequence[str], keywords: Collection[str] = ()) -> float:
    """How much an excerpt says, in [0, 1]: half for its distinct content lemmas (up to 8), half for how many of
    them are the theme's own keywords (up to 3: an excerpt specific to the theme, not a generality)."""
    words = set(lemmas)
    hits = sum(1 for w in words if w in keywords)
    return 0.5 * min(len(words), 8) / 8 + 0.5 * min(hits, 3) / 3


def representatives(
    embeddings: np.ndarray,
    centroid: np.ndarray,
    groups: Sequence[str],
    k: int = 5,
    diversity: float = 0.3,
    pool: int = 100,
    lemmas: Sequence[Sequence[str]] | None = None,
    keywords: Collection[str] = (),
) -> list[int]:
    """Indices (into ``embeddings``) of ``k`` excerpts that are central yet diverse, that say something, from
    different respondents.

    Maximal marginal relevance over the ``pool`` most relevant excerpts: each pick maximises
    ``(1 - diversity) * relevance - diversity * similarity to the closest pick``, and an excerpt of a respondent
    already picked is taken only when no other respondent is left. Without ``lemmas`` the relevance is the
    similarity to the centroid; with the content ``lemmas`` of each excerpt it is that similarity weighted by
    :func:`informativeness` (``0.6 + 0.4 * informativeness``, with the theme's ``keywords``), and an excerpt of
    fewer than :data:`MIN_CONTENT_WORDS` content lemmas is taken only when too few others are left.
    """
    if len(embeddings) == 0:
        return []
    centrality = embeddings @ centroid
    relevance = centrality.astype(np.float64)
    says_little = np.zeros(len(centrality), dtype=bool)
    if lemmas is not None:
        info = np.array([informativeness(words, keywords) for words in lemmas], dtype=np.float64)
        relevance = relevance * (0.6 + 0.4 * info)
        says_little = np.array([len(set(words)) < MIN_CONTENT_WORDS for words in lemmas], dtype=bool)
    order = np.lexsort((np.arange(len(relevance)), -relevance, says_little))[:pool]
    chosen: list[int] = []
    used: set[str] = set()
    while len(chosen) < min(k, len(order)):
        best, best_key = -1, (False, False, -np.inf)
        for i in order:
            if i in chosen:
                continue
            redundancy = max((float(embeddings[i] @ embeddings[j]) for j in chosen), default=0.0)
            value = (1 - diversity) * float(relevance[i]) - diversity * redundancy
            key = (not says_little[i], groups[i] not in used, value)
            if key > best_key:
                best, best_key = int(i), key
        chosen.append(best)
        used.add(groups[best])
    return chosen


@dataclass(frozen=True)
class ThemeSummary:
    """What a theme made by a researcher gets at once: a description, keywords and representative excerpts."""

    description: str
    keywords: list[str]
    representatives: list[int]  # indices into the theme's excerpts


def lemma_vectors(lemma_lists: Sequence[Sequence[str]], vocabulary: dict[str, int]) -> np.ndarray:
    """Each excerpt as its bag of lemmas over ``vocabulary``, of unit length (rows of zeros stay zero)."""
    matrix = np.zeros((len(lemma_lists), len(vocabulary)), dtype=np.float64)
    for row, lemmas in enumerate(lemma_lists):
        for lemma in lemmas:
            if lemma in vocabulary:
                matrix[row, vocabulary[lemma]] += 1.0
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def summarise_theme(
    texts: Sequence[str],
    lemma_lists: Sequence[Sequence[str]],
    groups: Sequence[str],
    question_lemma_lists: Sequence[Sequence[str]],
    k: int = 5,
    n_keywords: int = 10,
) -> ThemeSummary:
    """The description, keywords and quotes of a theme from its excerpts' lemmas alone (no model): keywords are
    the lemmas most frequent in the theme and rarest in the question (tf-idf); the quotes are central in that
    lemma space, say something and come from different respondents (:func:`representatives`); the description is
    the most central quote long enough to describe it."""
    if not texts:
        return ThemeSummary("", [], [])
    n = len(question_lemma_lists) or 1
    document_frequency = Counter(w for lemmas in question_lemma_lists for w in set(lemmas))
    counts = Counter(w for lemmas in lemma_lists for w in lemmas)
    weight = {w: c * np.log((1 + n) / (1 + document_frequency.get(w, 0))) for w, c in counts.items()}
    keywords = sorted(weight, key=lambda w: (-weight[w], w))[:n_keywords]
    vocabulary = {w: i for i, w in enumerate(sorted(counts))}
    vectors = lemma_vectors(lemma_lists, vocabulary)
    centroid = vectors.sum(axis=0)
    centroid = centroid / (np.linalg.norm(centroid) or 1.0)
    chosen = representatives(vectors, centroid, groups, k=k, lemmas=lemma_lists, keywords=keyword_words(keywords))
    by_centrality = [texts[i] for i in np.lexsort((np.arange(len(texts)), -(vectors @ centroid)))]
    description = describe(describing_excerpt([texts[i] for i in chosen] + by_centrality))
    return ThemeSummary(description, keywords, chosen)


# -- labels from the phrases respondents wrote ------------------------------------------------------------------------
#: Central excerpts of a theme parsed for its label's phrases.
CENTRAL_EXCERPTS = 30
#: A second phrase joins the label when it scores at least this share of the first's (half that after a single
#: word, which says little alone).
SECOND_SHARE = 0.5
#: A longer phrase takes the score of a shorter one it contains when it carries at least this share of its excerpts.
SUBSUMES = 0.35
#: A phrase of several content words counts this much more than a single word.
PHRASE_BONUS = 1.5
#: Each word beyond three (four for a verb phrase) multiplies a phrase's score by this.
LONG_PENALTY = 0.85
#: Most words in a label of two phrases.
MAX_LABEL_WORDS = 8
#: Words a fallback label does not end on ("manque de", "pas de").
_DANGLING = frozenset(
    {"de", "d'", "du", "des", "la", "le", "les", "l'", "un", "une", "à", "au", "aux", "en", "pour", "par", "sur",
     "avec", "sans", "dans", "et", "ou", "ni", "ne", "n'", "pas", "non", "plus", "jamais", "que", "qui", "très"}
)  # fmt: skip


@dataclass
class _Candidate:
    """A phrase (its key: content lemmas) in one group: how it was written in the central excerpts, and its score."""

    key: tuple[str, ...]
    verbal: bool
    surfaces: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, int] = field(default_factory=dict)  # surface -> rank of the first central excerpt
    weights: list[float] = field(default_factory=list)  # centrality weight of each central excerpt that wrote it
    count: int = 0  # excerpts of the group whose lemmas carry it
    score: float = 0.0

    @property
    def text(self) -> str:
        """The commonest way it was written (then the most central one)."""
        return min(self.surfaces, key=lambda s: (-self.surfaces[s], self.first_seen[s], s))

    @property
    def words(self) -> int:
        return len(self.text.split())


def plain(text: str) -> str:
    """Text compared without case, accents, extra spaces or curly apostrophes."""
    return " ".join(_plain(text).replace("’", "'").split())


def label_parts(label: str) -> list[str]:
    """The phrases a label joins ("Ordinateurs lents, pannes" -> ["Ordinateurs lents", "pannes"])."""
    return [part.strip() for part in label.split(", ") if part.strip()]


def written_in(part: str, texts: Sequence[str]) -> bool:
    """True when ``part`` occurs word for word (case and accents aside) in one of ``texts``."""
    wanted = re.compile(rf"(?<!\w){re.escape(plain(part))}(?!\w)")
    return any(wanted.search(plain(t)) for t in texts)


def fallback_label(text: str, max_words: int = 6) -> str:
    """A label from an excerpt with no phrase: its first words (up to the first punctuation), without the
    articles, prepositions or negations they would end on."""
    words: list[str] = []
    for word in text.split()[:max_words]:
        stripped = word.strip(".,;:!?…()«»\"'-–—•*/")
        if not stripped:  # punctuation alone: skipped at the start, the end of the label after
            if words:
                break
            continue
        words.append(stripped)
        if stripped != word.lstrip("«(\"'-–—•*/"):
            break
    dangling = {plain(w) for w in _DANGLING}
    while words and plain(words[-1]) in dangling:
        words.pop()
    label = " ".join(words)
    return label[:1].upper() + label[1:] if label else "Sans mots-clés"


def _ngrams(words: Sequence[str], longest: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for n in range(1, longest + 1) for i in range(len(words) - n + 1)}


def _alike(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Two phrase keys say the same thing: the same lemmas, up to order and endings."""
    return len(a) == len(b) and all(_covers(b, w) for w in a) and all(_covers(a, w) for w in b)


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return any(same_term(x, y) for x in a for y in b)


def _makes_up(phrase: tuple[str, ...], first: tuple[str, ...], second: tuple[str, ...]) -> bool:
    """True when two keys together, neither alone, hold every word of ``phrase``."""
    alone = any(all(_covers(key, w) for w in phrase) for key in (first, second))
    return not alone and all(_covers(first + second, w) for w in phrase)


def _gather(central: Sequence[Sequence[int]], texts: Sequence[str]) -> list[dict[tuple[str, ...], _Candidate]]:
    """Each group's phrases, from its central excerpts (weight 1 for the most central, down to 0.5)."""
    from verbatim.nlp.phrases import excerpt_phrases  # here: importing this module loads no spaCy

    parsed = iter(excerpt_phrases([texts[i] for rows in central for i in rows]))
    groups = []
    for rows in central:
        found: dict[tuple[str, ...], _Candidate] = {}
        for rank in range(len(rows)):
            seen: set[tuple[str, ...]] = set()
            for phrase in next(parsed):
                c = found.setdefault(phrase.key, _Candidate(phrase.key, phrase.verbal))
                c.surfaces[phrase.text] += 1
                c.first_seen.setdefault(phrase.text, rank)
                if phrase.key not in seen:
                    c.weights.append(1.0 - 0.5 * rank / len(rows))
                    seen.add(phrase.key)
        groups.append(found)
    return groups


def _score(
    groups: list[dict[tuple[str, ...], _Candidate]],
    lemmas: Sequence[Sequence[str]],
    members: Sequence[Sequence[int]],
    common: Collection[str],
) -> None:
    """Each candidate's score in its group (see :func:`phrase_labels`)."""
    from verbatim.nlp.phrases import MAX_KEY  # here: importing this module loads no spaCy

    group_of = np.full(len(lemmas), -1, dtype=int)
    for g, rows in enumerate(members):
        group_of[list(rows)] = g
    keys = {k for found in groups for k in found}
    carriers: dict[tuple[str, ...], list[int]] = {k: [] for k in keys}
    for i, words in enumerate(lemmas):
        for gram in _ngrams(words, MAX_KEY) & keys:
            carriers[gram].append(i)
    for g, found in enumerate(groups):
        size = max(len(members[g]), 1)
        raw: dict[tuple[str, ...], float] = {}
        for key, c in found.items():
            c.count = max(int(np.sum(group_of[carriers[key]] == g)), len(c.weights))
            overall = max(len(carriers[key]), c.count)
            weak = all(w in WEAK_WORDS or w in common or w in NEGATIONS for w in key)
            raw[key] = (
                (c.count / size)
                * (c.count / overall)
                * float(np.mean(c.weights))
                * (0.1 if weak else 1.0)
                * (0.25 if c.count < 2 <= size // 5 else 1.0)
            )
        for key, c in found.items():
            # A phrase that carries a good share of the excerpts of a shorter one it contains says it better
            # ("manque de formation" for "formation"): it takes that one's score, and a little more.
            best = raw[key]
            for n in range(1, len(key)):
                for i in range(len(key) - n + 1):
                    shorter = found.get(key[i : i + n])
                    if shorter is not None and c.count >= SUBSUMES * shorter.count:
                        best = max(best, raw[shorter.key] * 1.02)
            # A proposal is written with its verb ("pérenniser les postes"): a verb phrase may be a word longer.
            length = c.words - (1 if c.verbal else 0)
            c.score = best * (PHRASE_BONUS if len(key) > 1 else 1.0) * LONG_PENALTY ** max(0, length - 3)


def _rank(c: _Candidate) -> tuple[float, bool, tuple[str, ...]]:
    """Best first; ties go to a verb phrase, what respondents propose ("maintenir un accueil physique")."""
    return (-c.score, not c.verbal, c.key)


def phrase_labels(
    texts: Sequence[str],
    lemmas: Sequence[Sequence[str]],
    members: Sequence[Sequence[int]],
    central: Sequence[Sequence[int]],
    common: Collection[str] = (),
) -> list[str]:
    """One label per group of excerpts (the themes, or the families, of a question), from the phrases respondents
    wrote (:mod:`verbatim.nlp.phrases`).

    ``texts`` and ``lemmas`` are every excerpt of the question; ``members`` the excerpts of each group, ``central``
    those parsed for phrases, most central first (:data:`CENTRAL_EXCERPTS`). A phrase's score in a group is a
    class-based TF-IDF over its key (its content lemmas, counted in every excerpt's lemmas): the share of the
    group's excerpts that carry it times the share of the question's excerpts carrying it that are in the group
    (how specific it is against the other groups); times the mean centrality of the central excerpts that wrote
    it (1 for the most central, down to 0.5); times :data:`PHRASE_BONUS` for a key of several lemmas. A key of
    weak words or of the question's subject (``common``) counts a tenth, a phrase written once in a group of five
    excerpts or more a quarter. A phrase that carries at least :data:`SUBSUMES` of the excerpts of a shorter one it
    contains takes its score ("manque de formation" over "formation"); each word beyond three (a verb phrase:
    four) costs :data:`LONG_PENALTY`, and ties go to verb phrases.

    Each group takes its best phrase not alike one another group took (the group where a phrase scores highest
    takes it first), then a second one that shares no word with it, when it scores at least
    :data:`SECOND_SHARE` of the first (half that after a single word) and the two make at most
    :data:`MAX_LABEL_WORDS` words. Phrases are shown as most often written; the label starts with a capital. A
    group with no phrase at all is labelled by its most central excerpt's first words (:func:`fallback_label`).
    """
    groups = _gather(central, texts)
    _score(groups, lemmas, members, common)
    ranked = [sorted(found.values(), key=_rank) for found in groups]
    lead: list[_Candidate | None] = [None] * len(members)
    taken: list[tuple[str, ...]] = []
    for g, c in sorted(((g, c) for g, found in enumerate(ranked) for c in found), key=lambda gc: (_rank(gc[1]), gc[0])):
        if lead[g] is None and not any(_alike(c.key, t) for t in taken):
            lead[g] = c
            taken.append(c.key)
    labels = []
    for g, first in enumerate(lead):
        if first is None:
            rows = list(central[g]) or list(members[g])
            labels.append(fallback_label(texts[rows[0]]) if rows else "Sans mots-clés")
            continue
        items = [first.text]
        # The second says something else than the first, and the two do not make up another theme's phrase
        # ("formation" and "manque" where another theme is "manque de formation").
        others = [t for t in taken if t != first.key]
        second = next(
            (
                c
                for c in ranked[g]
                if c is not first
                and not _overlap(c.key, first.key)
                and not any(_makes_up(t, first.key, c.key) for t in others)
            ),
            None,
        )
        share = SECOND_SHARE if len(first.key) > 1 else SECOND_SHARE / 2
        if second is not None and second.score >= share * first.score and first.words + second.words <= MAX_LABEL_WORDS:
            items.append(second.text)
        label = ", ".join(items)
        labels.append(label[:1].upper() + label[1:])
    return labels
