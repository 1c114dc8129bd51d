"""Helpers of the accountability tests (names, blobs, tokens, audit, downloads, gc): a real hub
per test on SQLite and, when ``HUB_TEST_DATABASE_URL`` is set, on PostgreSQL — or, with
``HUB_TEST_DEPLOYMENT=two-hosts``, on two hub processes sharing PostgreSQL and S3 behind a
round-robin proxy — and the raw-HTTP helpers of the server suite."""

from __future__ import annotations

import os

import pytest

from tests.support.deployment import TwoHosts, deployment_kind
from tests.support.hub_http import auth, create_repo, digest_of, publish, upload, wait_for_downloads
from tests.support.hub_process import HubProcess, postgres_or_skip

__all__ = [
    "HubProcess",
    "auth",
    "create_repo",
    "digest_of",
    "hub_on",
    "one_line",
    "publish",
    "stored_blobs",
    "upload",
    "wait_for_downloads",
]


def one_line(response) -> str:
    """The error message of a refusal, asserted to be one line."""
    message = response.json()["error"]["message"]
    assert message and "\n" not in message, message
    return message


def stored_blobs(hub) -> set[str]:
    """The hex digests of the blobs the hub's store holds (its S3 prefix, or its data dir)."""
    if isinstance(hub, TwoHosts):
        return {digest.split(":")[1] for digest in hub.stored_digests()}
    root = hub.data_dir / "blobs" / "sha256"
    return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture(params=["two-hosts"] if deployment_kind() == "two-hosts" else ["sqlite", "postgresql"])
def hub_on(request, tmp_path_factory):
    """Factory: ``hub_on(workers=1, env=None)`` starts a hub on this test's database kind (on the
    two-host deployment: two hosts, each with ``workers`` workers and ``env``). In a module that sets
    ``SHARED_HUB = True`` (its tests use distinct names) the tests share one hub per kind and settings,
    so the module pays one start-up, not one per test."""
    shared = request.getfixturevalue("_module_hubs") if getattr(request.module, "SHARED_HUB", False) else None
    if request.param == "postgresql" and not os.environ.get("HUB_TEST_DATABASE_URL"):
        pytest.skip("HUB_TEST_DATABASE_URL is not set")
    started: list = []

    def start(workers: int = 1, env: dict | None = None):
        key = (request.param, workers, tuple(sorted((env or {}).items())))
        if shared is not None and key in shared:
            return shared[key][0]
        database = None
        if request.param == "two-hosts":
            hub = TwoHosts(
                tmp_path_factory.mktemp("hub-data"), request.getfixturevalue("s3_server"), env=env, workers=workers
            ).start()
        else:
            database = postgres_or_skip() if request.param == "postgresql" else None
            hub = HubProcess(
                tmp_path_factory.mktemp("hub-data"),
                database_url=database.url if database else None,
                workers=workers,
                env=env,
            ).start()
        if shared is not None:
            shared[key] = (hub, database)
        else:
            started.append((hub, database))
        return hub

    yield start
    for hub, database in started:
        hub.close()
        if database:
            database.drop()
