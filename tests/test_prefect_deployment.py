"""The team set-up of ``make serve``, for real: a Prefect server, the work pool, the deployments of prefect.yaml and a
process worker, each its own process. An analysis launched from the app is a run of the ``analyse-survey``
deployment that the worker picks up; the app's own worker is not used."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.conftest import SAMPLE
from tests.test_analyses_web import USERS, choices, draft_of
from tests.test_review_api import PASSWORD, csrf_of, db_url, free_port, start_server
from verbatim.models.analyses import AnalysisLog, AnalysisStatus
from verbatim.models.decisions import DecisionLog
from verbatim.models.store import Store
from verbatim.web.auth import hash_password

pytestmark = pytest.mark.slow  # a Prefect server, a worker and an analysis run in the worker's process

ROOT = Path(__file__).resolve().parents[1]
PREFECT = Path(sys.executable).with_name("prefect")
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} stopped:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not answer within {seconds} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The data folder and the Prefect API URL of a running server with the deployments and a worker."""
    folder = tmp_path_factory.mktemp("team")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(folder / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "VERBATIM_DATA_DIR": str(folder),
        "VERBATIM_HOME": str(ROOT),
    }
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = folder / f"{name}.log"
        process = subprocess.Popen(
            [str(PREFECT), *args],
            env=env,
            cwd=ROOT,
            stdout=open(log, "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process, log

    try:
        server, server_log = start("server", "server", "start", "--host", "127.0.0.1", "--port", str(port))
        _wait_for(f"{api}/health", server, server_log, 240)
        for args in (["work-pool", "create", "verbatim-pool", "--type", "process", "--overwrite"],
                     ["--no-prompt", "deploy", "--all"]):  # fmt: skip
            done = subprocess.run([str(PREFECT), *args], env=env, cwd=ROOT, capture_output=True, text=True)
            assert done.returncode == 0, done.stdout + done.stderr
        start("worker", "worker", "start", "--pool", "verbatim-pool")
        with pytest.MonkeyPatch.context() as mp:
            for key in ("PREFECT_HOME", "PREFECT_API_URL", "VERBATIM_DATA_DIR"):
                mp.setenv(key, env[key])
            yield folder, api
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def server(team: tuple[Path, str]) -> Iterator[str]:
    """``verbatim serve`` started with PREFECT_API_URL, as ``make serve`` starts it."""
    folder = team[0]
    log = DecisionLog(Store(db_url(folder)))
    for name, role in USERS.items():
        log.add_user(name, role, hash_password(PASSWORD))
    process = start_server(folder, free_port())
    yield f"http://127.0.0.1:{process.args[process.args.index('--port') + 1]}"  # type: ignore[union-attr,index]
    process.terminate()
    process.wait(timeout=10)


def log_in(server: str, name: str) -> tuple[httpx.Client, str]:
    """An HTTP client logged in to the served app, and its CSRF token."""
    client = httpx.Client(base_url=server, timeout=60)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "name": name, "password": PASSWORD, "next": "/"})
    assert response.status_code == 303, response.text
    return client, csrf_of(client.get("/").text)


def test_an_analysis_launched_from_the_app_runs_on_the_prefect_worker(team: tuple[Path, str], server: str) -> None:
    folder, api = team
    bruno, csrf = log_in(server, "bruno")
    content = pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False).head(120).to_csv(sep=";", index=False)
    uploaded = bruno.post("/analyses/upload", data={"csrf": csrf}, files={"file": ("enquete.csv", content.encode())})
    draft = draft_of(uploaded)
    launched = bruno.post(
        f"/analyses/drafts/{draft}/launch", data={**choices(name="Sur le serveur", questions=["idees"]), "csrf": csrf}
    )
    assert launched.status_code == 303, launched.text
    analysis_id = launched.headers["location"].rsplit("/", 1)[1]
    store = Store(db_url(folder))
    log = AnalysisLog(store)
    flow_run_id = log.get(analysis_id).flow_run_id
    assert flow_run_id, "the app submitted a run of the deployment"

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not log.get(analysis_id).done:
        time.sleep(2)
    analysis = log.get(analysis_id)
    worker_log = (folder / "worker.log").read_text(errors="replace")[-3000:]
    assert analysis.status == AnalysisStatus.COMPLETED, f"{analysis.status} {analysis.error}\n{worker_log}"
    assert analysis.run_id and analysis.upload_path is None and analysis.progress == 1.0
    assert store.run(analysis.run_id).manifest["counts"]["idees"]["rows"] == 120

    # The flow writes "completed" into the analysis log before it returns; Prefect marks its run afterwards.
    flow_run = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=10).json()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and flow_run["state"]["type"] not in FINAL_STATES:
        time.sleep(1)
        flow_run = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=10).json()
    deployment = httpx.get(f"{api}/deployments/{flow_run['deployment_id']}", timeout=10).json()
    assert deployment["name"] == "analyse-survey" and flow_run["work_pool_name"] == "verbatim-pool"
    assert flow_run["state"]["type"] == "COMPLETED"
    assert not (folder / "logs" / "worker.log").exists(), "the app's own worker was never started"
    page = bruno.get(f"/analyses/{analysis_id}").text
    assert 'id="open-run"' in page and "idees" in page
