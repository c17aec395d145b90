"""Safe cells and safe files: formula neutralisation, sheet names, writing a file all at once or not at all.

Formula injection (OWASP "CSV injection"): a spreadsheet may run a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return as a formula. Survey answers are typed by anyone, so every exported text cell is made
inert:

* **CSV**: such a cell gets a leading apostrophe ``'`` (the OWASP advice: Excel and LibreOffice show the text, run
  nothing). One exception, so that French answers still read naturally: an answer that starts as a list item,
  ``-`` followed by a space or a line break (``- pas de temps pour se former``), has that first hyphen written as
  an en dash ``–``, the French typographic list dash (``– pas de temps pour se former``), instead of getting
  ``'- pas de temps…``. Only the first character of the cell changes, and only in CSV files; the en dash can never
  start a formula.
* **XLSX**: text is written as string cells (``data_type == "s"``), never as formulas, so nothing needs changing:
  ``=SOMME(A1)`` or ``- pas de temps`` appear exactly as the respondent wrote them.

Control characters that XML 1.0 forbids (hence XLSX, DOCX and REFI-QDA) are removed from text written there.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LIST_ITEM = re.compile(r"-[ \t\n\u00a0\u202f]")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31


def neutralise_csv(value: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula (see the module docstring for the list-item exception)."""
    if not value.startswith(FORMULA_STARTS):
        return value
    if _LIST_ITEM.match(value):
        return "–" + value[1:]
    return "'" + value


def xml_text(value: str) -> str:
    """``value`` without the control characters XML 1.0 cannot hold (tab, line feed and carriage return stay)."""
    return _XML_ILLEGAL.sub("", value)


def sheet_names(wanted: Iterable[str], reserved: Iterable[str] = ()) -> list[str]:
    """Excel sheet names for ``wanted``, in order: at most 31 characters, none of ``[]:*?/\\``, not starting or
    ending with an apostrophe, not blank, unique regardless of case (also against ``reserved``): ``name (2)``."""
    taken = {r.casefold() for r in reserved}
    names = []
    for raw in wanted:
        base = _SHEET_FORBIDDEN.sub("_", raw).strip().strip("'").strip() or "question"
        if base.casefold() == "history":  # reserved by Excel
            base = "history_"
        name = base[:SHEET_NAME_MAX].rstrip("'")
        n = 1
        while name.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[: SHEET_NAME_MAX - len(suffix)].rstrip("'") + suffix
        taken.add(name.casefold())
        names.append(name)
    return names


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


@contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """Yield a hidden staging folder beside ``folder``; on success its files are moved into ``folder`` (created if
    needed, other files there left alone), on failure it is removed and ``folder`` is untouched."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    try:
        yield staging
        folder.mkdir(exist_ok=True)
        for item in sorted(staging.rglob("*")):
            if item.is_file():
                target = folder / item.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(item, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
