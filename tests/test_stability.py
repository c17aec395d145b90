"""The same themes whatever the number of threads: the sample survey analysed by ``verbatim analyse`` in two processes,
one with every numeric library on one thread, one on two, each with caches of its own, gives themes that agree
(adjusted Rand index of the machine's codes, per question). Byte-identical output is only promised on one machine
with one set of library versions (README); agreement across thread counts and processors is what must hold.

Measured here: ARI 1.0 on both questions (17 and 19 themes either way)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.metrics import adjusted_rand_score
from sqlalchemy import select

from tests.conftest import SAMPLE
from verbatim.models.store import Store
from verbatim.models.tables import RunRow

pytestmark = pytest.mark.slow  # two analyses of the sample survey

THREADS = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def analyse_with_threads(folder: Path, threads: int) -> dict[str, dict[str, int]]:
    """Question -> excerpt -> machine theme of an analysis run with ``threads`` threads, in a process of its own."""
    script = Path(sys.executable).with_name("verbatim")
    env = {**os.environ, "VERBATIM_DATA_DIR": str(folder), **{name: str(threads) for name in THREADS}}
    env.pop("VERBATIM_DATABASE_URL", None)
    command = [str(script), "analyse", str(SAMPLE), "--id-column", "id", "--question", "difficultes",
               "--question", "idees", "--attribute", "profession", "--seed", "42"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    store = Store(f"sqlite:///{folder / 'verbatim.db'}")
    with store.session() as s:
        (run_id,) = s.scalars(select(RunRow.run_id)).all()
    question_of = {e.excerpt_id: e.question for e in store.excerpts(run_id)}
    codes: dict[str, dict[str, int]] = {}
    for c in store.machine_codings(run_id):
        codes.setdefault(question_of[c.excerpt_id], {})[c.excerpt_id] = c.theme_id
    return codes


def test_one_thread_or_two_give_the_same_themes(tmp_path: Path) -> None:
    one = analyse_with_threads(tmp_path / "one", 1)
    two = analyse_with_threads(tmp_path / "two", 2)
    assert set(one) == set(two) == {"difficultes", "idees"}
    for question in one:
        excerpts = sorted(one[question])
        assert excerpts == sorted(two[question]), "the same excerpts"
        ari = adjusted_rand_score([one[question][e] for e in excerpts], [two[question][e] for e in excerpts])
        assert ari >= 0.90, f"{question}: ARI {ari:.3f} between 1 and 2 threads"
