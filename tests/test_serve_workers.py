"""``verbatim serve --workers 2``: two server processes share the port, and a user's requests, answered by either,
see one session, one CSRF token, the same flash messages and the same login brake (all in the store or the signed
cookie). A real server, real connections (a new one for each request, so both processes answer)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_review_api import PASSWORD, csrf_of, db_url, free_port
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.store import Store
from verbatim.web.auth import hash_password


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("workers")
    log = DecisionLog(Store(db_url(folder)))
    log.add_user("bruno", Role.RESEARCHER, hash_password(PASSWORD))
    log.add_user("olga", Role.VIEWER, hash_password(PASSWORD))
    port = free_port()
    script = Path(sys.executable).with_name("verbatim")
    env = {**os.environ, "VERBATIM_DATA_DIR": str(folder)}
    env.pop("VERBATIM_SECRET_KEY", None)  # the key file, created once by the parent, shared by the workers
    server_log = folder / "server.log"
    process = subprocess.Popen(
        [str(script), "serve", "--port", str(port), "--workers", "2", "--database-url", db_url(folder)],
        env=env, stdout=open(server_log, "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, server_log.read_text()
        if server_log.read_text().count("Application startup complete") >= 2:
            break
        time.sleep(0.5)
    else:
        process.kill()
        raise AssertionError(f"two workers did not start within 90 s:\n{server_log.read_text()}")
    yield f"http://127.0.0.1:{port}", server_log
    process.terminate()
    process.wait(timeout=20)


def fresh_connections(base: str) -> httpx.Client:
    """A client that opens a new connection for every request: the kernel hands each to either worker."""
    return httpx.Client(base_url=base, limits=httpx.Limits(max_keepalive_connections=0), timeout=30)


def test_either_worker_answers_with_the_same_session(server: tuple[str, Path]) -> None:
    base, server_log = server
    with fresh_connections(base) as client:
        token = csrf_of(client.get("/login").text)
        response = client.post("/login", data={"csrf": token, "name": "bruno", "password": PASSWORD, "next": "/"})
        assert response.status_code == 303, response.text
        pages = [client.get("/") for _ in range(30)]
        assert [p.status_code for p in pages] == [200] * 30, "logged in on every request"
        tokens = {csrf_of(p.text) for p in pages}
        assert len(tokens) == 1, "one CSRF token, whichever process rendered the page"
        response = client.post("/logout", data={"csrf": tokens.pop()})
        assert response.status_code == 303
        assert all(client.get("/").status_code == 303 for _ in range(10)), "logged out everywhere"
    pids = {m.group(1) for m in re.finditer(r"\[(\d+)\] 127\.0\.0\.1:\d+ - \"GET / HTTP", server_log.read_text())}
    assert len(pids) == 2, f"both worker processes answered: {pids}"


def test_the_login_brake_holds_across_workers(server: tuple[str, Path]) -> None:
    base, _ = server
    with fresh_connections(base) as client:
        token = csrf_of(client.get("/login").text)
        codes = [
            client.post("/login", data={"csrf": token, "name": "olga", "password": f"faux{i}"}).status_code
            for i in range(8)
        ]
    assert codes == [401] * 5 + [429] * 3, "five wrong passwords in all, not five per process"
