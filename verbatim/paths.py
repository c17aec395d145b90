"""Where the service writes, and how: everything under one folder, ``VERBATIM_DATA_DIR`` (default ``./data``),
each file written whole or not at all (:func:`write_atomically`).

Uploads, run folders, caches, the SQLite database and the secret key all live below it; ``VERBATIM_DATABASE_URL``
still overrides the database. Like :mod:`verbatim.errors`, every floor may import this module.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
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


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a hidden file beside ``path``, then rename it to ``path``: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files: give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
