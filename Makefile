# tradewatch: `make run` starts the daemon on the embedded demo, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config/tradewatch.yaml

.PHONY: run once check test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# The demo replays history from 2014-09 each time, so it starts from an empty store.
run: $(VENV)/.installed
	@if [ "$(CONFIG)" = "config/tradewatch.yaml" ]; then rm -f var/demo.db var/demo.db-wal var/demo.db-shm; fi
	$(BIN)/tradewatch run --config $(CONFIG)

once: $(VENV)/.installed
	$(BIN)/tradewatch once --config $(CONFIG)

check: $(VENV)/.installed
	$(BIN)/tradewatch check --config $(CONFIG)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check monitor detectors tests
	$(BIN)/mypy monitor detectors

clean:
	rm -rf $(VENV) var *.egg-info
