"""`hub admin create-token` and `hub serve` as a user runs them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from hub_client.cli.main import main


def _create_token(tmp_path) -> str:
    runner = CliRunner()
    result = runner.invoke(
        main, ["admin", "create-token", "carol", "--scope", "admin", "--org", "lab", "--data", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("hub_") and "\n" not in token
    bad = runner.invoke(main, ["admin", "create-token", "no/slash", "--data", str(tmp_path)])
    assert bad.exit_code == 1 and bad.stderr.startswith("error:") and "Traceback" not in bad.output
    return token


def test_create_token_prints_only_a_token(tmp_path):
    assert _create_token(tmp_path)


def test_serve_with_two_workers(tmp_path):
    token = _create_token(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hub = Path(sys.executable).with_name("hub")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    proc = subprocess.Popen(
        [str(hub), "serve", "--data", str(tmp_path), "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        me = httpx.get(url + "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}).json()
        assert me == {"user": "carol", "orgs": ["lab"], "scope": "admin"}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
