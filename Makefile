# Adapter Hub: `make demo` and `make test` are all a new machine needs.
# Both install exactly what requirements.lock records (the versions the suite passed with);
# `make lock` moves the lock to today's releases, `make test-latest` tries them without touching it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
LOCK := requirements.lock
LATEST_VENV := .venv-latest
# torch 2.13.0 is the CPU wheel on this disk; a plain `torch` would pull a multi-GB CUDA build.
TORCH := torch==2.13.0
COMPILE_FLAGS := --extra ml --extra server --extra serve --extra test --extra bench --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test test-hf-suite test-hf-large lint test-two-hosts test-latest fuzz bench base venv lock clean mutate

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml $(LOCK) requirements-clients.lock | $(PY)
	$(PIP) install -q $(TORCH)
	$(PIP) install -q --require-hashes --no-deps -r $(LOCK)
	$(PIP) install -q --no-deps -e .
	$(PIP) check
	$(PIP) install -q --require-hashes --no-deps --target $(VENV)/clients -r requirements-clients.lock
	touch $(STAMP)

venv: $(STAMP)

base: $(STAMP)
	$(PY) -m adapters.base.default

demo: $(STAMP)
	$(PY) examples/demo.py

# ruff (lint + format) on every package, the tests, benches, tools and examples, and mypy (strict on hub_rules,
# hub_client and the public settings/error modules); both are configured in pyproject.toml.
# `$(VENV)/bin/ruff check --fix .` and `ruff format .` repair most findings.
LINT_PATHS := .
lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy

# Two pytest workers (pytest-xdist, one file per worker at a time) keep both cores busy while a test waits on the
# hub it started; files that bound wall-clock time (marked `serial` in tests/conftest.py) run afterwards, alone.
# TEST_WORKERS=0 runs everything in one process. --durations lists the slowest tests in the CI log.
# Each worker's torch (and the commands it starts) computes on one thread: two workers with a thread per core
# each oversubscribed the cores and made the suite about 15 % slower.
TEST_WORKERS ?= 2
PYTEST := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -q -p no:cacheprovider --durations=15
test: $(STAMP)
	$(PY) -m adapters.base.default >/dev/null
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not serial" tests
	$(PYTEST) -m serial tests

# huggingface_hub's own test suite (the sdist of the installed version, fetched with pip) against a fresh
# `hub serve`; prints passed/failed per file and writes build/hf-suite/summary.md (about 20 minutes).
test-hf-suite: $(STAMP)
	PYTHONPATH=$(CURDIR) $(PY) tools/hf_suite.py

# `upload_folder` of a 538 MB safetensors file (SmolLM2-360M's size) through git-LFS with the unmodified
# huggingface_hub; CI runs the same test at 66 MiB (tests/hf/test_hf_lfs_upload_folder.py).
test-hf-large: $(STAMP)
	HUB_TEST_LFS_UPLOAD_BYTES=538000000 PYTHONPATH=$(CURDIR) $(PY) -m pytest -q -p no:cacheprovider --durations=3 \
		tests/hf/test_hf_lfs_upload_folder.py

# The server, HF and push/pull suites again on PostgreSQL + a real S3 server (SeaweedFS) with two hub
# processes behind a per-request round-robin proxy (needs HUB_TEST_DATABASE_URL; .ci/run sets it).
TWO_HOST_SUITES := tests/server tests/hf tests/integration/test_push_pull.py \
	tests/integration/test_push_pull_pinned.py tests/integration/test_push_pull_resume.py \
	tests/security/test_slow_bodies.py tests/security/test_bounded_queries.py \
	tests/security/test_stored_bytes.py \
	tests/security/test_visibility_changes.py tests/security/test_download_counts.py \
	tests/security/test_namespace_takeover.py tests/security/test_safetensors_shapes.py \
	tests/security/test_blob_visibility.py tests/security/test_signin_limits.py tests/security/test_tokens.py \
	tests/security/test_account_controls.py tests/security/test_counts_and_lockout.py \
	tests/security/test_signing_claims.py tests/security/test_rates_and_quotas.py tests/security/test_gc.py \
	tests/security/test_upload_finish_oracle.py
test-two-hosts: $(STAMP)
	HUB_TEST_DEPLOYMENT=two-hosts $(PYTEST) -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not serial" $(TWO_HOST_SUITES)
	HUB_TEST_DEPLOYMENT=two-hosts $(PYTEST) -m serial $(TWO_HOST_SUITES)

# The schemathesis run for longer than CI allows: many generated cases per route, a long time budget,
# a fresh seed each run (printed; HUB_FUZZ_SEED=N replays one).
fuzz: $(STAMP)
	HUB_FUZZ_SEED=random HUB_FUZZ_EXAMPLES=200 HUB_FUZZ_SECONDS=900 $(PY) -m pytest -q -s -p no:cacheprovider tests/security/test_openapi_fuzz.py

bench: $(STAMP)
	$(PY) -m adapters.base.default >/dev/null
	$(PY) bench/run_all.py

# The newest releases pyproject.toml allows, in a throw-away environment: run it to learn early whether
# a new release breaks us (then fix, `make lock`, `make test`, commit the lock).
test-latest:
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/pip install -q $(TORCH)
	$(LATEST_VENV)/bin/pip install -q -e '.[all]'
	$(LATEST_VENV)/bin/python tools/lock_drift.py $(LOCK)
	$(LATEST_VENV)/bin/python -m adapters.base.default >/dev/null
	$(LATEST_VENV)/bin/python -m pytest -q -p no:cacheprovider tests

# Mutation testing (mutmut, settings in pyproject.toml [tool.mutmut]) of hub_rules/ and the composer's core
# (adapters/composition: from_examples, selection, deltas) against tests/rules and tests/compose; not part of CI.
# It runs at the lowest priority and stops after MUTATE_SECONDS; mutants not reached stay "not checked".
# `mutmut results` lists the survivors, `mutmut show NAME` shows one; tools/mutation_score.py prints the score.
MUTATE_SECONDS ?= 3600
mutate: $(STAMP)
	rm -rf mutants
	-timeout $(MUTATE_SECONDS) nice -n 19 $(VENV)/bin/mutmut run --max-children 2
	$(VENV)/bin/mutmut export-cicd-stats
	$(PY) tools/mutation_score.py mutants/mutmut-cicd-stats.json

# Re-resolve every package (direct and transitive) to the newest allowed release, with hashes.
lock: | $(PY)
	$(PIP) install -q pip-tools
	$(VENV)/bin/pip-compile -q --upgrade $(COMPILE_FLAGS) -o $(LOCK) pyproject.toml lock-pins.txt

clean:
	rm -rf $(VENV) $(LATEST_VENV) build *.egg-info
