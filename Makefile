# foodrisk — the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
DEMO_ENTERPRISES ?= 20000
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install install-dev demo serve test test-fast test-api-fuzz lint bench bench-spark messages vendor clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "foodrisk needs Python >= 3.12 (found %s); install it or set PYTHON=python3.12" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

install: $(BIN)/python
	$(UV) sync --frozen --no-dev

# development and CI: the dev group and the spark extra (pyspark, ~490 MB; the Spark sameness test needs it and a
# Java runtime — .ci/run installs one). `make install` stays without both.
install-dev: $(BIN)/python
	$(UV) sync --frozen --extra spark

# The demo: migrate an SQLite database, load regions/roles, demo accounts, a synthetic city,
# then the web server and one background worker.
demo: install
	$(BIN)/foodrisk migrate --no-input -v0
	$(BIN)/foodrisk seed
	$(BIN)/foodrisk demo_accounts
	$(BIN)/foodrisk demo_data --enterprises $(DEMO_ENTERPRISES)
	@echo ""
	@echo "foodrisk is running at http://127.0.0.1:$(PORT)/  (Ctrl-C stops the server and the worker)"
	@trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/foodrisk db_worker --queue-name '*' --interval 1 & \
	  $(BIN)/foodrisk scheduler & \
	  $(BIN)/foodrisk runserver --insecure 127.0.0.1:$(PORT)

serve: install
	$(BIN)/foodrisk migrate --no-input -v0
	$(BIN)/foodrisk runserver --insecure 127.0.0.1:$(PORT)

# The whole suite. FOODRISK_DATABASE_URL selects the database (SQLite by default).
test: install-dev
	FOODRISK_TESTING=1 $(BIN)/python -m pytest -n 2 --dist loadfile -m "not e2e" $(PYTEST_ARGS)

test-e2e: install-dev
	FOODRISK_TESTING=1 $(BIN)/python -m pytest -m e2e -p no:xdist $(PYTEST_ARGS)

# Schemathesis against the OpenAPI schema of a served, seeded instance (drops and recreates the database named
# by FOODRISK_DATABASE_URL; SQLite in a temporary directory when unset). See scripts/api-fuzz.sh.
test-api-fuzz: install-dev
	bash scripts/api-fuzz.sh

lint: install-dev
	$(BIN)/ruff check src tests benchmarks

bench: install-dev
	$(BIN)/python benchmarks/run.py

# The Spark back end on local[2] beside DuckDB, and a planning table for 20M (benchmarks/results/spark.json).
# SPARK_BENCH_N enterprises (default 1,000,000; several minutes on 2 cores).
SPARK_BENCH_N ?= 1000000
bench-spark: install-dev
	$(BIN)/python benchmarks/bench_spark.py --enterprises $(SPARK_BENCH_N)

messages: install-dev
	cd src/foodrisk && ../../$(BIN)/foodrisk makemessages -l zh_Hans --no-obsolete -i 'synth/*' -i 'engine/*'
	cd src/foodrisk && ../../$(BIN)/foodrisk compilemessages -l zh_Hans

vendor:
	bash scripts/vendor-assets.sh

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
