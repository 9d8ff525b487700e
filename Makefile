# Two commands for a new machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=

# No built-in implicit rules: with ~100 source files as prerequisites, make would otherwise try
# each of its built-in rules on each of them (~0.1 s before every `make run`).
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

# Stamps beside the virtual environment: the project is installed (editable, so the checkout is
# what runs) only when the venv is new or pyproject.toml changed since the last install. A second
# `make run` therefore starts as fast as the installed command (docs/dev/benchmarks.md); before,
# every start ran pip (~4 s). `make clean` or deleting .venv forces a full install.
INSTALLED      := $(VENV)/.installed
INSTALLED_TEST := $(VENV)/.installed-test
# setuptools reports every editable install with an "Editable installation" notice (a warning pip
# prints); it says nothing we need to act on. Other build warnings still show.
PIP_INSTALL    := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet

# Bytecode, compiled again only when a source file is newer than the last compile (make compares
# the times itself, so an unchanged checkout starts the app without a Python run in front of it).
COMPILED       := $(VENV)/.compiled
PY_SOURCES     := $(wildcard tui/*.py tui/*/*.py models/*.py screens/*.py)

.PHONY: run test bench demo clean venv install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

venv: $(BIN)/python

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e .
	@touch $@

# The test extras include the project itself, so this stamp implies the one above.
$(INSTALLED_TEST): pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e ".[test]"
	@touch $@ $(INSTALLED)

install: $(INSTALLED)

# compileall: bytecode ready even where PYTHONDONTWRITEBYTECODE is set (else every start recompiles
# ~30 modules, ~35 ms of the first paint); only changed files are compiled again.
$(COMPILED): $(PY_SOURCES) | $(INSTALLED)
	@$(BIN)/python -m compileall -q tui models screens >/dev/null
	@touch $@

# Starts the app on the default database in the user data folder (or XUEJI_DUTY_DB).
run: $(INSTALLED) $(COMPILED)
	@$(BIN)/xueji-duty $(ARGS)

# Installs the project with the test extras into .venv (when new or pyproject.toml changed: a fresh
# clone installs everything) and, where missing and possible (root on Debian), the Debian packages
# the integration tests use (.ci/test-deps: LibreOffice, PostgreSQL); then runs the whole suite.
test: $(INSTALLED_TEST)
	@bash .ci/test-deps
	$(BIN)/python -m pytest $(ARGS)

# The app on a throwaway database with a fictional school (deleted on exit).
demo: $(INSTALLED) $(COMPILED)
	@$(BIN)/xueji-duty demo $(ARGS)

bench: $(INSTALLED_TEST)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
