"""Fixtures of the HF protocol tests: the real hub server (uvicorn subprocess on a loopback
port 0), one per test module since every test uses its own repo names, on PostgreSQL when
``HUB_TEST_DATABASE_URL`` is set (as in CI) and SQLite otherwise; and a runner for
unmodified HF library code against it."""

from __future__ import annotations

import os

import pytest

from tests.hf.hf_harness import make_runner
from tests.support.deployment import deployment_kind, start_hub
from tests.support.hub_process import PostgresDatabase


@pytest.fixture(scope="module")
def hub(request, tmp_path_factory):
    admin_url = os.environ.get("HUB_TEST_DATABASE_URL")
    database = PostgresDatabase(admin_url) if admin_url and deployment_kind() == "embedded" else None
    server = start_hub(tmp_path_factory.mktemp("hub-data"), request, database.url if database else None)
    yield server
    server.close()
    if database is not None:
        database.drop()


@pytest.fixture
def run_hf(hub, tmp_path):
    return make_runner(hub.url, tmp_path)
