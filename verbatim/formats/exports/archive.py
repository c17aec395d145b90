"""One ZIP of a folder of exports (the report: ``report.md``, ``report.docx`` and its charts), for a download."""

from __future__ import annotations

import zipfile
from pathlib import Path

from verbatim.errors import ConfigError
from verbatim.formats.exports.cells import write_atomically


def zip_folder(folder: Path, out: Path) -> Path:
    """Zip every file under ``folder`` (paths relative to it, sub-folders kept, hidden files and ``out`` itself
    left out) into ``out``, written at once: an error leaves no half-written ZIP. Returns ``out``."""
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder: nothing to zip")
    target = out.resolve()
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.resolve() != target
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise ConfigError(f"{folder} holds no file to zip")

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(folder).as_posix())

    return write_atomically(out, write)
