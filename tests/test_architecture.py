"""The floors of DESIGN.md: nlp/ and models/ import nothing of ours above them, and never prefect."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "verbatim"
#: The floors of DESIGN.md, top first: a room imports its own floor and the floors below, never one above.
FLOORS: list[tuple[str, ...]] = [("cli",), ("web",), ("flows",), ("formats",), ("nlp", "models")]
ROOMS = [room for floor in FLOORS for room in floor]
#: Modules every floor may import.
SHARED = {"verbatim.errors", "verbatim.paths"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _files(room: str) -> list[Path]:
    return sorted((PACKAGE / room).rglob("*.py"))


def _room_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "verbatim" and parts[1] in ROOMS else None


def test_every_module_of_ours_sits_in_a_room() -> None:
    loose = {p.name for p in PACKAGE.glob("*.py")} - {"__init__.py", "errors.py", "paths.py"}
    assert not loose, f"modules outside the rooms of DESIGN.md: {sorted(loose)}"
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(ROOMS)


@pytest.mark.parametrize("room", ROOMS)
def test_no_room_imports_a_floor_above_it(room: str) -> None:
    level = next(i for i, floor in enumerate(FLOORS) if room in floor)
    allowed = {r for floor in FLOORS[level:] for r in floor} - {r for r in FLOORS[level] if r != room}
    for path in _files(room):
        ours = {n for n in _imports(path) if n.startswith("verbatim.") and n not in SHARED}
        upward = {n for n in ours if _room_of(n) not in allowed}
        assert not upward, f"{path.relative_to(PACKAGE)} imports {sorted(upward)} (a floor above, or a neighbour)"


@pytest.mark.parametrize("room", ["nlp", "models", "formats", "web"])
def test_only_flows_import_prefect(room: str) -> None:
    """The web app launches flows through functions of ``flows/``; it never talks to Prefect itself."""
    for path in _files(room):
        assert not any(n == "prefect" or n.startswith("prefect.") for n in _imports(path)), path


def test_importing_nlp_loads_no_model() -> None:
    """Expensive things load on first use, never at import time."""
    import importlib

    import verbatim.nlp.spacy_pipeline as pipeline

    importlib.reload(pipeline)
    for name in ("verbatim.nlp.encoders", "verbatim.nlp.excerpts", "verbatim.nlp.themes"):
        importlib.import_module(name)
    assert pipeline.load_pipeline.cache_info().currsize == 0
    from verbatim.nlp.encoders import USEEncoder

    encoder = USEEncoder()
    assert encoder._model is None, "the USE weights load on the first encode, not before"


def test_no_flow_replaces_print() -> None:
    """``log_prints=True`` swaps the builtin ``print`` during a run; numba (UMAP's nearest-neighbour descent, used
    above 4,096 excerpts) then fails to compile its own ``print`` calls. No flow of ours may use it."""
    for path in sorted((PACKAGE / "flows").rglob("*.py")):
        assert "log_prints=True" not in path.read_text(encoding="utf-8"), path


def test_dask_workers_import_no_theme_model() -> None:
    """Workers import the module of the heavy maps' tasks: it must not drag in BERTopic, UMAP or HDBSCAN, which
    would add seconds to every worker's start (and to every large run)."""
    import subprocess
    import sys

    probe = (
        "import sys, verbatim.flows.batches; "
        "print(sorted(m for m in ('bertopic', 'umap', 'hdbscan', 'verbatim.nlp.themes') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_analyse_command_imports_no_theme_library_before_a_fit() -> None:
    """``verbatim analyse`` imports the flow's modules before it reads the file: BERTopic (with sentence-transformers
    and plotly), UMAP, HDBSCAN and scikit-learn load when a fit runs, so that a re-run whose themes are cached never
    pays them (seconds to import and to tear down at exit). Dask workers import the flow's module too (Prefect
    sends them the flow run's context): scikit-learn alone was 0.9 s of each worker's start."""
    import subprocess
    import sys

    probe = (
        "import sys, verbatim.cli.main, verbatim.flows.analyse; print(sorted(m for m in "
        "('bertopic', 'sentence_transformers', 'umap', 'hdbscan', 'sklearn') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_web_app_imports_no_language_model_library() -> None:
    """A web worker answers pages and API calls: importing the app must not drag in spaCy (its French tokenizer
    rules alone cost seconds), torch, BERTopic or UMAP, which every restart of ``verbatim serve`` would pay."""
    import subprocess
    import sys

    probe = (
        "import sys, verbatim.web.app; "
        "print(sorted(m for m in ('spacy', 'torch', 'bertopic', 'umap', 'hdbscan') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
