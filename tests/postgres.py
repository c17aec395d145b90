"""A throwaway PostgreSQL cluster for the tests: Debian's ``postgresql`` package, ``initdb`` in a temporary folder,
``pg_ctl`` on a free loopback port, stopped at the end of the session. Nothing is mocked: the store, the decision log,
the app and the migrations run on a real server, as a team's does.

As root (CI containers), the cluster runs as the ``postgres`` user, who must own its folder."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

INSTALL_HINT = "PostgreSQL is missing: `make system-deps` installs Debian's postgresql package"


def find_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's programs (``initdb``, ``pg_ctl``, ``pg_dump``…), or None."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return versions[-1].parent if versions else None


def _bin_dir() -> Path:
    found = find_bin_dir()
    if found is None:
        pytest.fail(INSTALL_HINT)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A running cluster; :meth:`new_database` gives each test a database of its own. Tests run it with
    ``fsync=off`` (fast, nothing to keep); ``durable=True`` keeps a real server's fsync on (the benchmarks)."""

    def __init__(self, durable: bool = False) -> None:
        self.bin = _bin_dir()
        self.folder = Path(tempfile.mkdtemp(prefix="verbatim-pg-"))
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale", "C.UTF-8")
        fsync = "on" if durable else "off"
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync={fsync}"
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "start")
        self.data = data

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    cluster = Cluster()
    yield cluster
    cluster.stop()


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend in turn: a SQLite file, then a database on the test cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'verbatim.db'}"
    cluster: Cluster = request.getfixturevalue("postgres")
    return cluster.new_database()


NewDatabase = Callable[[], str]
