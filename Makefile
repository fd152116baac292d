# The two commands: `make serve` (set up and run on a SQLite file) and `make test`
# (lint: ruff, mypy and the import contracts of pyproject.toml; then the suite).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: serve test lint install bench

$(BIN)/foss: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/foss

serve: $(BIN)/foss
	$(BIN)/foss serve

lint: $(BIN)/foss
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -n 2 --dist loadgroup

bench: $(BIN)/foss
	$(BIN)/python bench/packages_bench.py
