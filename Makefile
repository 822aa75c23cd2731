# costrail — the two commands: `make demo` and `make test`. Both build .venv from requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow test-fast lint bench venv clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## Generate the Acme AI demo company in native export formats, ingest it, print the summary.
demo: $(STAMP)
	$(BIN)/costrail demo --out demo-out

## The test suite, Spark parity included, except the slow whole-demo suites (make test-slow).
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" --durations=10

## The slow suites: the whole demo company on Spark, demo anomaly detection end to end.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow --durations=5

## Everything but the Spark suite (quick local loop).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not spark and not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/analyses.py
	$(BIN)/python bench/gpu_fleet.py
	$(BIN)/python bench/watch_series.py
	$(BIN)/python bench/gateway.py

clean:
	rm -rf $(VENV) .costrail demo-out .pytest_cache .mypy_cache .ruff_cache
