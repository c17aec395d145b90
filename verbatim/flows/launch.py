"""Running the analyses that the app records, without ever blocking a request on them.

:func:`submit` sends an analysis to the Prefect server named by ``PREFECT_API_URL`` when the flow's deployment
exists there (its workers do the work, as ``make serve`` sets up); otherwise it starts a worker process of the app's
own (``python -m verbatim.flows.launch``), so the embedded default needs no server. Local worker processes take the
queued analyses one at a time, in the order they came (a file lock under the data folder), so two analyses launched
together both complete without competing for the two cores.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from verbatim.flows.config import AnalyseConfig
from verbatim.models.analyses import Analysis, AnalysisKind, AnalysisLog
from verbatim.models.store import Store, database_url
from verbatim.paths import data_dir

log = logging.getLogger(__name__)

#: The deployment of each kind of analysis in prefect.yaml (flow name / deployment name).
DEPLOYMENTS = {
    AnalysisKind.ANALYSE: "analyse_survey/analyse-survey",
    AnalysisKind.CODE: "code_new_answers/code-new-answers",
    AnalysisKind.RECODE: "recode_run/recode-run",
}


def flow_config(analysis: Analysis, url: str) -> BaseModel:
    """The validated parameters of the analysis's flow, reporting to ``analysis`` in the store at ``url``."""
    values: dict[str, Any] = {**analysis.config, "database_url": url}
    if analysis.kind == AnalysisKind.ANALYSE:
        return AnalyseConfig.model_validate({**values, "analysis_id": analysis.analysis_id})
    if analysis.kind == AnalysisKind.CODE:
        from verbatim.flows.learning import CodeConfig

        return CodeConfig.model_validate({**values, "analysis_id": analysis.analysis_id})
    from verbatim.flows.learning import RecodeConfig

    return RecodeConfig.model_validate({**values, "analysis_id": analysis.analysis_id})


def submit(analysis: Analysis, url: str | None = None) -> str:
    """Start ``analysis`` where it can run; returns ``"deployment"`` or ``"local"``. Never waits for the work."""
    url = _absolute(database_url(url))
    if os.environ.get("PREFECT_API_URL"):
        flow_run_id = _submit_to_deployment(analysis, url)
        if flow_run_id is not None:
            AnalysisLog(Store(url)).set_flow_run(analysis.analysis_id, flow_run_id)
            return "deployment"
    start_local_worker(url)
    return "local"


def _absolute(url: str) -> str:
    """A SQLite URL with an absolute path: the worker may run in another folder than the app."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return f"sqlite:///{Path(url.removeprefix('sqlite:///')).resolve()}"
    return url


def _submit_to_deployment(analysis: Analysis, url: str) -> str | None:
    """A run of the analysis's deployment on the Prefect server (its id), or None when the server has no such
    deployment or cannot be reached (then the app's own worker takes it)."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    name = DEPLOYMENTS[analysis.kind]
    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
    except ObjectNotFound:
        log.info("no deployment %s on the Prefect server: the app's own worker runs analysis %s", name,
                 analysis.analysis_id)  # fmt: skip
        return None
    except Exception as exc:  # the server is down or refuses: the work must still be done
        log.warning("Prefect server unreachable (%s): the app's own worker runs analysis %s", exc,
                    analysis.analysis_id)  # fmt: skip
        return None
    config = flow_config(analysis, url)
    flow_run = run_deployment(name, parameters={"config": config.model_dump(mode="json")}, timeout=0)
    return str(flow_run.id)  # type: ignore[union-attr]


def start_local_worker(url: str) -> None:
    """A worker process of the app's own, detached from the request (its log: data folder/logs/worker.log)."""
    logs = data_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "worker.log", "ab") as out:
        subprocess.Popen(
            [sys.executable, "-m", "verbatim.flows.launch", "--database-url", url],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def work(url: str) -> int:
    """Run the queued analyses of the app's own workers, one after the other; returns how many this process ran."""
    lock_path = data_dir() / "worker.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    analyses = AnalysisLog(Store(url))
    done = 0
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # wait for the worker before this one to finish
        while True:
            todo = [a for a in analyses.queued() if a.flow_run_id is None]
            if not todo:
                return done
            analysis = todo[0]
            if not analyses.claim(analysis.analysis_id):
                continue
            run_one(analysis, url)
            done += 1


def run_one(analysis: Analysis, url: str) -> None:
    """One analysis's flow, in this process. Its outcome is in the store (the flow records completion or failure);
    a configuration that no longer validates fails here, in words."""
    try:
        config = flow_config(analysis, url)
    except Exception as exc:
        AnalysisLog(Store(url)).fail(analysis.analysis_id, f"paramètres refusés : {exc}")
        return
    try:
        if analysis.kind == AnalysisKind.ANALYSE:
            from verbatim.flows.analyse import analyse_survey

            assert isinstance(config, AnalyseConfig)
            analyse_survey(config)
        elif analysis.kind == AnalysisKind.CODE:
            from verbatim.flows.learning import CodeConfig, code_new_answers

            assert isinstance(config, CodeConfig)
            code_new_answers(config)
        else:
            from verbatim.flows.learning import RecodeConfig, recode_run

            assert isinstance(config, RecodeConfig)
            recode_run(config)
    except Exception:
        log.exception("analysis %s failed", analysis.analysis_id)
        current = AnalysisLog(Store(url)).get(analysis.analysis_id)
        if not current.done:  # failed before the flow could say so (Prefect did not start, for one)
            AnalysisLog(Store(url)).fail(analysis.analysis_id, "le traitement s'est arrêté ; voir data/logs/")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the queued analyses of the Verbatim app.")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect's temporary server starts in ~20 s on an idle machine; a busy one (another analysis) needs more.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(".cache") / "numba"))
    from verbatim.flows.prefect_server import start_temporary_server

    # the worker's own temporary server (none with PREFECT_API_URL), for every analysis it runs
    server_ready = start_temporary_server()
    try:
        server_ready()
    except RuntimeError as exc:  # each analysis then starts Prefect's own, and fails in words if that fails too
        log.warning("temporary Prefect server not started (%s)", exc)
    count = work(database_url(args.database_url))
    log.info("%d analysis(es) run", count)


if __name__ == "__main__":
    main()
