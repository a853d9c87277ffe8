# The two commands of the README: `make plan` (set up, then the offline plan of
# the example fleet) and `make check` (every check CI runs).
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.afrex-installed

.PHONY: setup engine plan check lint typecheck test

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

# A container engine for the tests that run the planned agent container for real
# (Podman with runc, and busybox-static for the test image; about 20 s), and Debian's
# chromium for the test that opens the portal page headless.
engine:
	@if command -v podman >/dev/null && command -v runc >/dev/null && [ -x /bin/busybox ] \
		&& [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			podman runc busybox-static chromium >/dev/null; \
	else echo "note: no podman/runc/busybox-static/chromium and no apt-get as root: those tests skip"; fi

test: setup engine
	$(BIN)/pytest

check: lint typecheck test
