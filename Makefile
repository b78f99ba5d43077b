# Two commands on a fresh machine with Python >= 3.10:  `make demo`  and  `make test`.
# Both create .venv and install the pinned dependencies from pyproject.toml first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck generated docs unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## The main job: a demo of the library against the embedded Sequin emulator.
demo: $(STAMP)
	$(BIN)/python examples/demo.py

## Everything CI checks: lint, format, types, generated models, docs, then the test suite.
test: lint typecheck generated docs unit

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

## Benchmarks (not tests): bench/run.py (timings against the emulator) writes bench/results.md,
## then bench/instructions.py (callgrind instruction counts, about 3 minutes) adds its section.
bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/instructions.py --out bench/results.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
