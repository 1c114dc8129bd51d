"""Fixtures for the site's tests: a real hub (uvicorn subprocess) per module and database,
a signed-in ``requests``-like client per user, Debian's Chromium driven by Playwright, and a
screenshot folder. Browser tests skip with one reason when ``/usr/bin/chromium`` is missing,
and the run ends with how many were skipped and how to enable them."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.hub_process import HubProcess, postgres_or_skip

CHROMIUM = Path(os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_CHROMIUM = f"browser test: Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
SHOTS = Path(tempfile.gettempdir()) / "adapter-hub-web-screenshots" / time.strftime("%Y%m%d-%H%M%S")
_state = {"browser_skipped": 0, "shots": 0}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def web_hub(request, tmp_path_factory):
    """One real hub per module and database, sign-up open."""
    db = postgres_or_skip() if request.param == "postgresql" else None
    hub = HubProcess(tmp_path_factory.mktemp("web-hub"), database_url=db.url if db else None).start()
    yield hub
    hub.close()
    if db:
        db.drop()


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium through Playwright (its own browser download is not used)."""
    if not CHROMIUM.exists():
        pytest.skip(MISSING_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def shot():
    """``shot(page, name)`` saves a full-page screenshot in the printed folder."""

    def save(page, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        _state["shots"] += 1
        return path

    return save


def pytest_runtest_logreport(report):
    if (
        report.skipped
        and isinstance(report.longrepr, tuple)
        and "browser test:" in str(report.longrepr[2])
        and report.when == "setup"
    ):
        _state["browser_skipped"] += 1


def pytest_terminal_summary(terminalreporter):
    if _state["browser_skipped"]:
        terminalreporter.write_line(
            f"{_state['browser_skipped']} browser test(s) skipped: no Chromium at {CHROMIUM}; "
            "enable them with: apt-get install -y chromium",
            yellow=True,
        )
    if _state["shots"]:
        terminalreporter.write_line(f"web page screenshots: {SHOTS}")
