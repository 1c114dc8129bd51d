"""Web sign-in used to accept any number of wrong passwords, and every try is an argon2 check
of 64 MiB: 32 concurrent anonymous sign-ins took the server from 101 MiB to 2 GB and others'
reads to 3-12 s. Failures are now limited per account and per address (429 with Retry-After),
and password checks run a few at a time (503 with Retry-After beyond a short wait). On the two-host
deployment the hosts count failures together (Redis) and each host bounds its own checks."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil

from tests.security.accountability_support import hub_on  # noqa: F401  # noqa: F401
from tests.support.deployment import shared_buckets
from tests.web.web_fixtures import Browser


def _sign_in(browser: Browser, name: str, password: str) -> httpx.Response:
    browser.get("/signin")
    return browser.post("/signin", {"name": name, "password": password})


def _start_of_a_fresh_minute(needed: float = 30.0) -> None:
    """The failure buckets count in epoch-aligned one-minute windows, weighing the previous window's count by
    how much of it still overlaps the last minute (``limits``' sliding-window counter). Near a boundary that
    estimate falls below the true count, so a test that counts exactly to the limit waits for a fresh window
    when fewer than ``needed`` seconds are left in this one."""
    left = 60.0 - time.time() % 60.0
    if left < needed:
        time.sleep(left + 0.2)


def test_failed_sign_ins_are_limited_per_account_and_per_address(hub_on):
    hub = hub_on(
        env={
            "HUB_SIGNIN_FAILURES_PER_ACCOUNT": "5/minute",
            "HUB_SIGNIN_FAILURES_PER_ADDRESS": "9/minute",
            **shared_buckets(),
        }
    )
    Browser(hub.url).sign_up("alice", "correct horse battery").close()
    _start_of_a_fresh_minute()
    mallory = Browser(hub.url)
    for _ in range(5):
        assert _sign_in(mallory, "alice", "wrong guess 1234").status_code == 401
    locked = _sign_in(mallory, "alice", "correct horse battery")  # even the right password waits now
    assert locked.status_code == 429
    assert "too many failed sign-ins for this account (limit 5 per 1 minute)" in locked.text
    assert 1 <= int(locked.headers["retry-after"]) <= 60
    assert not any(c.startswith("hub_session=") for c in locked.headers.get_list("set-cookie"))
    for name in ("bob", "carol", "dave", "erin"):  # other accounts: counted against the address
        assert _sign_in(mallory, name, "wrong guess 1234").status_code == 401
    refused = _sign_in(mallory, "frank", "wrong guess 1234")
    assert refused.status_code == 429 and "too many failed sign-ins for this address" in refused.text
    mallory.close()


def _rss(pids: list[int]) -> int:
    """Resident memory of every host process and its children."""
    total = 0
    for pid in pids:
        process = psutil.Process(pid)
        total += sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    return total


def test_concurrent_sign_ins_are_bounded_in_memory(hub_on):
    hub = hub_on(
        env={
            "HUB_MAX_CONCURRENT_PASSWORD_CHECKS": "2",
            "HUB_PASSWORD_CHECK_WAIT_SECONDS": "0.3",
            "HUB_SIGNIN_FAILURES_PER_ADDRESS": "1000/minute",
        }
    )
    browsers = [Browser(hub.url) for _ in range(32)]
    for b in browsers:
        b.get("/signin")
    before, peak, stop = _rss(hub.pids), [0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _rss(hub.pids))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(32) as pool:
        answers = list(
            pool.map(
                lambda ib: ib[1].post("/signin", {"name": f"user{ib[0]}", "password": "x" * 12}), enumerate(browsers)
            )
        )
        began = time.monotonic()
        assert httpx.get(hub.url + "/healthz", timeout=20).status_code == 200
        quiet_read = time.monotonic() - began
    stop.set()
    watcher.join()
    statuses = {r.status_code for r in answers}
    assert statuses <= {401, 503} and 503 in statuses and 401 in statuses, statuses
    busy = next(r for r in answers if r.status_code == 503)
    assert "too many sign-ins are being checked right now" in busy.text and busy.headers["retry-after"] == "2"
    # 2 checks of 64 MiB per host, not 32
    assert peak[0] - before < 400 * 1024 * 1024 * len(hub.pids), (before, peak[0])
    assert quiet_read < 5
    for b in browsers:
        b.close()
