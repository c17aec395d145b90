"""The curated French stop list used for theme words.

spaCy's French ``STOP_WORDS`` (507 entries) drops words that carry meaning in survey answers: negation and quantity
("pas", "plus", "moins", "sans", "trop"), people ("personne", "gens", "seul"), frequency ("toujours", "souvent",
"parfois"). We keep those, and add what carries no theme: auxiliaries and light verbs, fillers, answer words.
"""

from __future__ import annotations

from verbatim.nlp.heavy_imports import import_french

_SPACY_STOP_WORDS: frozenset[str] = frozenset(import_french().STOP_WORDS)

#: Words spaCy calls stop words that say something in an answer about daily work.
MEANINGFUL = frozenset(
    {
        "pas", "plus", "moins", "très", "tres", "sans", "personne", "gens", "seul", "seule", "seuls", "seules",
        "toujours", "souvent", "parfois", "nouveau", "proche", "retour", "directement", "directe", "suivre",
        "possible", "possibles", "ouvert", "ouverte", "ouverts", "longtemps", "rendre", "laisser", "dire", "parler",
        "assez", "peu", "bas", "reste", "compris", "nombreux", "nombreuses", "différent", "différente",
    }
)  # fmt: skip

#: Words spaCy keeps that never make a theme: auxiliaries, light verbs, fillers, answer words.
EXTRA = frozenset(
    {
        "être", "avoir", "faire", "pouvoir", "devoir", "falloir", "aller", "venir", "mettre", "donner", "prendre",
        "vouloir", "savoir", "voir", "trouver", "sembler", "arriver", "passer", "chose", "truc", "fois", "etc", "oui",
        "non", "ok", "bien", "vraiment", "beaucoup", "aujourd'hui", "aujourd’hui", "niveau", "cas", "part", "exemple",
        "ex", "nsp", "ras", "idée", "actuellement", "forcément", "notamment", "également", "ainsi", "si", "alors",
        "aussi", "donc", "enfin", "cela", "ça", "ca", "dont", "tout", "tous", "toute", "toutes", "mme", "mr",
        "monsieur", "madame", "mademoiselle", "mlle", "bref", "complètement", "franchement", "carrément",
    }
)  # fmt: skip

STOP_WORDS: frozenset[str] = frozenset((_SPACY_STOP_WORDS - MEANINGFUL) | EXTRA)


def is_stop_word(lemma: str) -> bool:
    """True when ``lemma`` (lower-cased) carries no theme."""
    return lemma in STOP_WORDS
