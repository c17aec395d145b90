"""Helpers shared by the benchmarks: the Grand Débat corpus, a peak-memory sampler, the machine and versions.

Benchmarks run as scripts from the repository root (``python bench/NAME.py``); this module sits beside them and is
imported as ``_common``. Corpora are read by path from ``../shared/corpora/`` and never copied into the repository.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
GRAND_DEBAT = CORPORA / "granddebat" / "gd_answers_all_questions.csv.gz"
GD_COLUMNS = ["theme", "csv_column", "question_short_label", "question_id_b64", "question_text_official", "answer"]
MIB = 1024 * 1024


# -- the Grand Débat corpus --------------------------------------------------------------------------------------
def read_grand_debat() -> pd.DataFrame:
    """Every answer of the Grand Débat sample, as text, with a ``question`` key ``theme/csv_column`` added.

    ``question_id_b64`` is missing for two thirds of the rows, so questions are named by theme and column.
    """
    if not GRAND_DEBAT.exists():
        raise SystemExit(f"Grand Débat corpus not found at {GRAND_DEBAT}: this benchmark needs ../shared/corpora/")
    data = pd.read_csv(GRAND_DEBAT, dtype=str, keep_default_na=False)
    missing = [c for c in GD_COLUMNS if c not in data.columns]
    if missing:
        raise SystemExit(f"{GRAND_DEBAT} lacks the columns {missing}; columns are: {list(data.columns)}")
    data["question"] = data["theme"] + "/" + data["csv_column"]
    return data


def nonempty_answers() -> pd.DataFrame:
    """Every non-blank answer of the Grand Débat sample, all questions pooled (429,112 rows)."""
    data = read_grand_debat()
    return data[data["answer"].str.strip() != ""]


def pooled_export(data: pd.DataFrame, n: int | None, folder: Path, seed: int, column: str = "reponse") -> Path:
    """A survey export of ``n`` answers drawn with ``seed`` from ``data`` (all of them for ``None``), all questions
    pooled in one open-question ``column``, with ``id`` (``GD000001``...) and the ``theme`` attribute; written as
    ``granddebat_N.csv`` (``;``-separated) in ``folder``."""
    rows = data if n is None or n >= len(data) else data.sample(n=n, random_state=seed)
    export = pd.DataFrame(
        {
            "id": [f"GD{i:06d}" for i in range(1, len(rows) + 1)],
            "theme": rows["theme"].to_numpy(),
            column: rows["answer"].to_numpy(),
        }
    )
    path = folder / f"granddebat_{len(rows)}.csv"
    export.to_csv(path, sep=";", index=False)
    return path


def pick_question(data: pd.DataFrame, wanted: str | None = None) -> str:
    """The question key to use: ``wanted`` (a ``theme/csv_column`` key or a ``question_id_b64``), else the largest.

    Ties on the number of answers are broken by key, so the choice does not depend on the file's row order.
    """
    if wanted is None:
        sizes = data.groupby("question").size()
        return str(min(sizes.index, key=lambda q: (-int(sizes[q]), q)))
    if wanted in set(data["question"]):
        return wanted
    by_id = data.loc[data["question_id_b64"] == wanted, "question"].unique()
    if len(by_id) == 1:
        return str(by_id[0])
    known = ", ".join(sorted(data["question"].unique()))
    raise SystemExit(f"question '{wanted}' not found (give theme/csv_column or a question_id_b64); known: {known}")


def survey_export(data: pd.DataFrame, question: str, n: int, seed: int) -> pd.DataFrame:
    """A survey export of ``n`` answers to ``question`` (all of them if it has fewer), drawn with ``seed``.

    Columns: ``id`` (``GD000001``...), the attributes ``theme``, ``csv_column``, ``question_short_label`` taken from
    the file, and ``reponse``, the open question.
    """
    rows = data[data["question"] == question]
    rows = rows.sample(n=min(n, len(rows)), random_state=seed)
    export = pd.DataFrame(
        {
            "id": [f"GD{i:06d}" for i in range(1, len(rows) + 1)],
            "theme": rows["theme"].to_numpy(),
            "csv_column": rows["csv_column"].to_numpy(),
            "question_short_label": rows["question_short_label"].to_numpy(),
            "reponse": rows["answer"].to_numpy(),
        }
    )
    return export


# -- peak memory -------------------------------------------------------------------------------------------------
def _read_hwm_kib() -> int | None:
    """The kernel's peak resident set size of this process (VmHWM), in KiB, where /proc has it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


#: The share of a core that a memory sampler may use (see :func:`sample_until`).
SAMPLING_BUDGET = 0.03


