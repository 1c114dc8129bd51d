"""The adapter page's "Serve it" snippet, copied from the real hub page and run: its `openai` call, through bash
and `python -`, answers from a real `hub serve-model` with what `hub run` generates for that adapter."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys

import httpx

from hub_client import HubClient
from tests.serving.runtime_fixtures import hub_run_tokens, make_tiny_adapters
from tests.serving.serve_process import ServeProcess


def test_copied_serve_snippet_answers_from_a_running_server(hub_server_module, tmp_path):
    base, adapters = make_tiny_adapters(tmp_path, ["lora-a"])
    token = hub_server_module.token("alice")
    env = {
        "HUB_ENDPOINT": hub_server_module.url,
        "HUB_TOKEN": token,
        "HUB_CONFIG_DIR": str(tmp_path / "config"),
        "HUB_CACHE": str(tmp_path / "cache"),
        "HUB_BASE_INDEX": str(tmp_path / "bases.json"),
        "HUB_FINGERPRINT_CACHE": str(tmp_path / "fp.json"),
        "HUB_NO_PROGRESS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    with HubClient(hub_server_module.url, token, progress=False) as client:
        client.push(adapters["lora-a"], "alice/snippet-lora", "1.0.0")
    page = httpx.get(f"{hub_server_module.url}/alice/snippet-lora", timeout=30)
    assert page.status_code == 200
    found = re.search(r'<code id="code-serve">(.*?)</code>', page.text, re.DOTALL)
    assert found, "no Serve it snippet on the adapter page"
    lines = html.unescape(found.group(1)).split("\n")
    assert lines[1].startswith("hub serve-model --base ") and lines[1].endswith(" --port 8080 &")
    assert "model='alice/snippet-lora@1.0.0'" in "\n".join(lines)

    # the server line is run by the test (the tiny base's directory instead of the card's base id, a free
    # port instead of 8080); the rest is the copied text, run as bash runs it
    proc = ServeProcess(base, env, tmp_path / "serve.log")
    try:
        script = "\n".join([lines[0], *lines[3:]]).replace("127.0.0.1:8080", proc.url.removeprefix("http://"))
        out = subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])},
        )
    finally:
        proc.close()
    assert out.returncode == 0, out.stderr[-3000:]
    from transformers import AutoTokenizer

    expected = AutoTokenizer.from_pretrained(base).decode(
        hub_run_tokens(base, adapters["lora-a"], "Hello", 32), skip_special_tokens=True
    )
    assert expected and out.stdout == expected + "\n"
