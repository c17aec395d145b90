"""A question above 4,096 excerpts, where UMAP switches to approximate nearest neighbours (numba, pynndescent)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from verbatim.flows.analyse import analyse_survey
from verbatim.flows.config import AnalyseConfig


@pytest.mark.slow
def test_a_large_question_runs_through_the_flow(prefect_harness: None, tmp_path: Path) -> None:
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    texts = [r[c] for r in rows for c in ("difficultes", "idees") if r[c].strip()]
    survey = tmp_path / "large.csv"
    with survey.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["id", "q"])
        # 5 copies of every answer, each with its own respondent: about 7,500 excerpts.
        for copy in range(5):
            for i, text in enumerate(texts):
                writer.writerow([f"C{copy}-{i:04d}", text])
    result = analyse_survey(
        AnalyseConfig(
            survey_file=survey,
            id_column="id",
            questions=["q"],
            out_dir=tmp_path / "runs",
            database_url=f"sqlite:///{tmp_path / 'v.db'}",
            cache_dir=tmp_path / "cache",
            theme_sample_size=6_000,  # above 4,096 excerpts fitted, and a sample of the rest
        )
    )
    counts = result.manifest["counts"]["q"]
    assert counts["excerpts"] > 6_000 and counts["granularity"]["sample_size"] == 6_000
    assert counts["coded"] + counts["queued"] + counts["rejected"] == 5 * len(texts)
    assert counts["themes"] >= 4
