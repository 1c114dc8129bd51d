"""A real uvicorn server with the HF routes on a loopback port 0, and a runner that
executes unmodified ``huggingface_hub``/``peft`` code in a subprocess pointed at it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI, Request

from hub_server.routes.hf_router import install_hf

from hf_local_backend import LocalBackend


@dataclass
class HfHub:
    url: str
    backend: LocalBackend
    requests: list[tuple[str, str]] = field(default_factory=list)
    app: FastAPI | None = None

    def token(self, user: str, scope: str = "write", orgs: tuple[str, ...] = ()) -> str:
        return self.backend.add_token(f"hf_{user}_{scope}_{len(self.backend.tokens)}", user, scope, orgs)

    def gets(self, fragment: str) -> int:
        """How many GET requests hit a path containing ``fragment``."""
        return sum(1 for method, path in self.requests if method == "GET" and fragment in path)


@pytest.fixture
def hf_hub(tmp_path):
    backend = LocalBackend(tmp_path / "store")
    app = FastAPI()
    hub = HfHub(url="", backend=backend, app=app)

    @app.middleware("http")
    async def log_requests(request: Request, call_next):
        hub.requests.append((request.method, request.url.path))
        return await call_next(request)

    install_hf(app, backend)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    hub.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield hub
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def make_runner(url: str, workdir: Path):
    """Run a Python snippet with only HF_ENDPOINT/HF_TOKEN/HF_HOME set; it prints JSON last."""
    hf_home = workdir / "hf_home"

    def run(code: str, *, token: str | None = None, expect_ok: bool = True) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_", "HUB_"))}
        env.update(HF_ENDPOINT=url, HF_HOME=str(hf_home), HF_HUB_DISABLE_TELEMETRY="1")
        env["TRANSFORMERS_VERBOSITY"] = "error"
        if token:
            env["HF_TOKEN"] = token
        script = workdir / "snippet.py"
        script.write_text("import json, sys\n" + textwrap.dedent(code))
        done = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300, cwd=workdir
        )
        if expect_ok and done.returncode != 0:
            raise AssertionError(f"snippet failed:\n{done.stdout}\n{done.stderr[-4000:]}")
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        result = json.loads(lines[-1]) if lines else {}
        result["_returncode"] = done.returncode
        result["_stderr"] = done.stderr
        return result

    return run


@pytest.fixture
def run_hf(hf_hub, tmp_path):
    return make_runner(hf_hub.url, tmp_path)


def publish_dir(hub: HfHub, user: str, repo_id: str, directory: Path, version: str, *, private: bool = False,
                kind: str = "adapter") -> str:
    """Put a directory on the hub as one version (the way a native push stores it)."""
    backend = hub.backend
    who = backend.tokens[hub.token(user)]
    ns, name = repo_id.split("/")
    if repo_id not in backend.repos:
        backend.create_repo(who, ns, name, kind=kind, private=private)
    files = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        with path.open("rb") as fh:
            stored = backend.put_blob(who, fh)
        files.append(type(stored)(path=path.relative_to(directory).as_posix(), size=stored.size, digest=stored.digest))
    return backend.publish(who, backend.repos[repo_id], version, files, "").commit
