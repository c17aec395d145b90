"""The kinds of personal data pseudonymisation masks, apart from the pseudonymiser itself: the flows' settings, the
app and the API name them without importing spaCy (seconds of start-up for a web worker that never tokenises)."""

from __future__ import annotations

from enum import StrEnum


class MaskCategory(StrEnum):
    """A kind of personal data; the value is the name written in the placeholder, e.g. ``[TÉLÉPHONE]``."""

    PERSONNE = "PERSONNE"
    EMAIL = "EMAIL"
    TELEPHONE = "TÉLÉPHONE"
    ADRESSE = "ADRESSE"
    NUMERO = "NUMÉRO"
    URL = "URL"
    DATE_NAISSANCE = "DATE DE NAISSANCE"
