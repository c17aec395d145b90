"""The codebook CSV in a real Taguette: installed from the package registry into a virtual environment of its own
(its pinned dependencies never touch ours; built once per Taguette version under ``.cache/taguette/<version>`` and
reused), started on loopback with a temporary database, logged in through its single-user link, a project created
and the codebook imported through its web form ("Import codebook", then the confirmation form), as a researcher
would. Then the tags are counted in Taguette's database."""

from __future__ import annotations

import csv
import os
import queue
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import html

from tests.export_support import ReviewedRun
from verbatim.formats.exports import export
from verbatim.formats.exports.data import RunView

pytestmark = pytest.mark.slow  # installs Taguette (a minute the first time) and analyses the survey

TAGUETTE_VERSION = "1.5.2"
ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "taguette"


def taguette_venv(version: str = TAGUETTE_VERSION) -> Path:
    """The virtual environment holding Taguette ``version``: reused when complete, (re)built otherwise."""
    venv = CACHE / version
    ready = venv / "verbatim-ready"
    if ready.is_file():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"taguette=={version}"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if pip.returncode:
        shutil.rmtree(venv, ignore_errors=True)
        pytest.skip(f"pip cannot install taguette=={version} here: {pip.stderr.strip()[-600:]}")
    ready.write_text(version, encoding="utf-8")
    return venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lines(stream: object, out: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        out.put(line)


@pytest.fixture
def taguette(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A running Taguette: (its single-user login link on 127.0.0.1, its database file)."""
    venv = taguette_venv()
    port, database = _free_port(), tmp_path / "taguette.sqlite3"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "share"), "LC_ALL": "C.UTF-8"}
    process = subprocess.Popen(
        [str(venv / "bin" / "taguette"), "--no-browser", "--bind", "127.0.0.1", "--port", str(port),
         "--database", str(database)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    link = None
    deadline = time.monotonic() + 120
    try:
        while link is None and time.monotonic() < deadline and process.poll() is None:
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            found = re.search(r"http://localhost:\d+/\?token=\w+", seen[-1])
            link = found.group(0).replace("localhost", "127.0.0.1") if found else None
        assert link, "Taguette did not start:\n" + "".join(seen[-30:])
        yield link, database
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _form_fields(page: str, action: str) -> list[tuple[str, str]]:
    """What a browser sends for the form posting to ``action``: named inputs, checkboxes only when checked."""
    form = next(f for f in html.fromstring(page).forms if (f.action or "").endswith(action))
    fields = []
    for element in form.inputs:
        name = element.get("name")
        if not name or element.get("disabled") is not None or element.get("type") in ("submit", "file"):
            continue
        if element.get("type") == "checkbox" and element.get("checked") is None:
            continue
        fields.append((name, element.get("value") or ("on" if element.get("type") == "checkbox" else "")))
    return fields


def test_codebook_csv_imports_into_taguette(
    reviewed: ReviewedRun, run: RunView, taguette: tuple[str, Path], tmp_path: Path
) -> None:
    codebook = export(run, "codebook", tmp_path / "codebook.csv")[0]
    with codebook.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    paths = {r["path"]: r["description"] for r in rows}
    assert len(paths) == len(rows), "one path per theme: Taguette would skip a repeated one"

    link, database = taguette
    with httpx.Client(follow_redirects=True, timeout=60) as browser:
        assert browser.get(link).status_code == 200  # the single-user link logs in as admin
        page = browser.get(link.split("?")[0] + "project/new")
        assert page.status_code == 200
        created = browser.post(
            str(page.url), data=dict(_form_fields(page.text, "/project/new")) | {"name": "Verbatim", "description": ""}
        )
        assert created.status_code == 200, created.text[-2000:]
        project_id = re.search(r"/project/(\d+)", str(created.url)).group(1)  # type: ignore[union-attr]
        action = f"/project/{project_id}/import_codebook"
        form = browser.get(link.split("/?")[0] + action)
        assert form.status_code == 200 and 'name="file"' in form.text
        review = browser.post(
            str(form.url), data=dict(_form_fields(form.text, action)),
            files={"file": ("codebook.csv", codebook.read_bytes(), "text/csv")},
        )  # fmt: skip
        assert review.status_code == 200, re.sub(r"\s+", " ", review.text)[-1500:]
        confirm = _form_fields(review.text, action)
        assert sum(name.endswith("-import") for name, _ in confirm) == len(paths)
        done = browser.post(str(review.url), data=dict(confirm))
        assert done.status_code == 200, re.sub(r"\s+", " ", done.text)[-1500:]

    with sqlite3.connect(database) as db:
        tags = dict(db.execute("SELECT path, description FROM tags WHERE project_id = ?", (int(project_id),)))
    assert set(tags) == {*paths, "interesting"}, "every theme, beside Taguette's own default tag"
    assert all(tags[p] == d for p, d in paths.items()), "with its description"
    assert len(tags) == len(rows) + 1