def sample_until(stop: threading.Event, interval: float, sample: Callable[[], None]) -> None:
    """Call ``sample`` every ``interval`` seconds until ``stop`` is set, waiting longer when a sample costs more than
    :data:`SAMPLING_BUDGET` of a core. A child's USS is read from ``/proc/PID/smaps_rollup``, which the kernel
    computes by walking the process's pages: with two 1.6 GiB Dask workers one sample took about 0.1 s of CPU, and
    sampling every 0.2 s used 40 % of a core, taken from the run being measured."""
    wait = interval
    while not stop.wait(wait):
        started = time.thread_time()
        sample()
        wait = max(interval, (time.thread_time() - started) / SAMPLING_BUDGET)


@dataclass
class PeakMemory:
    """Peak RSS of this process, alone and with the memory of its new child processes, while the block runs.

    A background thread samples ``psutil`` every ``interval`` seconds, or less often when a sample is costly
    (:func:`sample_until`). Where Linux allows it, the kernel's own
    peak (VmHWM, reset at the start) is also read at the end, so a short spike between two samples is not missed.
    Child processes alive when the block starts (e.g. a Prefect test server) are left out; those started inside
    the block (spaCy's workers when ``n_process`` > 1) count with their unique set size (USS): pages they share
    with this process after ``fork`` are counted once, in this process's RSS.
    """

    interval: float = 0.05
    start_mib: float = 0.0
    peak_mib: float = 0.0
    peak_with_children_mib: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _hwm_reset: bool = field(default=False, repr=False)
    _excluded: set[int] = field(default_factory=set, repr=False)

    def _sample(self, process: psutil.Process) -> None:
        try:
            own = process.memory_info().rss
        except psutil.Error:
            return
        children = 0
        for child in process.children(recursive=True):
            if child.pid in self._excluded:
                continue
            try:
                children += child.memory_full_info().uss
            except psutil.Error:
                continue
        self.peak_mib = max(self.peak_mib, own / MIB)
        self.peak_with_children_mib = max(self.peak_with_children_mib, (own + children) / MIB)

    def _run(self, process: psutil.Process) -> None:
        sample_until(self._stop, self.interval, lambda: self._sample(process))

    def __enter__(self) -> PeakMemory:
        process = psutil.Process()
        self._excluded = {c.pid for c in process.children(recursive=True)}
        self._hwm_reset = _reset_hwm()
        self.start_mib = process.memory_info().rss / MIB
        self.peak_mib = self.peak_with_children_mib = 0.0
        self._sample(process)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(process,), daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample(psutil.Process())
        hwm = _read_hwm_kib() if self._hwm_reset else None
        if hwm is not None:
            extra = hwm / 1024 - self.peak_mib
            if extra > 0:  # a spike the sampler missed
                self.peak_mib += extra
                self.peak_with_children_mib += extra


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished (waited-for) children, user + system."""
    t = psutil.Process().cpu_times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class Measure:
    """Wall time, CPU time and peak memory of one block: ``with Measure() as m: ...``.

    CPU seconds (this process and the child processes it waited for) tell more than wall seconds when other work
    shares the machine: compare ``cpu_seconds`` with ``seconds`` times the number of cores.
    """

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    memory: PeakMemory = field(default_factory=PeakMemory)
    _started: float = field(default=0.0, repr=False)
    _cpu_started: float = field(default=0.0, repr=False)

    def __enter__(self) -> Measure:
        self.memory.__enter__()
        self._cpu_started = _cpu_seconds()
        self._started = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.seconds = time.perf_counter() - self._started
        self.cpu_seconds = _cpu_seconds() - self._cpu_started
        self.memory.__exit__(exc_type, exc, tb)


def load_average() -> str:
    """The 1-minute load average against the usable cores: other work on the machine slows every figure."""
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {usable_cores()} cores"


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# -- the machine and the versions --------------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    usable = usable_cores()
    ram = psutil.virtual_memory().total / 1024**3
    return (
        f"{platform.system()} {platform.machine()}, {_cpu_model()}, {usable} usable cores "
        f"({os.cpu_count()} logical), {ram:.1f} GiB RAM, Python {platform.python_version()}"
    )


def versions(packages: Iterable[str]) -> str:
    found = []
    for name in packages:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, columns padded so it also reads as plain text; numbers right-aligned."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    numeric = [all(_looks_numeric(r[i]) for r in rows) and bool(rows) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [str(c).rjust(w) if num else str(c).ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(("-" * (w + 1) + ":") if num else ("-" * (w + 2)) for w, num in zip(widths, numeric, strict=True))
        + "|"
    )
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _looks_numeric(cell: str) -> bool:
    text = str(cell).replace(",", "").replace("×", "").replace("%", "").replace("-", "").strip()
    return text == "" or text.replace(".", "", 1).isdigit()
