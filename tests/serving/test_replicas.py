"""Two `hub serve-model` replicas behind nginx hashing the `X-Adapter-Id` header (consistent hash): each adapter
is pulled and held by one replica only, repeated requests keep landing there, and answers equal `hub run`."""

from __future__ import annotations

import shutil

import httpx
import openai
import pytest
from click.testing import CliRunner

from hub_client import HubClient
from hub_client.cli.main import main
from tests.serving.runtime_fixtures import make_tiny_adapters
from tests.serving.serve_process import NginxProxy, ServeProcess

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
NAMES = ["lora-a", "lora-b", "ia3", "prompt", "prefix", "dora"]


def test_two_replicas_behind_a_consistent_hash_on_the_adapter(hub_server, tmp_path, monkeypatch):
    base, adapters = make_tiny_adapters(tmp_path, NAMES)
    token = hub_server.token("alice")
    env = {
        "HUB_ENDPOINT": hub_server.url,
        "HUB_TOKEN": token,
        "HUB_CONFIG_DIR": str(tmp_path / "config"),
        "HUB_CACHE": str(tmp_path / "cache"),
        "HUB_BASE_INDEX": str(tmp_path / "bases.json"),
        "HUB_FINGERPRINT_CACHE": str(tmp_path / "fp.json"),
        "HUB_NO_PROGRESS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with HubClient(hub_server.url, token, progress=False) as client:
        for name in NAMES:
            client.push(adapters[name], f"alice/{name}", "1.0.0")
    replicas = [ServeProcess(base, env, tmp_path / f"replica{i}.log") for i in range(2)]
    proxy = None
    try:
        proxy = NginxProxy(tmp_path / "nginx", [r.url for r in replicas])
        client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="unused", max_retries=0)
        answers = {}
        for _ in range(2):
            for name in NAMES:
                model = f"alice/{name}@1.0.0"
                r = client.completions.create(
                    model=model, prompt="hello", max_tokens=8, temperature=0, extra_headers={"X-Adapter-Id": model}
                )
                answers[name] = r.choices[0].text
        held = [set(httpx.get(f"{r.url}/health").json()["adapters"]) for r in replicas]
        assert held[0] and held[1], held  # both replicas serve some adapters
        assert not held[0] & held[1], held  # none is pulled twice
        assert held[0] | held[1] == {f"alice/{n}@1.0.0" for n in NAMES}
        for name in NAMES[:3]:
            run = CliRunner().invoke(
                main, ["run", f"alice/{name}@1.0.0", "--prompt", "hello", "--no-chat", "--max-new-tokens", "8"]
            )
            assert run.exit_code == 0, run.output
            assert answers[name] == run.stdout.rstrip("\n")
    finally:
        if proxy is not None:
            proxy.close()
        for r in replicas:
            r.close()
