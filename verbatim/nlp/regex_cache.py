"""Large regular expressions compiled once per machine, not once per process.

Importing ``spacy.lang.fr`` compiles its tokenizer exceptions' ``TOKEN_MATCH``: one pattern of 1.45 million
characters (the hyphenated and elided French words spaCy knows), about 2 s of processor time in every process that
imports it: the command's, each Dask worker's, the app's worker, each test that starts one of them.

Python compiles a pattern in two steps. Its parser and compiler, pure Python, turn the text into a list of integers
(the pattern's code): all of the 2 s. Then ``_sre.compile`` builds the pattern object from that list, in
milliseconds. Within :func:`kept_compiles`, a pattern of :data:`LARGE` characters or more is compiled as usual the
first time, and the arguments of its ``_sre.compile`` call are written to a file (``marshal``), named after a hash of
the pattern, its flags, Python's version and the regex engine's ``MAGIC``. The next process reads them and calls
``_sre.compile`` again: the same pattern, code included (patterns compare equal only when their code does), in 6 ms.

The files live in :func:`cache_folder`, ``regex`` beside numba's cache (``NUMBA_CACHE_DIR``, which the commands, the
app's worker and the tests set). Without that setting, or when the folder cannot be written, patterns compile as
usual. A file that cannot be read, or whose code the engine refuses (``_sre.compile`` checks it), is compiled again
and written anew.
"""

from __future__ import annotations

import _sre
import contextlib
import hashlib
import marshal
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from re import _compiler  # type: ignore[attr-defined]  # the stdlib's compiler, which re.compile calls
from typing import Any

from verbatim.paths import write_atomically

#: Patterns of at least this many characters are kept on disk (spaCy's French ``TOKEN_MATCH``: 1,450,369).
LARGE = 100_000

_LOCK = threading.RLock()


def cache_folder() -> Path | None:
    """``regex`` beside ``NUMBA_CACHE_DIR`` (the house's folder of compiled code), or None when that is not set."""
    numba_cache = os.environ.get("NUMBA_CACHE_DIR")
    return Path(numba_cache).parent / "regex" if numba_cache else None


def entry_name(pattern: str, flags: int) -> str:
    """The file of ``pattern`` compiled with ``flags`` by this Python."""
    digest = hashlib.sha256(f"{sys.version}\0{_sre.MAGIC}\0{_sre.CODESIZE}\0{int(flags)}\0".encode())
    digest.update(pattern.encode("utf-8", "surrogatepass"))
    return f"{digest.hexdigest()}.marshal"


@contextmanager
def kept_compiles(folder: Path | None = None) -> Iterator[None]:
    """Within this block, patterns of :data:`LARGE` characters or more are read from ``folder`` (default
    :func:`cache_folder`) once compiled there; without a folder, nothing changes."""
    folder = folder if folder is not None else cache_folder()
    if folder is None:
        yield
        return
    with _LOCK:
        original = _compiler.compile

        def compile(p: Any, flags: int = 0) -> Any:
            if isinstance(p, str) and len(p) >= LARGE:
                return _compile_kept(original, p, flags, folder / entry_name(p, flags))
            return original(p, flags)

        _compiler.compile = compile
        try:
            yield
        finally:
            _compiler.compile = original


def _compile_kept(original: Callable[[str, int], Any], pattern: str, flags: int, path: Path) -> Any:
    try:
        return _sre.compile(pattern, *marshal.loads(path.read_bytes()))
    except (OSError, EOFError, ValueError, TypeError, RuntimeError):  # none yet, unreadable, or refused: compile
        pass
    compiled, arguments = _compile_recording(original, pattern, flags)
    if arguments is None:
        return compiled
    # Whole or not at all, when two processes write it at once; if it cannot be written, the pattern is compiled all
    # the same and the next process compiles it again.
    with contextlib.suppress(OSError, ValueError):
        write_atomically(path, lambda tmp: tmp.write_bytes(marshal.dumps(arguments)))
    return compiled


def _compile_recording(
    original: Callable[[str, int], Any], pattern: str, flags: int
) -> tuple[Any, tuple[Any, ...] | None]:
    """Compile ``pattern`` as Python does and return the pattern with the arguments (after the pattern itself) of
    the ``_sre.compile`` call that built it, as plain ints, lists, dicts and tuples (None if that call is not the
    one this module knows: another Python)."""
    calls: list[tuple[Any, ...]] = []

    def recording(*arguments: Any) -> Any:
        calls.append(arguments)
        return _sre.compile(*arguments)

    # The compiler looks up ``_sre`` in its module at each call: a copy of it whose compile() records its arguments.
    engine = types.SimpleNamespace(**{name: getattr(_sre, name) for name in dir(_sre) if not name.startswith("__")})
    engine.compile = recording
    _compiler._sre = engine
    try:
        compiled = original(pattern, flags)
    finally:
        _compiler._sre = _sre
    ours = [call for call in calls if call[0] is pattern]  # another thread may compile meanwhile
    if len(ours) != 1 or len(ours[0]) != 6:
        return compiled, None
    _, all_flags, code, groups, groupindex, indexgroup = ours[0]
    # The compiler's opcodes are int subclasses, which marshal does not write.
    return compiled, (int(all_flags), [int(op) for op in code], int(groups), dict(groupindex), tuple(indexgroup))
