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
$(shell mkdir -p .cache/prefect .cache/numba)

SAMPLE_ARGS := data/sample_survey.csv --id-column id --question difficultes --question idees \
	--attribute profession --attribute structure --attribute region --attribute anciennete

# Debian packages the tests use: Chromium (review app in a real browser), LibreOffice and pdftotext (DOCX report),
# PostgreSQL (the store's tests run on a throwaway cluster too).
SYSTEM_PACKAGES := chromium libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils postgresql

.PHONY: serve install system-deps demo test test-fast lint format bench-flow bench-quality bench-pseudonymisation bench-learning bench-scale bench-speed bench-search bench-theme-page bench-server clean

$(STAMP): pyproject.toml
	@echo "== Setting up $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "== Installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

demo: install
	$(BIN)/verbatim analyse $(SAMPLE_ARGS)
	@echo "Open the newest folder under data/runs/ (coded_excerpts.csv, themes.csv, answers.csv, manifest.json)."

# For a team: the Prefect server (UI on :4200), the deployments of prefect.yaml, a process worker, the app (:8000).
serve: install
	@echo "== Prefect UI: http://127.0.0.1:4200   app: http://127.0.0.1:8000   (Ctrl-C stops everything)"
	@mkdir -p .cache; trap 'kill 0' EXIT; \
	export PREFECT_API_URL=http://127.0.0.1:4200/api VERBATIM_HOME=$(CURDIR); \
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200 >.cache/prefect-server.log 2>&1 & \
	$(BIN)/python scripts/wait_for_url.py $$PREFECT_API_URL/health 120 && \
	$(BIN)/prefect work-pool create verbatim-pool --type process --overwrite >/dev/null && \
	$(BIN)/prefect --no-prompt deploy --all && \
	{ $(BIN)/prefect worker start --pool verbatim-pool & \
	  $(BIN)/verbatim serve --host 127.0.0.1 --port 8000; }

lint: install
	$(BIN)/ruff check verbatim tests bench scripts
	$(BIN)/ruff format --check verbatim tests bench scripts
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix verbatim tests bench scripts
	$(BIN)/ruff format verbatim tests bench scripts

test: install system-deps lint
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

bench-flow: install
	$(BIN)/python bench/flow_speed.py

bench-quality: install
	$(BIN)/python bench/theme_quality.py

bench-pseudonymisation: install
	$(BIN)/python bench/pseudonymisation.py

bench-learning: install
	$(BIN)/python bench/learning.py

bench-scale: install
	$(BIN)/python bench/scale.py

bench-speed: install
	$(BIN)/python bench/speed.py

bench-search: install
	$(BIN)/python bench/search_speed.py

bench-theme-page: install
	$(BIN)/python bench/theme_page_speed.py

# Researchers deciding at once over the API of `verbatim serve --workers 2`, SQLite and PostgreSQL, kill -9 mid-run.
bench-server: install
	$(BIN)/python bench/server_load.py

clean:
	rm -rf .cache .pytest_cache .mypy_cache .ruff_cache data/runs data/cache data/verbatim.db*
