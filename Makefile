# gigawatt — two commands on a fresh machine with Python >= 3.11 and pip:
#   make demo   set up .venv and run the main job on the bundled reference scenario
#   make test   set up .venv and run ruff, mypy and the whole test suite
SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean setup docs validation

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m gigawatt run reference --out out/reference

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples benchmarks
	$(VENV)/bin/ruff format --check src tests examples benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest -q 2>&1 | tee .pytest-last.log; exit $${PIPESTATUS[0]}

test: lint typecheck pytest

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis

validation: $(STAMP)
	GIGAWATT_VALIDATION_REPORT=docs/validation.md $(PY) -m pytest -q tests/validation

docs: $(STAMP)
	$(PY) -m gigawatt.scenario.docgen > docs/scenario.md
