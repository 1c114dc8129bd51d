"""Server suite fixtures: ``server`` is one real hub per module and database (SQLite,
and PostgreSQL when ``HUB_TEST_DATABASE_URL`` is set); ``database_url`` parametrises
the per-test ``hub_server`` the same way."""

from __future__ import annotations

import pytest
from hub_process import HubProcess, postgres_or_skip

DATABASES = ["sqlite", "postgresql"]


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
    hub = HubProcess(tmp_path_factory.mktemp("hub-data"), database_url=url).start()
    yield hub
    hub.close()
    if db:
        db.drop()
