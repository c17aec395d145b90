"""Where the service writes: everything under one folder, ``VERBATIM_DATA_DIR`` (default ``./data``).

Uploads, run folders, caches, the SQLite database and the secret key all live below it; ``VERBATIM_DATABASE_URL``
still overrides the database. Like :mod:`verbatim.errors`, every floor may import this module.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "VERBATIM_DATA_DIR"


def data_dir() -> Path:
    """``VERBATIM_DATA_DIR``, else ``./data`` (read at each call, so a test or a server may set it late)."""
    return Path(os.environ.get(DATA_DIR_ENV) or "data")


def runs_dir() -> Path:
    return data_dir() / "runs"


def cache_dir() -> Path:
    return data_dir() / "cache"


def uploads_dir() -> Path:
    return data_dir() / "uploads"


def database_file() -> Path:
    return data_dir() / "verbatim.db"


def secret_file() -> Path:
    return data_dir() / ".secret_key"
