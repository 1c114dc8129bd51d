"""Fixtures of the HF protocol tests: the real hub server (uvicorn subprocess, port 0,
from ``tests/conftest.py``) and a runner for unmodified HF library code against it."""

from __future__ import annotations

import pytest
from hf_harness import make_runner


@pytest.fixture
def run_hf(hub_server, tmp_path):
    return make_runner(hub_server.url, tmp_path)
