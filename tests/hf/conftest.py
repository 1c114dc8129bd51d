"""Fixtures of the HF protocol tests: the real hub server (uvicorn subprocess on a loopback
port 0), one per test module since every test uses its own repo names, on PostgreSQL when
``HUB_TEST_DATABASE_URL`` is set (as in CI) and SQLite otherwise; and a runner for
unmodified HF library code against it."""

from __future__ import annotations

import os

import pytest
from hf_harness import make_runner
from hub_process import HubProcess, PostgresDatabase


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    admin_url = os.environ.get("HUB_TEST_DATABASE_URL")
    database = PostgresDatabase(admin_url) if admin_url else None
    server = HubProcess(tmp_path_factory.mktemp("hub-data"), database_url=database.url if database else None)
    server.start()
    yield server
    server.close()
    if database is not None:
        database.drop()


@pytest.fixture
def run_hf(hub, tmp_path):
    return make_runner(hub.url, tmp_path)
