"""Prefect's temporary server as the commands start it (``verbatim.flows.prefect_server``): a real uvicorn child
serving Prefect's API, used by a real flow, in a fresh interpreter with no ``PREFECT_API_URL``, as from a shell."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import json, sys
from prefect import flow, get_run_logger, task
from prefect.settings import PREFECT_API_URL, get_current_settings
from verbatim.flows.prefect_server import start_temporary_server

ready = start_temporary_server(at_least=120)
ready()
heartbeat = get_current_settings().flows.heartbeat_frequency

@task
def double(x):
    get_run_logger().info("doubling %d", x)
    return 2 * x

@flow
def twice():
    return double(21)

result = twice()
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    runs = client.read_flow_runs()
print(json.dumps({
    "result": result,
    "api_url": PREFECT_API_URL.value(),
    "runs": [[r.name, r.state_name] for r in runs],
    "server_code_here": "prefect.server.api.server" in sys.modules,
    "heartbeat": heartbeat,
}))
"""


def _run(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_flow_reports_to_the_temporary_server_which_stops_at_exit(tmp_path: Path) -> None:
    done = _run(tmp_path, SCRIPT)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["result"] == 42
    port = int(report["api_url"].removeprefix("http://127.0.0.1:").removesuffix("/api"))
    assert report["runs"] and all(state == "Completed" for _, state in report["runs"])  # the flow ran against it
    assert not report["server_code_here"], "Prefect's server code was imported in the command's process"
    assert report["heartbeat"] is None  # nobody reads a temporary server's heartbeats; a run's end waited for them
    assert f"Starting temporary server on http://127.0.0.1:{port}" in done.stderr
    assert f"Stopping temporary server on http://127.0.0.1:{port}" in done.stderr
    assert "View at" not in done.stderr  # the server has no UI to link to
    assert "Error" not in done.stderr, done.stderr[-3000:]  # the last logs reached the server before it stopped
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server's process is gone"


def test_a_named_server_is_used_and_none_is_started(tmp_path: Path) -> None:
    code = (
        "import os; os.environ['PREFECT_API_URL'] = 'http://127.0.0.1:9/api'\n"
        "import psutil\n"
        "from verbatim.flows.prefect_server import start_temporary_server\n"
        "start_temporary_server(at_least=5)()\n"
        "from prefect.settings import get_current_settings\n"
        "heartbeat = get_current_settings().flows.heartbeat_frequency\n"
        "print(len(psutil.Process().children()), os.environ['PREFECT_API_URL'], heartbeat)\n"
    )
    done = _run(tmp_path, code)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["0", "http://127.0.0.1:9/api", "180"]  # a lasting server keeps its heartbeats
