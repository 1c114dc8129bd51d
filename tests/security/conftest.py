"""Fixtures of the limits suite: a server with small limits and httpx clients per caller."""

from __future__ import annotations

import httpx
import pytest

from tests.security.hub_probe import SMALL_LIMITS, start
from tests.support.hub_process import HubProcess


@pytest.fixture(scope="module")
def small_hub(tmp_path_factory):
    """One server with small body/file/depth limits (rates left at their defaults)."""
    hub = start(tmp_path_factory, **SMALL_LIMITS)
    yield hub
    hub.close()


@pytest.fixture
def client_for():
    clients = []

    def make(hub: HubProcess, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        clients.append(httpx.Client(base_url=hub.url, headers=headers, timeout=30))
        return clients[-1]

    yield make
    for c in clients:
        c.close()
