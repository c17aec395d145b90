"""Text folding for search: lower case without accents, one character for one character, so that a match found in
the folded text is at the same offsets in the text as written ("Ça" and "ça" and "ca" fold alike)."""

from __future__ import annotations

import functools
import unicodedata


@functools.lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    base = unicodedata.normalize("NFD", c)[0].lower()
    return base[0] if base else c


def fold(text: str) -> str:
    """``text`` lower-cased and without accents, of the same length ("Éducatrice" -> "educatrice")."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(c) for c in text)
