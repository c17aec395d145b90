# Verbatim: `make demo` sets everything up and analyses the sample survey; `make test` runs the test suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Everything stays inside the repository and nothing is downloaded at run time.
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba
export PREFECT_HOME := $(CURDIR)/.cache/prefect
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
export PREFECT_SERVER_ANALYTICS_ENABLED := false

SAMPLE_ARGS := data/sample_survey.csv --id-column id --question difficultes --question idees \
	--attribute profession --attribute structure --attribute region --attribute anciennete

.PHONY: install demo test test-fast lint format bench-flow bench-quality bench-pseudonymisation clean

$(STAMP): pyproject.toml
	@echo "== Setting up $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/verbatim analyse $(SAMPLE_ARGS)
	@echo "Open the newest folder under data/runs/ (coded_excerpts.csv, themes.csv, answers.csv, manifest.json)."

lint: install
	$(BIN)/ruff check verbatim tests bench scripts
	$(BIN)/ruff format --check verbatim tests bench scripts
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix verbatim tests bench scripts
	$(BIN)/ruff format verbatim tests bench scripts

test: install lint
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

bench-flow: install
	$(BIN)/python bench/flow_speed.py

bench-quality: install
	$(BIN)/python bench/theme_quality.py

bench-pseudonymisation: install
	$(BIN)/python bench/pseudonymisation.py

clean:
	rm -rf .cache .pytest_cache .mypy_cache .ruff_cache data/runs data/cache data/verbatim.db*
