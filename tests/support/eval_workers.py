"""Real ``hub worker`` processes for the worker suite: started with their own caches and the hub's URL and
an ``evaluate`` token, killed with SIGKILL on demand, their logs shown when a wait times out."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def act_as_client(monkeypatch, url: str, token: str, root: Path) -> None:
    """This test process acts as a user's shell against the hub at ``url``: its own config and cache."""
    for key, value in {
        "HUB_ENDPOINT": url,
        "HUB_TOKEN": token,
        "HUB_CONFIG_DIR": str(root / "cfg"),
        "HUB_CACHE": str(root / "cache"),
        "HUB_NO_PROGRESS": "1",
    }.items():
        monkeypatch.setenv(key, value)


class Workers:
    def __init__(self, hub, token: str, root: Path, queue: list[str]) -> None:
        self.hub, self.token, self.root, self.queue = hub, token, root, queue
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        home = self.root / name
        env.update(
            {
                "HUB_ENDPOINT": self.hub.url,
                "HUB_TOKEN": self.token,
                "HUB_CACHE": str(home / "cache"),
                "HUB_BASE_INDEX": str(home / "bases.json"),
                "HUB_FINGERPRINT_CACHE": str(home / "fp.json"),
                "HUB_BASE_CACHE": str(home / "no-default-base"),
                "HUB_CONFIG_DIR": str(home / "config"),
                "HUB_NO_PROGRESS": "1",
                "HF_HUB_OFFLINE": "1",
            }
        )
        with open(self.root / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "hub_client.cli", "worker", "--name", name, *self.queue],
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def log_has(self, name: str, text: str, seconds: float = 30.0) -> bool:
        """Whether worker ``name``'s log shows ``text`` within ``seconds``: a worker writes its line after it
        has reported to the hub, so the hub may show a result a moment before the log does."""
        deadline = time.monotonic() + seconds
        while True:
            if text in (self.root / f"{name}.log").read_text():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in self.root.glob("*.log"))

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def evaluation_rows(hub, repo: str, token: str | None = None) -> list[dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.get(f"{hub.url}/api/v1/repos/{repo}/evaluations", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_for(
    hub, repo: str, workers: Workers, until: Callable[[list[dict]], bool], timeout: float = 150.0, token=None
) -> list[dict]:
    """The repo's evaluation rows once ``until(rows)`` holds; the rows, worker logs and hub log if never."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = evaluation_rows(hub, repo, token)
        if rows and until(rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"{repo}: {evaluation_rows(hub, repo, token)}\n{workers.logs()}\n{hub.log_tail()}")
