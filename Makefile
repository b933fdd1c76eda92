# Two commands on a fresh clone:
#   make quickstart   set up .venv, then train and evaluate on real data
#   make test         run the test suite
VENV ?= .venv
PYTHON := $(VENV)/bin/python

.PHONY: quickstart test lint setup docs

# Rebuilt when pyproject.toml changes; a failed install leaves no stamp, so
# the next make tries again.
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

quickstart: $(STAMP)
	$(PYTHON) examples/plot_quickstart.py

test: $(STAMP)
	OMP_NUM_THREADS=1 $(PYTHON) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The documentation, warnings as errors; GALLERY=0 builds the example pages
# without running the examples (as CI does).
GALLERY ?= 1
docs: $(STAMP)
	$(VENV)/bin/pip install --quiet -e ".[docs]"
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html -D plot_gallery=$(GALLERY) docs docs/_build/html
