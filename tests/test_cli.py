"""The command line: bad input gets a clear message, a non-zero exit, and writes nothing."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from tests.conftest import SAMPLE
from verbatim.cli.main import app

runner = CliRunner()
BASE = ["--id-column", "id", "--question", "difficultes"]


def _analyse(tmp_path: Path, survey: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["analyse", str(survey), *BASE, "--out", str(tmp_path / "runs"), *extra])
    return result.exit_code, result.output


def _assert_failed_cleanly(tmp_path: Path, code: int, output: str, *expected: str) -> None:
    assert code == 2, output
    assert "Error:" in output and "Traceback" not in output
    flat = " ".join(output.split())
    for text in expected:
        assert text in flat, flat
    assert not (tmp_path / "runs").exists(), "nothing written"


def test_missing_column_lists_the_columns(tmp_path: Path) -> None:
    code, out = _analyse(tmp_path, SAMPLE, "--question", "Q12", "--attribute", "profesion")
    _assert_failed_cleanly(tmp_path, code, out, "'Q12'", "'profesion'", "profession", "difficultes")


def test_unknown_sheet(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Réponses"
    sheet.append(["id", "difficultes"])
    sheet.append(["R1", "Pas de réseau en visite à domicile."])
    path = tmp_path / "survey.xlsx"
    book.save(path)
    code, out = _analyse(tmp_path, path, "--sheet", "Feuil2")
    _assert_failed_cleanly(tmp_path, code, out, "Feuil2", "Réponses")


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"", "empty.csv", "empty"),
        (b"id;difficultes\n", "header.csv", "no rows"),
        (bytes(range(256)) * 8, "binary.csv", "binary"),
        (b"id;difficultes\nR1;\nR2;RAS\nR3;  \n", "blank.csv", "no answer to analyse"),
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, name: str, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, out = _analyse(tmp_path, path)
    _assert_failed_cleanly(tmp_path, code, out, expected)


def test_missing_file(tmp_path: Path) -> None:
    code, out = _analyse(tmp_path, tmp_path / "nope.csv")
    _assert_failed_cleanly(tmp_path, code, out, "nope.csv")


def test_duplicate_ids_are_named(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id;difficultes\nR1;Trop d'outils\nR2;Pas de réseau\nR1;Pas de formation\n", encoding="utf-8")
    code, out = _analyse(tmp_path, path)
    _assert_failed_cleanly(tmp_path, code, out, "R1", "1", "3")


def test_unknown_encoder(tmp_path: Path) -> None:
    code, out = _analyse(tmp_path, SAMPLE, "--encoder", "bert")
    _assert_failed_cleanly(tmp_path, code, out, "unknown encoder")


def test_help_lists_the_contract() -> None:
    result = runner.invoke(app, ["analyse", "--help"])
    assert result.exit_code == 0
    for option in ("--id-column", "--question", "--attribute", "--out", "--seed", "--encoder", "--sheet"):
        assert option in result.output


def _command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``verbatim ARGS`` in a process of its own, as a user runs it, its data under ``tmp_path``."""
    env = {**os.environ, "VERBATIM_DATA_DIR": str(tmp_path / "data")}
    env.pop("PREFECT_API_URL", None)  # its own ephemeral server, as from a shell
    return subprocess.run(
        [sys.executable, "-m", "verbatim.cli", *args], env=env, capture_output=True, text=True, timeout=600
    )


def _servers_of(data_dir: Path) -> list[str]:
    """The command lines of Prefect server processes started for a command whose data is under ``data_dir``."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        try:
            if "server:create_app" in command and process.environ().get("VERBATIM_DATA_DIR") == str(data_dir):
                found.append(command)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_a_refused_file_ends_with_its_error_alone(tmp_path: Path) -> None:
    """``analyse`` starts Prefect's server before it checks the file (the server takes seconds to start): a file it
    refuses still ends with one error line, status 2, no word of the server, and no server left running."""
    survey = tmp_path / "survey.csv"
    survey.write_text("id;autre\nR1;Le logiciel plante souvent.\n", encoding="utf-8")
    failed = _command(tmp_path, "analyse", str(survey), *BASE)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 2
    assert "'difficultes' not found" in output and "'autre'" in output
    assert "server" not in output, output
    assert _servers_of(tmp_path / "data") == []


def test_the_command_s_exit_status_survives_its_quick_exit(tmp_path: Path) -> None:
    """The command skips the interpreter's teardown at exit: its status must still be the command's."""
    assert _command(tmp_path, "--help").returncode == 0
    failed = _command(tmp_path, "analyse", str(tmp_path / "nope.csv"), *BASE)
    assert failed.returncode == 2
    assert "nope.csv" in failed.stdout + failed.stderr


@pytest.mark.slow
def test_an_analysis_ends_with_its_server_stopped_and_its_output_whole(tmp_path: Path) -> None:
    """After the quick exit, every exit handler has run: the ephemeral Prefect server was stopped (nothing listens
    on its port), and what the command printed last is there."""
    survey = tmp_path / "small.csv"
    rows = [f"R{i};Le logiciel {i} plante souvent et nous perdons du temps." for i in range(30)]
    survey.write_text("id;difficultes\n" + "\n".join(rows) + "\n", encoding="utf-8")
    done = _command(tmp_path, "analyse", str(survey), *BASE)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Results:" in done.stdout and "manifest.json" in done.stdout
    port = re.search(r"Starting temporary server on http://127\.0\.0\.1:(\d+)", output)
    assert port, output[-3000:]
    assert "Stopping temporary server" in output
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(port.group(1)))) != 0, "the server's process is gone"
