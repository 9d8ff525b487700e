# Two commands for a new machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: run test bench demo clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

venv: $(BIN)/python

# Installs the project (editable, so the checkout is what runs) and starts the app on the
# default database in the user data folder (or XUEJI_DUTY_DB).
# compileall: bytecode ready even where PYTHONDONTWRITEBYTECODE is set (else every start recompiles
# ~30 modules, ~35 ms of the first paint); only changed files are compiled again.
run: venv
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q tui models screens >/dev/null
	$(BIN)/xueji-duty $(ARGS)

# Creates or refreshes .venv with the test extras, then runs the whole suite.
test: venv
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m pytest $(ARGS)

# The app on a throwaway database with a fictional school (deleted on exit).
demo: venv
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q tui models screens >/dev/null
	$(BIN)/xueji-duty demo $(ARGS)

bench: venv
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
