# The two commands a user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install only when the package metadata changes.
STAMP_DEMO := $(VENV)/.stamp-demo
STAMP_TEST := $(VENV)/.stamp-test
STAMP_BENCH := $(VENV)/.stamp-bench
STAMP_DOCS := $(VENV)/.stamp-docs
# One BLAS thread: at this project's sizes threads gain little, and numpy's and scipy's separate
# OpenBLAS pools then spin against each other (measured: flow_limit on the demo 0.23 s with one
# thread, 2.5 s with two on a busy 2-core machine). Override with `make OPENBLAS_NUM_THREADS=2 ...`.
OPENBLAS_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS

.PHONY: demo test test-all lint format clean bench bench-quick docs reproduce

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_DEMO): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[plot]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@ $(STAMP_DEMO)

$(STAMP_BENCH): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[bench]"
	touch $@

# Benchmarks against the peers (issue 5); never part of `make test`.
bench: $(STAMP_BENCH)
	$(BIN)/python benchmarks/run.py --sizes S1,S2,S3,S4 --out results/bench.json

bench-quick: $(STAMP_BENCH)
	$(BIN)/python benchmarks/run.py --sizes S1,S2 --repeat 3 --out results/bench-quick.json

$(STAMP_DOCS): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[docs]"
	touch $@

# The user guide (warnings are printed; -q keeps the rest quiet).
docs: $(STAMP_DOCS)
	$(BIN)/python -m sphinx --keep-going -q -b html docs docs/_build/html
	@echo "open docs/_build/html/index.html"

demo: $(STAMP_DEMO)
	$(BIN)/sparseflow demo --out results/demo

reproduce: $(STAMP_DEMO)
	$(BIN)/sparseflow reproduce --quick --out results/reproduce

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP_TEST)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

test: lint
	$(BIN)/python -m pytest -q

test-all: lint
	$(BIN)/python -m pytest -q -m "slow or not slow"

clean:
	rm -rf $(VENV) results build dist src/*.egg-info docs/_build docs/generated
