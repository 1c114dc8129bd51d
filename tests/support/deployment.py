"""The deployment the server, client and HF suites run against, chosen by
``HUB_TEST_DEPLOYMENT``:

- ``embedded`` (default): one hub process with its data dir (SQLite unless a PostgreSQL URL
  is given, filesystem blobs);
- ``two-hosts``: two hub processes sharing one PostgreSQL database (``HUB_TEST_DATABASE_URL``)
  and one real S3 server (SeaweedFS), keeping nothing on local disk, behind a per-request
  round-robin proxy — so consecutive requests of one push or pull land on different hosts.

Both expose what the tests use: ``.url``, ``.token(user, scope, orgs)``, ``.data_dir``,
``.database_url``, ``.settings``, ``.pids``, ``.admin_env()`` (what an operator's ``hub admin``
in another process needs to reach the same database and blob store), ``.kill()``, ``.restart()``,
``.close()``, ``.log_tail()``. ``shared_buckets()`` gives the settings that make every host count
rate and sign-in buckets together (Redis), as a real several-host deployment must.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from tests.support.hub_process import HubProcess, PostgresDatabase, keep_bytecode
from tests.support.s3_server import CREDENTIALS

ROOT = Path(__file__).resolve().parents[2]


def deployment_kind() -> str:
    kind = os.environ.get("HUB_TEST_DEPLOYMENT", "embedded")
    if kind not in ("embedded", "two-hosts"):
        raise RuntimeError(f"HUB_TEST_DEPLOYMENT={kind!r}: use 'embedded' or 'two-hosts'")
    return kind


def start_hub(
    data_dir: Path, request, database_url: str | None = None, env: dict[str, str] | None = None, workers: int = 1
):
    """A started hub of the selected deployment (``request`` is the pytest fixture request)."""
    if deployment_kind() == "embedded":
        return HubProcess(data_dir, database_url=database_url, env=env, workers=workers).start()
    return TwoHosts(data_dir, request.getfixturevalue("s3_server"), env=env, workers=workers).start()


REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def shared_buckets() -> dict[str, str]:
    """On the two-host deployment: Redis for the rate and sign-in buckets (a fresh key prefix each
    call, so hubs never share counts), else every host would count alone and a limit of N would let
    N per host through. Embedded: nothing (one process counts everything). Skips, naming Redis, when
    the two-host run has no Redis to use."""
    if deployment_kind() == "embedded":
        return {}
    host, _, port = REDIS_URL.split("//", 1)[1].split("/", 1)[0].partition(":")
    try:
        socket.create_connection((host, int(port or 6379)), timeout=1).close()
    except OSError:
        import pytest

        pytest.skip(f"Redis is not running at {REDIS_URL} (HUB_TEST_REDIS_URL): the hosts cannot share buckets")
    return {"HUB_REDIS_URL": REDIS_URL, "HUB_RATE_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}


class RoundRobinProxy:
    """``tests/support/rr_proxy.py`` under uvicorn in a subprocess, on a loopback socket we keep open."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> RoundRobinProxy:
        self.launch()
        return self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting (it may start beside the hosts it will forward to)."""
        env = keep_bytecode(
            {
                **os.environ,
                "RR_BACKENDS": ",".join(self.backends),
                "RR_PARENT_PID": str(os.getpid()),  # the proxy ends itself when this process is gone
                "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            }
        )
        fd = self.sock.fileno()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "tests.support.rr_proxy:create_app",
                "--fd",
                str(fd),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            pass_fds=(fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self) -> RoundRobinProxy:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("round-robin proxy did not start")

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.sock.close()


class TwoHosts:
    """Two stateless hub hosts (PostgreSQL + S3) behind the round-robin proxy."""

    def __init__(self, data_dir: Path, s3, env: dict[str, str] | None = None, workers: int = 1) -> None:
        admin_url = os.environ.get("HUB_TEST_DATABASE_URL")
        if not admin_url:
            raise RuntimeError("HUB_TEST_DEPLOYMENT=two-hosts needs HUB_TEST_DATABASE_URL (PostgreSQL)")
        self.database = PostgresDatabase(admin_url)
        self.s3 = s3
        self.prefix = f"hub-{uuid.uuid4().hex[:10]}"
        self.data_dir = Path(data_dir)  # HUB_DATA of the first host; must stay empty
        # each host its own HUB_DATA, as on two machines: state a host kept on its disk would differ between them
        self.hosts = [
            HubProcess(
                self.data_dir if i == 0 else self.data_dir.with_name(f"{self.data_dir.name}-host{i}"),
                database_url=self.database.url,
                storage_url=s3.storage_url(self.prefix),
                env={**CREDENTIALS, **(env or {})},
                workers=workers,
            )
            for i in range(2)
        ]
        for host in self.hosts[1:]:
            host.log_path = self.hosts[0].log_path  # one log file for both hosts (``log_tail``)
        self.proxy = RoundRobinProxy([h.url for h in self.hosts])
        self.url = self.proxy.url

    @property
    def settings(self):
        return self.hosts[0].settings

    @property
    def database_url(self) -> str:
        return self.database.url

    @property
    def pids(self) -> list[int]:
        return [h.proc.pid for h in self.hosts if h.proc is not None]

    def admin_env(self) -> dict[str, str]:
        return self.hosts[0].admin_env()

    def start(self) -> TwoHosts:
        """Hosts and proxy start side by side (the proxy answers /healthz only once a host does)."""
        for host in self.hosts:
            host.launch()
        self.proxy.launch()
        self.start_hosts()
        self.proxy.wait_ready()
        return self

    def token(self, user: str, scope: str = "write", orgs=()) -> str:
        return self.hosts[0].token(user, scope, orgs)

    def kill(self) -> None:
        """SIGKILL every host, ports released: the whole hub crashes (one host: ``hosts[i].crash()``)."""
        for host in self.hosts:
            host.crash()

    def restart(self) -> TwoHosts:
        for host in self.hosts:
            host.stop()
        return self.start_hosts()

    def start_hosts(self) -> TwoHosts:
        for host in self.hosts:
            if host.proc is None or host.proc.poll() is not None:
                host.launch()
        for host in self.hosts:
            host.wait_healthy()
        return self

    def log_tail(self, chars: int = 3000) -> str:
        return self.hosts[0].log_tail(chars)  # both hosts append to the one file beside the data dir

    def stored_digests(self) -> set[str]:
        """Every blob in this hub's part of the S3 bucket."""
        pages = (
            self.s3.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.s3.bucket, Prefix=f"{self.prefix}/sha256/")
        )
        return {"sha256:" + item["Key"].rsplit("/", 1)[1] for page in pages for item in page.get("Contents", [])}

    def close(self) -> None:
        for host in self.hosts:  # every process is told to stop first, then each is waited for
            if host.proc is not None and host.proc.poll() is None:
                host.proc.terminate()
        self.proxy.close()
        for host in self.hosts:
            host.close()
        self.database.drop()
