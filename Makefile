# `make demo` and `make test` each create .venv when missing and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch and torchvision from the registry, as a matching pair (never the local 2.13.0 file).
TORCH_PAIR := torch==2.15.0 torchvision==0.29.2
INSTALLED := $(VENV)/.goalframe-installed

.PHONY: install demo test bench clean

$(INSTALLED): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PAIR)
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

install: $(INSTALLED)

demo: $(INSTALLED)
	$(VENV)/bin/goalframe demo --out demo-out

test: $(INSTALLED)
	$(PY) -m pytest -q

bench: $(INSTALLED)
	$(PY) benchmarks/ingest.py

clean:
	rm -rf demo-out .pytest_cache
