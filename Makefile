# gigawatt — two commands on a fresh machine with Python >= 3.11 and pip:
#   make demo   set up .venv and run the main job on the bundled reference scenario
#   make test   set up .venv and run ruff, mypy, the whole test suite and the documentation site build
#   make docs   regenerate docs/scenario.md and build the documentation site into site/ (warnings are errors)
# Installs resolve from the committed constraints.txt (exact versions); `make lock` refreshes it on purpose,
# `make test-latest` runs the suite against the newest releases in a separate .venv-latest.
SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# the lock: exact versions of every package the project installs (empty for test-latest)
CONSTRAINTS ?= constraints.txt
PIP_C  := $(if $(CONSTRAINTS),PIP_CONSTRAINT=$(abspath $(CONSTRAINTS)),PIP_CONSTRAINT=)

.PHONY: demo test lint typecheck pytest bench clean setup docs docs-serve validation lock test-latest

setup: $(STAMP)

# PIP_CONSTRAINT (not only -c) so that build isolation resolves setuptools/wheel from the lock as well
$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(PIP_C) $(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PIP_C) $(PY) -m pip install --quiet -e '.[dev,docs]'
	touch $(STAMP)

# Refresh the lock from the newest releases that satisfy pyproject.toml (a deliberate, reviewed commit).
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	PIP_CONSTRAINT= .venv-lock/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	PIP_CONSTRAINT= .venv-lock/bin/python -m pip install --quiet -e '.[dev,docs]'
	{ echo "# Lock for gigawatt: exact versions that make setup/demo/test install (pip constraints)."; \
	  echo "# Regenerate with 'make lock' (newest releases satisfying pyproject.toml), review, commit."; \
	  echo "# Python $$(.venv-lock/bin/python -c 'import platform; print(platform.python_version())'), $$(date -u +%Y-%m-%d)"; \
	  .venv-lock/bin/python -m pip freeze --all --exclude-editable | grep -v -i '^gigawatt' | LC_ALL=C sort -f; \
	} > constraints.txt
	rm -rf .venv-lock
	@echo "constraints.txt refreshed: review 'git diff constraints.txt', run 'make test', commit"

# The suite against today's newest releases (no lock): drift shows up here as a choice, not a surprise.
test-latest:
	rm -rf .venv-latest
	$(MAKE) test VENV=.venv-latest CONSTRAINTS=

demo: $(STAMP)
	$(PY) -m gigawatt run reference --out out/reference

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples benchmarks docs/*.py
	$(VENV)/bin/ruff format --check src tests examples benchmarks docs/*.py

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest -q 2>&1 | tee .pytest-last.log; exit $${PIPESTATUS[0]}

# the site build comes after pytest: it reuses the notebooks the suite executed (docs/_notebooks.py) and, with
# GIGAWATT_DOCS_REUSE_ONLY=1, fails instead of executing any again (so it stays a minute or two of CI time)
test: lint typecheck pytest
	$(MAKE) docs GIGAWATT_DOCS_REUSE_ONLY=1

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .venv-latest .venv-lock out .pytest_cache .mypy_cache .ruff_cache .hypothesis site build/notebooks .cache/mkdocs-jupyter

validation: $(STAMP)
	GIGAWATT_VALIDATION_REPORT=docs/validation.md $(PY) -m pytest -q tests/validation

# The documentation site: docs/scenario.md regenerated from the models, then `mkdocs build --strict` (any
# warning fails) into site/ (gitignored; open site/index.html). Example notebooks run at build time, reused
# from build/notebooks/ when the code is unchanged. docs-serve: the same site with live reload.
MKDOCS := DISABLE_MKDOCS_2_WARNING=true NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs
docs: $(STAMP)
	$(PY) -m gigawatt.scenario.docgen > docs/scenario.md
	@start=$$(date +%s); $(MKDOCS) build --strict --site-dir site 2>&1 | grep -v 'Kernel is running over TCP'; \
	  status=$${PIPESTATUS[0]}; echo "docs: site/ built in $$(( $$(date +%s) - start )) s (exit $$status)"; exit $$status

docs-serve: $(STAMP)
	$(MKDOCS) serve
