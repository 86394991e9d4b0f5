# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test install install-test install-browser lint bench host-check security clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

install-test: $(STAMP)

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py accounting_sync_demo

# Debian's Chromium for the browser tests (tests/browser; Playwright drives it, no browser is downloaded). Without
# root or apt-get it says so and the browser tests skip (CI sets BROWSER_TESTS_REQUIRED=1: there they must run).
install-browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium >/dev/null; }; \
	  else echo "Chromium is not installed and cannot be installed here (needs root and apt-get):" \
	            "the browser tests will skip"; fi; }

test: install-test install-browser
	$(PY) -m pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

# The linters: ruff ([tool.ruff] in pyproject.toml) and the import contracts ([tool.importlinter]: the apps' layers
# and accounting_sync's own).
lint: install-test
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache

bench: install-test
	$(PY) -m bench.run

# The built wheel in a fresh virtualenv outside the repository, used by a minimal host project (.ci/host_check.sh).
host-check: install-test
	PY=$(abspath $(PY)) PYTHON=$(PYTHON) .ci/host_check.sh

# Static security check (bandit) and the installed dependencies against known advisories (pip-audit).
security: install-test
	PY=$(abspath $(PY)) .ci/security.sh

clean:
	rm -rf $(VENV) var
