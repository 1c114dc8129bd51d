"""Server suite: every test that takes ``database_url`` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from hub_process import postgres_or_skip


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    if request.param == "sqlite":
        yield None
        return
    db = postgres_or_skip()
    yield db.url
    db.drop()
