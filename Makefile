# costrail — the two commands: `make demo` and `make test`. Both build .venv from requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench venv clean

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

## Full test suite, Spark parity included.
test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=10

## Everything but the Spark suite (quick local loop).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not spark"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .costrail demo-out .pytest_cache .mypy_cache .ruff_cache
