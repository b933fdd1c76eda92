# Two commands on a fresh clone:
#   make quickstart   set up .venv, then train and evaluate on real data
#   make test         run the test suite
VENV ?= .venv
PYTHON := $(VENV)/bin/python

.PHONY: quickstart test lint setup

$(PYTHON):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e ".[test]"

setup: $(PYTHON)

quickstart: $(PYTHON)
	$(PYTHON) examples/plot_quickstart.py

test: $(PYTHON)
	OMP_NUM_THREADS=1 $(PYTHON) -m pytest

lint: $(PYTHON)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
