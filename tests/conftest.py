"""Shared fixtures: a real hub server (uvicorn subprocess on a loopback port 0) for any
test — or, with ``HUB_TEST_DEPLOYMENT=two-hosts``, two stateless hosts on PostgreSQL + S3
behind a round-robin proxy (see deployment.py) — and ``database_url`` so the server suite
can also run on PostgreSQL when ``HUB_TEST_DATABASE_URL`` is set."""

from __future__ import annotations

import pytest

from tests.support.deployment import start_hub


@pytest.fixture
def database_url():
    """None = SQLite in the data dir. The server suite overrides this to add PostgreSQL."""
    return None


@pytest.fixture
def hub_server(request, tmp_path_factory, database_url):
    """A fresh server per test: ``.url``, ``.data_dir``, ``.token(user, scope, orgs)``, ``.kill()``, ``.restart()``."""
    server = start_hub(tmp_path_factory.mktemp("hub-data"), request, database_url)
    yield server
    server.close()


@pytest.fixture(scope="module")
def hub_server_module(request, tmp_path_factory):
    """One server shared by a whole test module (SQLite) when tests use distinct repo names."""
    server = start_hub(tmp_path_factory.mktemp("hub-data"), request)
    yield server
    server.close()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One real S3 server (SeaweedFS) for the whole run; tests use their own key prefixes."""
    from tests.support.s3_server import start_seaweed

    server = start_seaweed(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.close()


DEPLOYMENT_FIXTURES = {"hub_server", "hub_server_module", "server", "hub", "hub_on"}


def pytest_collection_modifyitems(config, items):
    """On the two-host deployment only tests that talk to the deployed hub run again; the rest
    (units, storage contract, fixed-setup tests) already ran on the default pass."""
    from tests.support.deployment import deployment_kind

    if deployment_kind() == "embedded":
        return
    keep = [item for item in items if DEPLOYMENT_FIXTURES & set(getattr(item, "fixturenames", ()))]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep
