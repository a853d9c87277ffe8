# The two commands of the README: `make plan` (set up, then the offline plan of
# the example fleet) and `make check` (every check CI runs).
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.afrex-installed

.PHONY: setup plan check lint typecheck test

$(STAMP): pyproject.toml $(wildcard policies/requirements.txt)
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

plan: setup
	$(BIN)/afrex plan

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint

typecheck: setup
	$(BIN)/mypy .

test: setup
	$(BIN)/pytest

check: lint typecheck test
