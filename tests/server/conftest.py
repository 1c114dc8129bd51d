"""Server suite fixtures: ``server`` is one real hub per module and database (SQLite,
and PostgreSQL when ``HUB_TEST_DATABASE_URL`` is set); ``database_url`` parametrises
the per-test ``hub_server`` the same way. On the two-host deployment there is one
database kind, PostgreSQL, shared by both hosts."""

from __future__ import annotations

import pytest

from tests.support.deployment import deployment_kind, start_hub
from tests.support.hub_process import postgres_or_skip

DATABASES = ["sqlite", "postgresql"] if deployment_kind() == "embedded" else ["postgresql"]


def _url_for(kind: str):
    if kind == "sqlite":
        return None, None
    db = postgres_or_skip()
    return db.url, db


@pytest.fixture(params=DATABASES)
def database_url(request):
    url, db = _url_for(request.param)
    yield url
    if db:
        db.drop()


@pytest.fixture(scope="module", params=DATABASES)
def server(request, tmp_path_factory):
    url, db = _url_for(request.param)
    hub = start_hub(tmp_path_factory.mktemp("hub-data"), request, url)
    yield hub
    hub.close()
    if db:
        db.drop()
