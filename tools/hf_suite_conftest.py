"""The ``tests/conftest.py`` that ``tools/hf_suite.py`` puts next to huggingface_hub's own tests.

The sdist ships the test files but not their conftest, so the fixtures they import (``api``,
``repo_factory``, ``RepoFactory``, ``new_repo_id``) are provided here the way the library's CI defines them.
Everything that points the suite at a hub comes from the environment: ``HF_SUITE_ENDPOINT`` and
the users and tokens ``HF_SUITE_USER``/``_TOKEN``, ``HF_SUITE_OTHER_USER``/``_TOKEN`` and
``HF_SUITE_ENTERPRISE_USER``/``_ORG``/``_TOKEN`` replace the values of ``testing_constants``
before any test module imports them; the test files themselves are not changed.

Each test's requests are counted from the hub's access log (``HF_SUITE_ACCESS_LOG``) and written
to ``HF_SUITE_REACHED`` so the runner can tell the tests that reached the hub from the offline ones.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest
from huggingface_hub import HfApi, constants
from huggingface_hub.utils import SoftTemporaryDirectory

from . import testing_constants

_ENV = {
    "ENDPOINT_STAGING": "HF_SUITE_ENDPOINT",
    "USER": "HF_SUITE_USER",
    "TOKEN": "HF_SUITE_TOKEN",
    "OTHER_USER": "HF_SUITE_OTHER_USER",
    "OTHER_TOKEN": "HF_SUITE_OTHER_TOKEN",
    "ENTERPRISE_USER": "HF_SUITE_ENTERPRISE_USER",
    "ENTERPRISE_ORG": "HF_SUITE_ENTERPRISE_ORG",
    "ENTERPRISE_TOKEN": "HF_SUITE_ENTERPRISE_TOKEN",
}
for _name, _var in _ENV.items():
    if os.environ.get(_var):
        setattr(testing_constants, _name, os.environ[_var])

from .testing_constants import ENDPOINT_STAGING, TOKEN
from .testing_utils import repo_name

_ACCESS_LOG = os.environ.get("HF_SUITE_ACCESS_LOG")
_REACHED = os.environ.get("HF_SUITE_REACHED")


@pytest.fixture(autouse=True)
def patch_constants(monkeypatch):
    """A fresh cache and token path per test, as the library's CI does."""
    with SoftTemporaryDirectory() as cache_dir:
        monkeypatch.setattr(constants, "HF_HUB_CACHE", cache_dir)
        monkeypatch.setattr(constants, "HF_ASSETS_CACHE", cache_dir)
        monkeypatch.setattr(constants, "HF_TOKEN_PATH", os.path.join(cache_dir, "token"))
        monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", os.path.join(cache_dir, "stored_tokens"))
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_EXPERIMENTAL_WARNING", True)
        yield


@pytest.fixture
def fx_cache_dir(request):
    with SoftTemporaryDirectory() as cache_dir:
        request.cls.cache_dir = Path(cache_dir).resolve()
        yield


@pytest.fixture
def xet_mode():
    pytest.skip("Xet transfers are not served by this hub")


class RepoFactory:
    """Creates repos for a test and deletes them afterwards."""

    def __init__(self, api: HfApi) -> None:
        self.api = api
        self.repos: list[tuple[str, str | None]] = []

    def __call__(self, repo_type: str | None = None, *, repo_id: str | None = None, **kwargs):
        """A new repo's ``RepoUrl`` (``repo_id`` without a namespace: the caller's)."""
        url = self.api.create_repo(repo_id or repo_name(), repo_type=repo_type, **kwargs)
        self.repos.append((url.repo_id, repo_type))
        return url

    def cleanup(self) -> None:
        for repo_id, repo_type in self.repos:
            with contextlib.suppress(Exception):  # cleanup must not hide the test's own result
                self.api.delete_repo(repo_id=repo_id, repo_type=repo_type, missing_ok=True)


@pytest.fixture(scope="session")
def api() -> HfApi:
    return HfApi(endpoint=ENDPOINT_STAGING, token=TOKEN)


@pytest.fixture
def new_repo_id(api: HfApi):
    """A repo id in the suite user's namespace that no repo has yet; deleted after the test."""
    repo_id = f"{testing_constants.USER}/{repo_name()}"
    yield repo_id
    with contextlib.suppress(Exception):
        api.delete_repo(repo_id=repo_id, missing_ok=True)


@pytest.fixture
def repo_factory(api: HfApi):
    factory = RepoFactory(api)
    yield factory
    factory.cleanup()


def _log_size() -> int:
    try:
        return os.path.getsize(_ACCESS_LOG) if _ACCESS_LOG else 0
    except OSError:
        return 0


def _requests_since(offset: int) -> list[dict]:
    if not _ACCESS_LOG:
        return []
    with open(_ACCESS_LOG, "rb") as log:
        log.seek(offset)
        lines = log.read().decode(errors="replace").splitlines()
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "status" in entry:
            out.append({k: entry.get(k) for k in ("method", "path", "status")})
    return out


_STARTS: dict[str, int] = {}


def pytest_runtest_setup(item):
    _STARTS.setdefault(item.nodeid, _log_size())


def pytest_runtest_logfinish(nodeid, location):
    """Append the test's request count (setup, call and teardown together) to the reached file."""
    if not _REACHED or nodeid not in _STARTS:
        return
    requests = _requests_since(_STARTS.pop(nodeid))
    with open(_REACHED, "a") as out:
        out.write(
            json.dumps(
                {
                    "nodeid": nodeid,
                    "requests": len(requests),
                    "server_errors": [r for r in requests if (r["status"] or 0) >= 500],
                    "last": requests[-3:],
                }
            )
            + "\n"
        )
