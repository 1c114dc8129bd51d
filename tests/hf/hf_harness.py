"""Helpers for the HF protocol tests: run unmodified ``huggingface_hub``/``peft`` code in a
subprocess pointed at a hub (they read ``HF_ENDPOINT`` at import), and put directories on the
hub with the native client, the way ``hub push`` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path


def make_runner(url: str, workdir: Path):
    """``run(code, token=None)``: the snippet prints JSON last; its dict comes back."""
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
            [sys.executable, str(script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=workdir,
            check=False,
        )
        if expect_ok and done.returncode != 0:
            raise AssertionError(f"snippet failed:\n{done.stdout}\n{done.stderr[-4000:]}")
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        result = json.loads(lines[-1]) if lines else {}
        result["_returncode"] = done.returncode
        result["_stderr"] = done.stderr
        return result

    return run


def client(hub, token: str):
    from hub_client import HubClient

    return HubClient(endpoint=hub.url, token=token)


def push_dir(
    hub, token: str, repo_id: str, directory: Path, version: str, *, private: bool = False, kind: str | None = None
) -> str:
    """``hub push`` of a directory; returns the version's commit id."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unpinned test adapters
        client(hub, token).push(directory, repo_id, version, private=private, kind=kind)
    return client(hub, token).resolve(repo_id, version)["commit"]


def downloads(hub, token: str, repo_id: str) -> int:
    """The repo's count once the server's background flush (every 0.2 s in tests) has run."""
    time.sleep(0.6)
    return client(hub, token).repo(repo_id)["downloads"]


def versions(hub, token: str, repo_id: str) -> list[str]:
    return [v["version"] for v in client(hub, token).versions(repo_id)]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def safetensors_bytes(values: int = 2) -> bytes:
    """A valid safetensors file with one F32 tensor (the hub validates every header)."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [values], "data_offsets": [0, 4 * values]}}).encode()
    header += b" " * (-len(header) % 8)
    return len(header).to_bytes(8, "little") + header + bytes(4 * values)
