# `make demo` and `make test` each create .venv when missing and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch and torchvision from the registry, as a matching pair (never the local 2.13.0 file).
TORCH_PAIR := torch==2.15.0 torchvision==0.29.2
INSTALLED := $(VENV)/.goalframe-installed
# LeRobot 0.6.1 needs Python >= 3.12 and torch < 2.12: it gets its own environment, with goalframe
# installed editable beside it (README "LeRobot export"); the suite's export test runs there.
LEROBOT_VENV ?= .venv-lerobot
# A pyenv 3.12 first: on the project's machines python3.12 on PATH is a pyenv shim that may refuse to run.
LEROBOT_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python) \
  $(shell command -v python3.12 2>/dev/null) python3.12)
LEROBOT_INSTALLED := $(LEROBOT_VENV)/.goalframe-installed

.PHONY: install lerobot-env demo test bench clean

$(INSTALLED): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PAIR)
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

install: $(INSTALLED)

$(LEROBOT_INSTALLED): pyproject.toml Makefile
	@$(LEROBOT_PYTHON) -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || { \
	  echo "make lerobot-env: no Python >= 3.12 with venv at '$(LEROBOT_PYTHON)' (LeRobot 0.6.1 needs it);" \
	    "install one or run: make lerobot-env LEROBOT_PYTHON=/path/to/python3.12" >&2; exit 1; }
	@test -x $(LEROBOT_VENV)/bin/python || $(LEROBOT_PYTHON) -m venv $(LEROBOT_VENV)
	$(LEROBOT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LEROBOT_VENV)/bin/python -m pip install --quiet -e ".[lerobot]"
	@touch $@

lerobot-env: $(LEROBOT_INSTALLED)

demo: $(INSTALLED)
	$(VENV)/bin/goalframe demo --out demo-out

# The LeRobot environment is built whenever a Python 3.12 is here (a failed install stops the run);
# without one the export round trip is skipped, and says so.
test: $(INSTALLED)
	@if $(LEROBOT_PYTHON) -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  $(MAKE) --no-print-directory lerobot-env; \
	else echo "warning: no Python >= 3.12 here: the LeRobot export round trip will be skipped" >&2; fi
	$(PY) -m pytest -q

bench: $(INSTALLED)
	$(PY) benchmarks/ingest.py

clean:
	rm -rf demo-out .pytest_cache
