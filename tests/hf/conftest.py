"""Fixtures of the HF protocol tests: the real hub server (uvicorn subprocess on a loopback
port 0, from ``tests/conftest.py``), one per test module since every test uses its own repo
names, and a runner for unmodified HF library code against it."""

from __future__ import annotations

import pytest
from hf_harness import make_runner


@pytest.fixture(scope="module")
def hub(hub_server_module):
    return hub_server_module


@pytest.fixture
def run_hf(hub, tmp_path):
    return make_runner(hub.url, tmp_path)
