# Adapter Hub: `make demo` and `make test` are all a new machine needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test bench base venv clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first: 2.13.0 is the CPU wheel on this disk; a plain `torch` would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[all]'
	touch $(STAMP)

venv: $(STAMP)

base: $(STAMP)
	$(PY) -m adapters.default_base

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m adapters.default_base >/dev/null
	$(PY) -m pytest -q -p no:cacheprovider tests

bench: $(STAMP)
	$(PY) -m adapters.default_base >/dev/null
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
