"""The client waits when a hub says 429 with a short Retry-After and tries again (the hub refused
before doing anything, so any request may be repeated); a long wait is shown in one line instead."""

from __future__ import annotations

import time

import pytest

from hub_client import HubClient, RateLimited
from tests.support.hub_process import HubProcess


def _hub(tmp_path, rate: str) -> HubProcess:
    return HubProcess(tmp_path / "data", env={"HUB_RATE_READ": rate}).start()


def test_short_retry_after_is_waited_for_and_every_call_succeeds(tmp_path):
    hub = _hub(tmp_path, "2/second")
    try:
        with HubClient(hub.url, cache_dir=tmp_path / "cache", progress=False) as client:
            started = time.monotonic()
            answers = [client.search("anything") for _ in range(7)]
            elapsed = time.monotonic() - started
        assert all(isinstance(a, (list, dict)) for a in answers)
        assert elapsed >= 1.0  # 7 calls at 2 per second cannot all pass at once: the client waited
    finally:
        hub.close()


def test_a_long_wait_is_one_line_with_the_wait_and_is_not_slept(tmp_path):
    hub = _hub(tmp_path, "2/hour")
    try:
        with HubClient(hub.url, cache_dir=tmp_path / "cache", progress=False) as client:
            client.search("a")
            client.search("b")
            started = time.monotonic()
            with pytest.raises(RateLimited) as caught:
                client.search("c")
            assert time.monotonic() - started < 5
    finally:
        hub.close()
    assert caught.value.retry_after and caught.value.retry_after > 60
    assert "\n" not in str(caught.value) and "429" in str(caught.value)
