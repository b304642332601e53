# trials-warehouse: `make run` builds the warehouse from the bundled samples, `make test` tests it.
SHELL := /bin/bash
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export DAGSTER_HOME ?= $(CURDIR)/warehouse/.dagster
UI_PORT ?= 3000

.PHONY: install run test lint ui bench clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --all-groups
	touch $@

install: $(VENV)/.synced  ## create the environment from the lock file

$(DAGSTER_HOME)/dagster.yaml:  # the instance that `make run` and `make ui` share (no telemetry: no network)
	mkdir -p "$(DAGSTER_HOME)"
	printf 'telemetry:\n  enabled: false\n' > $@

run: install $(DAGSTER_HOME)/dagster.yaml  ## ingest warehouse/landing into warehouse/trials.duckdb (the UI shows the run)
	$(VENV)/bin/trials ingest warehouse/landing --db warehouse/trials.duckdb

test: install  ## the whole suite, then the linter
	$(VENV)/bin/pytest -q
	$(VENV)/bin/ruff check .

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

ui: install $(DAGSTER_HOME)/dagster.yaml  ## the Dagster UI on http://127.0.0.1:$(UI_PORT)
	$(VENV)/bin/dagster dev -h 127.0.0.1 -p $(UI_PORT)

bench: install  ## the benchmark (not part of `make test`): ours vs DuckDB read_json vs dlt; BENCH_ARGS="--sizes 10000 50000 100000"
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf warehouse/trials.duckdb* warehouse/staging warehouse/.dagster
