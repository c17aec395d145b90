"""Shared fixtures: real components only (spaCy, the USE encoder, BERTopic, SQLite, Prefect)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
SAMPLE = ROOT / "data" / "sample_survey.csv"
SAMPLE_CP1252 = ROOT / "data" / "sample_survey_cp1252.csv"

pytest_plugins = ["tests.postgres"]  # the PostgreSQL cluster and the database_url fixture of both backends

os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def cache_without_fitted_themes(cache: Path, copy: Path) -> Path:
    """A copy of a run's cache folder without its fitted themes (``themes.sqlite``): a run on the copy reads its
    masks, excerpts and vectors but fits its themes again, so comparing it with the first run tests the fit."""
    shutil.copytree(cache, copy, ignore=shutil.ignore_patterns("themes.sqlite*"))
    return copy


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for every flow test (starting one costs ~20 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def splitter():  # type: ignore[no-untyped-def]
    from verbatim.nlp.excerpts import ExcerptSplitter

    return ExcerptSplitter()


@pytest.fixture(scope="session")
def use_encoder():  # type: ignore[no-untyped-def]
    from verbatim.nlp.encoders import USEEncoder

    return USEEncoder()


@pytest.fixture(scope="session")
def reviewed(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The sample survey analysed once per session, with researchers' decisions (see ``export_support``)."""
    from tests.export_support import reviewed_run

    return reviewed_run(tmp_path_factory)


@pytest.fixture(scope="session")
def run(reviewed):  # type: ignore[no-untyped-def]
    """The reviewed run as the exports read it."""
    from verbatim.formats.exports import load_run

    return load_run(reviewed.store, reviewed.run_id)
