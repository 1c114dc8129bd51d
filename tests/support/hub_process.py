"""A real hub server in a subprocess (uvicorn on a loopback socket the parent keeps
open, so ``kill()`` is a true SIGKILL and ``restart()`` comes back on the same URL),
plus throwaway PostgreSQL databases for running the suite on PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from hub_server.admin import create_user_token
from hub_server.settings import Settings


class HubProcess:
    def __init__(
        self,
        data_dir: Path,
        database_url: str | None = None,
        storage_url: str | None = None,
        env: dict[str, str] | None = None,
        workers: int = 1,
    ) -> None:
        self.workers = workers
        self.data_dir = Path(data_dir)
        self.database_url = database_url
        self.storage_url = storage_url
        self.extra_env = env or {}
        self.sock = self._listen(0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.proc: subprocess.Popen | None = None
        # stderr goes to a file, never an undrained pipe: a server that logs more than a pipe holds
        # would block on its next log line and look hung
        self.log_path = self.data_dir.with_name(self.data_dir.name + ".server.log")

    @staticmethod
    def _listen(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        return sock

    @property
    def settings(self) -> Settings:
        return Settings(data=self.data_dir, database_url=self.database_url, storage_url=self.storage_url)

    @property
    def pids(self) -> list[int]:
        return [self.proc.pid] if self.proc is not None else []

    def admin_env(self) -> dict[str, str]:
        """The environment of ``hub admin ...`` run by an operator beside this hub: the same data
        dir, database and blob store (with the store's credentials)."""
        env = {
            "HUB_DATA": str(self.data_dir),
            "HUB_DATABASE_URL": self.database_url or "",
            "HUB_STORAGE_URL": self.storage_url or "",
        }
        return {**env, **{k: v for k, v in self.extra_env.items() if k.startswith("AWS_")}}

    def start(self) -> HubProcess:
        self.launch()
        self.wait_healthy()
        return self

    def launch(self) -> None:
        """Start the process without waiting (start several, then ``wait_healthy`` each)."""
        if self.sock.fileno() == -1:  # released by crash(): listen on the same port again
            self.sock = self._listen(int(self.url.rsplit(":", 1)[1]))
        env = keep_bytecode({k: v for k, v in os.environ.items() if not k.startswith("HUB_")})
        # the JSON access log is off unless a test asks for it (it would only fill the log file)
        # download counts are flushed often so tests see them soon
        # and every reported pull counts (the once-per-caller window has its own test)
        env.update(
            {
                "HUB_DATA": str(self.data_dir),
                "HUB_ACCESS_LOG": "off",
                "HUB_DOWNLOAD_FLUSH_SECONDS": "0.2",
                "HUB_DOWNLOAD_COUNT_WINDOW_SECONDS": "0",
                **self.extra_env,
            }
        )
        if self.database_url:
            env["HUB_DATABASE_URL"] = self.database_url
        if self.storage_url:
            env["HUB_STORAGE_URL"] = self.storage_url
        fd = self.sock.fileno()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "hub_server.app:create_app",
                    "--fd",
                    str(fd),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                    "--workers",
                    str(self.workers),
                ],
                env=env,
                pass_fds=(fd,),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub server exited: {self.log_tail()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hub server did not become healthy: {self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of what the server wrote to stderr (across restarts), for failure messages."""
        try:
            return self.log_path.read_bytes()[-chars:].decode(errors="replace")
        except FileNotFoundError:
            return ""

    def token(self, user: str, scope: str = "write", orgs=()) -> str:
        return create_user_token(self.settings, user, scope, tuple(orgs or ()))

    def kill(self) -> None:
        """SIGKILL: no cleanup, like a crash."""
        if self.proc and self.proc.poll() is None:
            for child in _children(self.proc.pid):
                child.kill()
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def crash(self) -> None:
        """SIGKILL and release the port too, so connections are refused as with a dead machine
        (after ``kill()`` the kernel still queues them on the socket this parent keeps open)."""
        self.kill()
        self.sock.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> HubProcess:
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        self.sock.close()


def keep_bytecode(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a server subprocess that may keep its compiled bytecode: with
    ``PYTHONDONTWRITEBYTECODE`` set (some CI images set it) every hub start would compile every
    module of the project again; the bytecode goes to one cache dir outside the source tree."""
    if not env.get("PYTHONDONTWRITEBYTECODE"):
        return env
    out = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "adapter-hub-test-pycache"))
    return out


def _children(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


class PostgresDatabase:
    """A fresh database on the server named by ``HUB_TEST_DATABASE_URL``, dropped afterwards."""

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self.admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://")
        self.name = f"hub_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        base, _, _ = self.admin_url.rpartition("/")
        self.url = f"{base}/{self.name}".replace("postgresql://", "postgresql+psycopg://", 1)

    def drop(self) -> None:
        with self._psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def postgres_or_skip() -> PostgresDatabase:
    import pytest

    url = os.environ.get("HUB_TEST_DATABASE_URL")
    if not url:
        pytest.skip("HUB_TEST_DATABASE_URL is not set")
    return PostgresDatabase(url)
