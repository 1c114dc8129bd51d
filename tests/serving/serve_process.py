"""``hub serve-model`` as a real subprocess on a free port (``--port 0``; the port is read from its first line)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx


class ServeProcess:
    def __init__(self, base: Path | str, env: dict, log_path: Path, *extra: str):
        self.log_path = log_path
        args = [
            sys.executable,
            "-m",
            "hub_client.cli",
            "serve-model",
            "--base",
            str(base),
            "--port",
            "0",
            "--log-level",
            "info",
            *extra,
        ]
        self._log = open(log_path, "ab")  # noqa: SIM115 - held for the process's life
        self.proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=self._log)
        self.url = self._wait_url()

    def _wait_url(self, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"serving .* on (http://\S+)", self.log_path.read_text(errors="replace"))
            if found:
                url = found.group(1)
                try:
                    if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                        return url
                except httpx.HTTPError:
                    pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve-model exited: {self.log_tail()}")
            time.sleep(0.2)
        raise RuntimeError(f"serve-model did not start: {self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/body; proxy_temp_path {root}/proxy; fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
    upstream replicas {{
        hash $http_x_adapter_id consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_read_timeout 600s;
        }}
    }}
}}
"""


class NginxProxy:
    """nginx routing by the ``X-Adapter-Id`` header over a consistent hash of the replicas (cache affinity)."""

    def __init__(self, root: Path, replicas: list[str]):
        root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        servers = "\n".join(f"        server {u.removeprefix('http://')};" for u in replicas)
        conf = root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=root, servers=servers, port=port))
        self.proc = subprocess.Popen(
            ["nginx", "-c", str(conf), "-p", str(root)],
            stdout=subprocess.DEVNULL,
            stderr=open(root / "nginx-stderr.log", "ab"),  # noqa: SIM115 - held for nginx's life
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/health", timeout=2)
                return
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    raise RuntimeError((root / "nginx-stderr.log").read_text()) from None
                time.sleep(0.1)
        raise RuntimeError("nginx did not start")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
