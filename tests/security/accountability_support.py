"""Helpers of the accountability tests (names, blobs, tokens, audit, downloads, gc): a real hub
per test on SQLite and, when ``HUB_TEST_DATABASE_URL`` is set, on PostgreSQL, and the raw-HTTP
helpers of the server suite."""

from __future__ import annotations

import pytest

from tests.support.hub_http import auth, create_repo, digest_of, publish, upload, wait_for_downloads
from tests.support.hub_process import HubProcess, postgres_or_skip

__all__ = ["HubProcess", "auth", "create_repo", "digest_of", "hub_on", "one_line", "publish", "upload",
           "wait_for_downloads"]


def one_line(response) -> str:
    """The error message of a refusal, asserted to be one line."""
    message = response.json()["error"]["message"]
    assert message and "\n" not in message, message
    return message


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_on(request, tmp_path_factory):
    """Factory: ``hub_on(workers=1, env=None)`` starts a hub on this test's database kind."""
    database = postgres_or_skip() if request.param == "postgresql" else None
    started: list[HubProcess] = []

    def start(workers: int = 1, env: dict | None = None) -> HubProcess:
        hub = HubProcess(tmp_path_factory.mktemp("hub-data"), database_url=database.url if database else None,
                         workers=workers, env=env).start()
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.close()
    if database:
        database.drop()
