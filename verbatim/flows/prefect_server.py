"""Prefect's temporary API server for one command, started without importing Prefect's server code here.

With no ``PREFECT_API_URL``, Prefect starts a temporary server on first use (``SubprocessASGIServer``): a uvicorn
child process serving ``prefect.server.api.server:create_app``. To start it, Prefect imports that module, the whole
server (FastAPI, SQLAlchemy models, services) into the command's process: 2.5 s on the machine of ``make
bench-speed``, on the critical path of every command, because it shares the interpreter lock with the flow's own
imports. The child imports it anyway. :func:`start_temporary_server` starts the same child (same command line, same
environment; Prefect is pinned in ``pyproject.toml``) from a few lines of ours, and, once it answers, points this
process's settings at it, as if ``PREFECT_API_URL`` had been set: the flows, their Dask workers, the log and event
workers all use it. It is stopped at exit, after Prefect's own exit handlers have sent the last logs and events.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable

#: What ``prefect.server.api.server.SubprocessASGIServer`` sets for its child (prefect 3.9): no UI, the
#: temporary server's mode.
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
#: uvicorn's exit status when its port is taken (then another port is tried, as Prefect does).
PORT_TAKEN = 3


def start_temporary_server(at_least: float = 0.0) -> Callable[[], None]:
    """Start Prefect's temporary server now, unless ``PREFECT_API_URL`` names one (or the temporary server is
    disabled), and return a function that waits until it answers and then makes it this process's API. The wait
    raises ``RuntimeError`` when the server does not answer within Prefect's start-up timeout
    (``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``), or ``at_least`` seconds when that is longer, or when
    its process ends."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    )

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return lambda: None
    timeout = max(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(), at_least)
    server = TemporaryServer()
    return lambda: server.wait(timeout)


class TemporaryServer:
    """A uvicorn child process serving Prefect's API on a free local port, stopped at exit."""

    def __init__(self) -> None:
        self.port = free_port()
        self.announced = False  # said in the log once a command waits for it, not before
        self.process = self._spawn()
        atexit.register(self.stop)  # before Prefect's handlers: they run first (last in, first out)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def _spawn(self) -> subprocess.Popen[bytes]:
        import prefect
        from prefect.settings import get_current_settings

        command = [
            sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
            "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "error", "--lifespan", "on",
        ]  # fmt: skip
        env = {**os.environ, **SERVER_ENV, **get_current_settings().to_environment_variables(exclude_unset=True)}
        return subprocess.Popen(command, env=env)

    def wait(self, timeout: float) -> None:
        """Wait until the server answers its health check, then make it this process's (and its children's) API."""
        import httpx
        from prefect.context import refresh_global_settings_context

        self._announce()
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while True:
                status = self.process.poll()
                if status == PORT_TAKEN:
                    self.port = free_port()
                    self.process = self._spawn()
                    self._announce()
                elif status is not None:
                    raise RuntimeError(f"Prefect's temporary server stopped at start (exit status {status})")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Prefect's temporary server did not answer within {timeout:.0f} s")
                time.sleep(0.1)
        os.environ["PREFECT_API_URL"] = self.api_url
        os.environ.setdefault("PREFECT_UI_URL", "")  # it serves no UI: no "View at" link to a page that is not there
        refresh_global_settings_context()  # Prefect's settings read the environment again
        without_heartbeats()

    def _announce(self) -> None:
        from prefect.logging import get_logger
        from prefect.logging.configuration import ensure_logging_setup

        ensure_logging_setup()  # as the import of Prefect's flows would (this may run before it)
        get_logger().info("Starting temporary server on http://127.0.0.1:%d", self.port)
        self.announced = True

    def stop(self) -> None:
        """Stop the server at exit; said in the log when its start was (a command refusing its file says nothing
        more than why)."""
        if self.announced:
            from prefect.logging import get_logger

            get_logger().info("Stopping temporary server on http://127.0.0.1:%d", self.port)
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def without_heartbeats() -> None:
    """No flow-run heartbeats in this process from now on. They let a lasting server mark a run whose process died
    as crashed; a temporary server dies with that process, so nobody reads them. And each flow run's end waited up to
    1 s for the heartbeat thread to wake from its sleep (about 1 s of every command's exit, measured with py-spy).
    The setting cannot be unset from the environment (it is at least 30 s there): this process's settings are
    replaced by a copy without it, as Prefect's own ``refresh_global_settings_context`` replaces them."""
    from prefect import context
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY

    current = context.GLOBAL_SETTINGS_CONTEXT
    settings = current.settings.copy_with_update(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
    context.GLOBAL_SETTINGS_CONTEXT = context.SettingsContext(profile=current.profile, settings=settings)


def free_port() -> int:
    """A local TCP port that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
