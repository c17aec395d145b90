"""Large regular expressions are compiled once and read back: the same pattern, code included.

Patterns compare equal only when their flags and compiled code are the same (CPython compares the code word for
word), so ``==`` against a pattern compiled the usual way checks what was read back.
"""

from __future__ import annotations

import json
import marshal
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from re import _compiler  # type: ignore[attr-defined]

import pytest

from verbatim.nlp.regex_cache import LARGE, cache_folder, entry_name, kept_compiles

#: A pattern above the threshold: an alternation of 6,000 made-up hyphenated words, as spaCy's French one is.
WORDS = [f"mot{i}-trait{i % 97}" for i in range(6_000)]
PATTERN = "(?iu)" + "|".join(f"(?:{word})" for word in WORDS)


@pytest.fixture(autouse=True)
def _no_reuse() -> Iterator[None]:
    """``re`` keeps its last 512 patterns: each compile here must reach the compiler."""
    re.purge()
    yield
    re.purge()


def _usual(pattern: str) -> re.Pattern[str]:
    re.purge()
    return re.compile(pattern)


def _fail_if_compiled(*_: object) -> None:
    raise AssertionError("the pattern was compiled again instead of read from the cache")


def test_a_large_pattern_is_written_once_then_read_back_equal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(PATTERN) >= LARGE
    with kept_compiles(tmp_path):
        first = re.compile(PATTERN)
    entry = tmp_path / entry_name(PATTERN, 0)
    assert [p.name for p in tmp_path.iterdir()] == [entry.name]
    usual = _usual(PATTERN)
    assert first == usual

    re.purge()
    monkeypatch.setattr(_compiler, "_code", _fail_if_compiled)  # the compiler's code generator must not run
    with kept_compiles(tmp_path):
        again = re.compile(PATTERN)
    assert again == usual
    assert again.match("MOT123-TRAIT26") and not again.match("mot123-trait27")
    assert re.compile.__module__ == "re" and _compiler.compile.__module__ == "re._compiler"  # put back


def test_small_patterns_and_no_folder_are_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with kept_compiles(tmp_path):
        small = re.compile(r"(?i)aujourd['’]hui")
    assert small.match("Aujourd'hui") and list(tmp_path.iterdir()) == []

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert cache_folder() is None
    with kept_compiles():
        assert re.compile(PATTERN) == _usual(PATTERN)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    assert cache_folder() == tmp_path / "regex"


@pytest.mark.parametrize(
    "content",
    [
        b"",  # an empty file (a write cut short)
        b"\x00not marshal at all",
        marshal.dumps((0, [999_999, 1, 2], 0, {}, (None,))),  # code the regex engine refuses
        marshal.dumps("a string"),  # not the arguments at all
    ],
    ids=["empty", "garbage", "refused-code", "wrong-shape"],
)
def test_an_unusable_entry_is_compiled_again_and_replaced(tmp_path: Path, content: bytes) -> None:
    entry = tmp_path / entry_name(PATTERN, 0)
    entry.write_bytes(content)
    with kept_compiles(tmp_path):
        compiled = re.compile(PATTERN)
    assert compiled == _usual(PATTERN)
    assert entry.read_bytes() != content
    re.purge()
    with kept_compiles(tmp_path):
        assert re.compile(PATTERN) == compiled


def test_another_python_or_flags_is_another_entry() -> None:
    assert entry_name(PATTERN, 0) != entry_name(PATTERN, re.IGNORECASE)
    assert entry_name(PATTERN, 0) != entry_name(PATTERN + "|x", 0)


def test_spacy_french_reads_its_pattern_from_the_cache_in_a_new_process(tmp_path: Path) -> None:
    """A fresh interpreter importing Verbatim's stop words (spaCy's French under them) writes the entry of spaCy's
    1.45-million-character pattern; the next one reads it back: equal to the pattern compiled the usual way, and
    the French pipeline splits hyphenated words and elisions as before."""
    code = """
import json, re
from re import _compiler
import verbatim.nlp.stopwords
from spacy.lang.fr.tokenizer_exceptions import TOKEN_MATCH
pattern = TOKEN_MATCH.__self__
re.purge()
usual = _compiler.compile(pattern.pattern, 0)
from verbatim.nlp.spacy_pipeline import load_pipeline
tokens = [t.text for t in load_pipeline("analyse")("Aujourd'hui, c'est-à-dire peut-être demain, l'assistante sociale.")]
print(json.dumps({"equal": pattern == usual, "tokens": tokens}))
"""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}

    def probe() -> dict[str, object]:
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    first = probe()
    entries = list((tmp_path / "regex").iterdir())
    assert len(entries) == 1 and entries[0].stat().st_size > 100_000
    written = entries[0].stat().st_mtime_ns
    second = probe()
    assert first["equal"] is True and second["equal"] is True
    assert first["tokens"] == second["tokens"]
    assert {"Aujourd'hui", "c'", "peut-être", "l'"} <= set(second["tokens"])  # type: ignore[arg-type]
    assert list((tmp_path / "regex").iterdir()) == entries and entries[0].stat().st_mtime_ns == written  # read
