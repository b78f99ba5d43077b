# Two commands on a fresh machine with Python >= 3.10:  `make demo`  and  `make test`.
# Both create .venv and install the pinned dependencies from pyproject.toml first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pip >= 25.1 reads the `dev` dependency group (PEP 735) from pyproject.toml.
install = $(1) -m pip install --quiet --upgrade pip && $(1) -m pip install --quiet -e . --group dev

## Every supported Python the machine has (on PATH or under pyenv) runs the unit suite too,
## each in its own venv under .venv/versions/; the main .venv's version is not run twice.
SUPPORTED := 3.10 3.11 3.12 3.13
PYENV_ROOT ?= $(HOME)/.pyenv
MAIN_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
find_python = $(firstword $(foreach p,python$(1) $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python),\
	$(shell $(p) -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(1)")' \
		>/dev/null 2>&1 && echo $(p))))
OTHER_VERSIONS := $(foreach v,$(filter-out $(MAIN_VERSION),$(SUPPORTED)),$(if $(call find_python,$(v)),$(v)))

.PHONY: demo test lint typecheck generated docs unit unit-all bench clean versions

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(call install,$(BIN)/python)
	touch $(STAMP)

.PRECIOUS: $(VENV)/versions/%/.installed
$(VENV)/versions/%/.installed: pyproject.toml
	$(call find_python,$*) -m venv $(VENV)/versions/$*
	$(call install,$(VENV)/versions/$*/bin/python)
	touch $@

## The main job: a demo of the library against the embedded Sequin emulator.
demo: $(STAMP)
	$(BIN)/python examples/demo.py

## Everything CI checks: lint, format, types, generated models, docs, then the test suite
## under every supported Python found.
test: lint typecheck generated docs unit-all

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy --strict sequin_orm tests/typing
	$(BIN)/pyright

## The committed model modules must be what the bundled schemas generate.
generated: $(STAMP)
	$(BIN)/python -m sequin_orm.codegen.regenerate --check

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

unit: $(STAMP)
	$(BIN)/pytest -q

## The suite on the main .venv, then on every other supported Python found (each runs even if
## one before failed, so one CI run shows them all); fails if any failed.
unit-all: $(STAMP) $(foreach v,$(OTHER_VERSIONS),$(VENV)/versions/$(v)/.installed)
	@failed=""; for bin in $(BIN) $(foreach v,$(OTHER_VERSIONS),$(VENV)/versions/$(v)/bin); do \
		echo "== $$($$bin/python -V) ($$bin)"; $$bin/pytest -q || failed="$$failed $$bin"; \
	done; if [ -n "$$failed" ]; then echo "the suite failed under:$$failed"; exit 1; fi

## The suite on one other Python: `make unit-3.10`.
unit-%: $(VENV)/versions/%/.installed
	$(VENV)/versions/$*/bin/pytest -q

## Which Pythons `make test` runs the suite on.
versions:
	@echo "main: $(MAIN_VERSION)  others: $(or $(OTHER_VERSIONS),none found)"

## Benchmarks (not tests): bench/run.py (timings against the emulator) writes bench/results.md,
## then bench/instructions.py (callgrind instruction counts, about 3 minutes),
## bench/concurrency.py (latency and the async driver, about 3 minutes) and bench/mirror.py
## (the mirror against a PostgreSQL it starts, several minutes) add their sections.
bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/instructions.py --out bench/results.md
	$(BIN)/python bench/concurrency.py --out bench/results.md
	$(BIN)/python bench/mirror.py --out bench/results.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
