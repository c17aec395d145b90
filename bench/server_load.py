"""The team server under load: researchers deciding at once over the API of a real ``verbatim serve --workers 2``,
on SQLite and on PostgreSQL, with a ``kill -9`` of the whole server in the middle and a restart.

Run from the repository root: ``python bench/server_load.py`` (``make bench-server``). For each backend it builds a
store holding one run (2,000 respondents, 4,000 excerpts in 12 themes, written directly through the store: no
analysis), 16 researcher accounts with API tokens, and starts the server. Then 1, 4 and 16 researchers (one thread
and one keep-alive connection each) send decisions (70 % accept, 30 % recode) as fast as the server answers, each
with an ``Idempotency-Key``; then 16 again, and mid-run the server's process group gets ``SIGKILL`` and is started
again while the clients retry (same key) until answered. It prints decisions per second and latency percentiles
(from the first send to the answer, retries included), then acknowledged decisions (a 201, or a 200 to a retry)
against the decisions stored. Goals: p95 under 300 ms at 16 researchers on 2 cores; no acknowledged decision lost;
none stored twice.

PostgreSQL runs on a throwaway cluster (``tests/postgres.py``, with fsync on); without Debian's ``postgresql``
package it is skipped with a message. The clients run on the same machine as the server and take CPU from it."""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import load_average, machine, markdown_table, versions  # noqa: E402

from tests.postgres import INSTALL_HINT, Cluster, find_bin_dir, free_port  # noqa: E402
from verbatim.models.accounts import Accounts  # noqa: E402
from verbatim.models.decisions import DecisionLog, Role  # noqa: E402
from verbatim.models.records import Answer, AnswerStatus, Coding, Excerpt, Respondent, Theme  # noqa: E402
from verbatim.models.store import Store  # noqa: E402
from verbatim.models.tables import DecisionRow  # noqa: E402

RUN, QUESTION = "bench-server", "difficultes"
RESPONDENTS, THEMES = 2_000, 12
RESEARCHERS = 16
STEPS = (1, 4, 16)
RETRY_PAUSE_S = 0.1
GIVE_UP_S = 180  # a client still unanswered after this long counts its decision as not acknowledged


