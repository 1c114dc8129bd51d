"""Shared fixtures: a real hub server (uvicorn subprocess on a loopback port 0) for any
test — or, with ``HUB_TEST_DEPLOYMENT=two-hosts``, two stateless hosts on PostgreSQL + S3
behind a round-robin proxy (see deployment.py) — and ``database_url`` so the server suite
can also run on PostgreSQL when ``HUB_TEST_DATABASE_URL`` is set."""

from __future__ import annotations

import pytest

from tests.support.deployment import deployment_kind, shared_buckets, start_hub


@pytest.fixture
def database_url():
    """None = SQLite in the data dir. The server suite overrides this to add PostgreSQL."""
    return


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
def deployment():
    """The selected deployment's kind; a fixture that starts hubs of it asks for this (and so its
    tests run again on the two-host pass)."""
    return deployment_kind()


class _Hubs:
    """Starts hubs of the selected deployment on demand and closes them all at the end; hubs with
    the same settings are one hub (``hubs(env=..., workers=..., shared=...)``; ``shared``: the hosts
    count rate and sign-in buckets together, through Redis on two hosts)."""

    def __init__(self, request, tmp_path_factory) -> None:
        self.request, self.tmp, self.started = request, tmp_path_factory, {}

    def __call__(self, env: dict | None = None, workers: int = 1, shared: bool = False):
        key = (tuple(sorted((env or {}).items())), workers, shared)
        if key not in self.started:
            full = {**(shared_buckets() if shared else {}), **(env or {})}
            self.started[key] = start_hub(self.tmp.mktemp("hub-data"), self.request, env=full, workers=workers)
        return self.started[key]

    def close(self) -> None:
        for hub in self.started.values():
            hub.close()


@pytest.fixture
def deployed(request, tmp_path_factory, deployment):
    """Factory of hubs for one test: ``deployed(env=None, workers=1, shared=False)``."""
    hubs = _Hubs(request, tmp_path_factory)
    yield hubs
    hubs.close()


@pytest.fixture(scope="module")
def deployed_module(request, tmp_path_factory, deployment):
    """The same, shared by a whole module (its tests use distinct names): one hub per setting, so a
    module pays the two-host start-up once per setting, not once per test."""
    hubs = _Hubs(request, tmp_path_factory)
    yield hubs
    hubs.close()


@pytest.fixture(scope="module")
def _module_hubs():
    """Hubs a module shares (``SHARED_HUB = True`` in it), one per database kind and settings."""
    hubs: dict = {}
    yield hubs
    for hub, database in hubs.values():
        hub.close()
        if database:
            database.drop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One real S3 server (SeaweedFS) for the whole run; tests use their own key prefixes."""
    from tests.support.s3_server import start_seaweed

    server = start_seaweed(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.close()


DEPLOYMENT_FIXTURES = {"hub_server", "hub_server_module", "server", "hub", "hub_on", "deployment"}
# Files that assert a wall-clock bound (a refused attack must not slow others, a limit must answer in time):
# `make test` runs them after the parallel pass (`-m serial`), so other workers' load cannot make them flaky.
SERIAL_FILES = {
    "tests/client/test_client_rate_limits.py",
    "tests/security/test_bounded_queries.py",
    "tests/security/test_client_gone.py",
    "tests/security/test_download_counts.py",
    "tests/security/test_safetensors_shapes.py",
    "tests/security/test_signin_limits.py",
    "tests/security/test_slow_bodies.py",
    "tests/security/test_stored_bytes.py",
    # drives asyncio.run() itself: under xdist a worker that ran a Playwright (sync API) test before it still
    # has that event loop running ("asyncio.run() cannot be called from a running event loop")
    "tests/serving/test_engine.py",
}


# The longest files, longest first, each followed by a short one. `make test` runs xdist with
# `--no-loadscope-reorder`, so files are handed out in collection order: a worker takes a long file and one
# short one, and the long files all start in the first minutes instead of last (xdist's own order puts
# files with fewest tests last, and these have one or two each).
LONG_FIRST = (
    "tests/integration/test_readme_runs.py",
    "tests/integration/test_demo.py",
    "tests/rules/test_rules_semver.py",
    "tests/integration/test_task_library.py",
    "tests/bench/test_benches_run.py",
    "tests/integration/test_dpo_preferences.py",
)


def _long_first(item: pytest.Item, root) -> int:
    path = item.path.relative_to(root).as_posix()
    return LONG_FIRST.index(path) if path in LONG_FIRST else len(LONG_FIRST)


def pytest_collection_modifyitems(config, items):
    """Marks the wall-clock files ``serial`` and puts the longest files first (``LONG_FIRST``). On the two-host
    deployment only tests that talk to the deployed hub run again; the rest (units, storage contract,
    fixed-setup tests) already ran on the default pass."""
    from tests.support.deployment import deployment_kind

    root = config.rootpath
    for item in items:
        if item.path.relative_to(root).as_posix() in SERIAL_FILES:
            item.add_marker(pytest.mark.serial)
    items.sort(key=lambda item: _long_first(item, root))  # stable: every other file keeps its place
    if deployment_kind() == "embedded":
        return
    keep = [item for item in items if DEPLOYMENT_FIXTURES & set(getattr(item, "fixturenames", ()))]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep
