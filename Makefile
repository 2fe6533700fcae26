# tradewatch: `make run` starts the daemon on the embedded demo, `make test` runs every test.
# Installs take exactly the versions pinned in uv.lock (the ones the tests run on), through uv
# installed into the venv from PyPI; `make lock` re-pins after a change to pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
LOWEST_VENV ?= .venv-lowest
BIN := $(VENV)/bin
UV_VERSION ?= 0.13.9
UV := $(BIN)/uv
CONFIG ?= config/tradewatch.yaml

# uv installs into $(VENV) whatever it is called, and never downloads a Python of its own.
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never

.PHONY: run once check test test-lowest lock lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --locked: stop, rather than install something untested, when pyproject.toml changed and
# uv.lock was not updated (`make lock`). --inexact keeps uv itself in the venv.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked --inexact
	touch $@

$(VENV)/.installed-dev: pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked --inexact --extra dev
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

# The suite on the lowest versions pyproject.toml allows for each direct dependency (their own
# dependencies at the newest that fit), in a separate venv made afresh: the lower bounds hold.
# The chaos test kills 8 daemons there rather than 32: with these versions a daemon takes about
# twice as long to start (4 s against 2 s here), and the kills test recovery, not the versions.
test-lowest: | $(UV)
	rm -rf $(LOWEST_VENV)
	$(UV) venv --quiet --python $(BIN)/python $(LOWEST_VENV)
	$(UV) pip install --quiet --python $(LOWEST_VENV)/bin/python --resolution lowest-direct -e '.[dev]'
	TRADEWATCH_CHAOS_KILLS=8 $(LOWEST_VENV)/bin/python -m pytest $(LOWEST_TESTS)

lock: | $(UV)
	$(UV) lock

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check monitor detectors tests
	$(BIN)/mypy monitor detectors

clean:
	rm -rf $(VENV) $(LOWEST_VENV) var *.egg-info