# -- the store -----------------------------------------------------------------------------------------------------
def build(store: Store) -> tuple[list[str], list[str]]:
    """One run of 4,000 excerpts coded by the machine (none queued) and 16 researchers: the excerpts' ids (in a
    fixed random order) and the researchers' API tokens."""
    respondents, answers, excerpts, codings = [], [], [], []
    for i in range(RESPONDENTS):
        rid = f"R{i:05d}"
        text = f"Réponse {i} : les démarches en ligne prennent du temps. Le logiciel métier plante souvent."
        respondents.append(Respondent(respondent_id=rid, row=i + 1, attributes={"profession": f"P{i % 5}"}))
        answers.append(Answer(question=QUESTION, respondent_id=rid, row=i + 1, text=text, status=AnswerStatus.CODED))
        for k, (start, end) in enumerate(((0, 52), (53, len(text)))):
            excerpt_id = f"Q1-{rid}-{k + 1:02d}"
            excerpts.append(Excerpt(excerpt_id=excerpt_id, question=QUESTION, respondent_id=rid, start=start, end=end,
                                    text=text[start:end], lemmas=("démarche", "logiciel")))  # fmt: skip
            codings.append(Coding(excerpt_id=excerpt_id, theme_id=(2 * i + k) % THEMES, score=0.8))
    themes = [
        Theme(question=QUESTION, theme_id=t, label=f"Thème {t}", description="", keywords=("mot",),
              n_excerpts=len(excerpts) // THEMES, n_respondents=0, representative_excerpt_ids=())
        for t in range(THEMES)
    ]  # fmt: skip
    manifest = {"input": {"file_name": "bench.csv", "sha256": "0" * 64}, "parameters": {"seed": 1},
                "encoder": {"id": "bench"}, "questions": [QUESTION]}  # fmt: skip
    store.save_run(RUN, manifest, respondents, answers, {}, excerpts, themes, codings)
    log, accounts = DecisionLog(store), Accounts(store)
    tokens = []
    for n in range(1, RESEARCHERS + 1):
        name = f"chercheur{n:02d}"
        log.add_user(name, Role.RESEARCHER, "not-a-password-hash")  # the API only: no login
        tokens.append(accounts.create_token(name, "bench")[1])
    ids = [e.excerpt_id for e in excerpts]
    random.Random(7).shuffle(ids)
    return ids, tokens


# -- the server ----------------------------------------------------------------------------------------------------
class Server:
    """``verbatim serve --workers N`` in a process group of its own (so that ``kill -9`` reaches every worker)."""

    def __init__(self, url: str, folder: Path, workers: int) -> None:
        self.url, self.folder, self.workers = url, folder, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> float:
        """Start it and wait until every worker answers; the seconds it took."""
        started = time.perf_counter()
        self.starts += 1
        script = Path(sys.executable).with_name("verbatim")
        command = [str(script)] if script.exists() else [sys.executable, "-m", "verbatim.cli"]
        env = {**os.environ, "VERBATIM_DATA_DIR": str(self.folder), "VERBATIM_SECRET_KEY": "bench-secret"}
        log = self.folder / f"server-{self.starts}.log"
        self.process = subprocess.Popen(
            [*command, "serve", "--port", str(self.port), "--workers", str(self.workers), "--database-url", self.url],
            env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,  # noqa: SIM115
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped:\n{log.read_text()}")
            if log.read_text(errors="replace").count("Application startup complete") >= self.workers:
                return time.perf_counter() - started
            time.sleep(0.1)
        self.kill()
        raise SystemExit(f"the server did not start within 180 s:\n{log.read_text()}")

    def kill(self) -> None:
        """``kill -9`` of the server's whole process group: the supervisor and every worker, mid-request."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the server's processes so far: the supervisor and its workers."""
        if self.process is None:
            return 0.0
        total = 0.0
        try:
            root = psutil.Process(self.process.pid)
            for p in [root, *root.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            pass
        return total

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


# -- the researchers -----------------------------------------------------------------------------------------------
@dataclass
class Tally:
    """What the clients saw: each acknowledged key with its decision id, latencies, retries, refusals."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    retries: int = 0
    refused: list[str] = field(default_factory=list)
    unanswered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def researcher(base: str, token: str, excerpts: list[str], seed: int, stop: threading.Event, tally: Tally) -> None:
    """Decide on one's own share of the excerpts until ``stop``: 70 % accepts, 30 % recodes, each with a new key."""
    rng = random.Random(seed)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        i = 0
        while not stop.is_set():
            body: dict[str, object] = {"excerpt_id": excerpts[i % len(excerpts)], "action": "accept"}
            if rng.random() < 0.3:
                body.update(action="recode", to_theme=rng.randrange(THEMES))
            send_until_answered(client, body, uuid.uuid4().hex, tally)
            i += 1


def send_until_answered(client: httpx.Client, body: dict[str, object], key: str, tally: Tally) -> None:
    """POST one decision; while no answer comes (server killed, restarting) or a 5xx, send it again, same key."""
    started = time.perf_counter()
    while True:
        try:
            response = client.post(f"/api/v1/runs/{RUN}/decisions", json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            response = None
        with tally.lock:
            if response is not None and response.status_code in (200, 201):
                tally.acknowledged[key] = int(response.json()["decision_id"])
                tally.latencies.append(time.perf_counter() - started)
                return
            if response is not None and response.status_code < 500:
                tally.refused.append(f"{response.status_code} {response.text[:200]}")
                return
            if time.perf_counter() - started > GIVE_UP_S:
                tally.unanswered += 1
                return
            tally.retries += 1
        time.sleep(RETRY_PAUSE_S)


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


@dataclass
class Step:
    label: str
    n: int
    seconds: float
    tally: Tally
    outage_s: float = 0.0
    cpu_s: float | None = None  # the server's CPU seconds during the step (unknown across a kill)

    def row(self) -> list[str]:
        lat = [x * 1000 for x in self.tally.latencies]
        return [
            self.label,
            str(self.n),
            str(len(self.tally.acknowledged)),
            f"{len(self.tally.acknowledged) / self.seconds:.1f}",
            f"{percentile(lat, 50):.0f}",
            f"{percentile(lat, 95):.0f}",
            f"{percentile(lat, 99):.0f}",
            f"{max(lat):.0f}",
            f"{self.cpu_s / len(self.tally.acknowledged) * 1000:.0f}" if self.cpu_s and self.tally.acknowledged else "",
            str(self.tally.retries),
        ]


def load(server: Server, tokens: list[str], excerpts: list[str], n: int, seconds: float, kill_at: float | None,
         label: str) -> Step:  # fmt: skip
    """``n`` researchers for ``seconds``; with ``kill_at``, ``kill -9`` of the server then, and its restart."""
    tally, stop = Tally(), threading.Event()
    threads = [
        threading.Thread(target=researcher, args=(server.base, tokens[r], excerpts[r::n], r, stop, tally), daemon=True)
        for r in range(n)
    ]
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    for t in threads:
        t.start()
    outage = 0.0
    if kill_at is not None:
        time.sleep(kill_at)
        down = time.perf_counter()
        server.kill()
        server.start()
        outage = time.perf_counter() - down
        print(f"  kill -9 at {kill_at:.0f} s; restarted and answering {outage:.1f} s later")
    time.sleep(max(0.0, seconds - (time.perf_counter() - started)))
    stop.set()
    for t in threads:
        t.join()
    cpu = None if kill_at is not None else server.cpu_seconds() - cpu_before
    return Step(label, n, time.perf_counter() - started, tally, outage, cpu)


def stored_by_key(store: Store) -> dict[str, list[int]]:
    with store.session() as s:
        stmt = select(DecisionRow.idempotency_key, DecisionRow.id).where(DecisionRow.run_id == RUN)
        rows = s.execute(stmt.order_by(DecisionRow.id)).all()
    found: dict[str, list[int]] = {}
    for key, decision_id in rows:
        found.setdefault(str(key), []).append(int(decision_id))
    return found


def bench(backend: str, url: str, folder: Path, workers: int, seconds: float) -> list[list[str]]:
    store = Store(url)
    excerpts, tokens = build(store)
    server = Server(url, folder, workers)
    print(f"{backend}: server with {workers} workers up in {server.start():.1f} s")
    steps = []
    try:
        steps.append(load(server, tokens, excerpts, 4, 3, None, "warm-up"))
        for n in STEPS:
            steps.append(load(server, tokens, excerpts, n, seconds, None, f"{backend}"))
            row = steps[-1].row()
            print(f"  {n:>2} researchers: {row[3]} decisions/s, p95 {row[5]} ms, server CPU {row[8]} ms/decision")
        killed = load(server, tokens, excerpts, RESEARCHERS, 2 * seconds, seconds, f"{backend}, kill -9 + restart")
        steps.append(killed)
    finally:
        server.stop()
    acknowledged: dict[str, int] = {}
    refused: list[str] = []
    unanswered = 0
    for step in steps:
        acknowledged.update(step.tally.acknowledged)
        refused += step.tally.refused
        unanswered += step.tally.unanswered
    stored = stored_by_key(store)
    lost = [k for k, i in acknowledged.items() if i not in stored.get(k, [])]
    twice = [k for k, ids in stored.items() if len(ids) > 1]
    unacknowledged = [k for k in stored if k not in acknowledged]
    with store.session() as s:
        total = int(s.scalar(select(func.count()).select_from(DecisionRow).where(DecisionRow.run_id == RUN)) or 0)
    print(
        f"  {backend}: acknowledged {len(acknowledged)} (the warm-up's included), "
        f"stored {total}; acknowledged but lost: {len(lost)}; stored twice: {len(twice)}; stored, never "
        f"acknowledged: {len(unacknowledged)}; refused: {len(refused)}; unanswered after {GIVE_UP_S} s: {unanswered}"
    )
    for line in refused[:5]:
        print(f"    refused: {line}")
    rows = [[*s.row(), f"{s.outage_s:.1f}" if s.outage_s else ""] for s in steps[1:]]  # not the warm-up
    rows[-1][-1] += f" (lost {len(lost)}, twice {len(twice)})"
    store.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="server processes (default 2: the cores of the goal)")
    parser.add_argument("--seconds", type=float, default=15, help="length of each step (the kill step: twice)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    print(versions(["uvicorn", "fastapi", "sqlalchemy", "psycopg"]) + f"; {load_average()} at the start")
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="verbatim-bench-server-") as tmp:
        if args.backend in ("sqlite", "both"):
            folder = Path(tmp) / "sqlite"
            folder.mkdir()
            rows += bench("sqlite", f"sqlite:///{folder / 'verbatim.db'}", folder, args.workers, args.seconds)
        if args.backend in ("postgresql", "both"):
            if find_bin_dir() is None:
                print(f"PostgreSQL skipped: {INSTALL_HINT}")
            else:
                cluster = Cluster(durable=True)
                try:
                    folder = Path(tmp) / "postgresql"
                    folder.mkdir()
                    rows += bench("postgresql", cluster.new_database(), folder, args.workers, args.seconds)
                finally:
                    cluster.stop()
    header = ["backend", "researchers", "decisions", "decisions/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
              "server CPU ms/decision", "retries", "outage s"]  # fmt: skip
    print()
    print(markdown_table(header, rows))
    print(f"{load_average()} at the end")


if __name__ == "__main__":
    main()
