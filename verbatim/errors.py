"""One small hierarchy of errors whose messages a researcher can act on.

Every error raised on purpose by Verbatim derives from :class:`VerbatimError`. The command line prints its message
(no traceback) and exits with a non-zero status. Messages are in English, name the file, column or row concerned and
say what to do.
"""

from __future__ import annotations


class VerbatimError(Exception):
    """Base of all the errors Verbatim raises on purpose."""


class InputFileError(VerbatimError):
    """The survey file cannot be read: missing, empty, binary, unknown encoding, unknown sheet."""


class ColumnError(VerbatimError):
    """Columns named on the command line are missing from the survey file."""


class SurveyDataError(VerbatimError):
    """The rows of the survey break a rule: duplicate respondent ids, no usable answer at all."""


class ConfigError(VerbatimError):
    """A parameter is invalid (unknown encoder, bad seed...)."""


class StoreError(VerbatimError):
    """The database cannot be opened or does not hold what was asked (unknown run id...)."""
