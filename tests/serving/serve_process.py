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
        args = [sys.executable, "-m", "hub_client.cli", "serve-model", "--base", str(base), "--port", "0",
                "--log-level", "info", *extra]
        self._log = open(log_path, "ab")
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
