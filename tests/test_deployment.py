"""prefect.yaml declares the flows with parameters the flows accept."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from verbatim.flows.config import AnalyseConfig

ROOT = Path(__file__).resolve().parents[1]


def test_deployments_point_at_real_flows_with_valid_parameters() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    deployments = {d["name"]: d for d in spec["deployments"]}
    analyse = deployments["analyse-survey"]
    module_path, function = analyse["entrypoint"].split(":")
    module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, function)
    assert flow.name == "analyse_survey"
    config = AnalyseConfig.model_validate(analyse["parameters"]["config"])
    assert (ROOT / config.survey_file).exists()
    assert analyse["work_pool"]["name"] == "verbatim-pool"
