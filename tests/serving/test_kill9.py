"""kill -9 of `hub serve-model` mid-stream loses nothing on the hub side: the server only reads from the hub
(resolve, pull), so repos, versions, files, blobs and download counts are as they were, the hub still answers,
and a restarted server on the same local cache serves the same adapters with the same greedy output."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
from pathlib import Path

import httpx
import openai
import pytest

from hub_client import HubClient
from tests.serving.runtime_fixtures import make_tiny_adapters
from tests.serving.serve_process import ServeProcess

NAMES = ["lora-a", "ia3", "prefix"]
REPOS = [f"alice/{n}" for n in NAMES]
VOLATILE = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal", ".log")  # the database: through the API


def hub_state(hub, token: str) -> dict:
    """Everything the hub holds for these repos, through its API, plus a digest of every stored blob file."""
    with HubClient(hub.url, token, progress=False) as client:
        api = {
            repo: {
                "repo": client.repo(repo),
                "versions": client.versions(repo),
                "detail": client.resolve(repo, "1.0.0"),
            }
            for repo in REPOS
        }
    blobs = {}
    for path in sorted(Path(hub.data_dir).rglob("*")):
        if path.is_file() and not path.name.endswith(VOLATILE):
            blobs[str(path.relative_to(hub.data_dir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"api": api, "blobs": blobs}


def without_downloads(state: dict, repo: str) -> dict:
    """``state`` with ``repo``'s download count left out (a pull cut by the kill may or may not have counted)."""
    api = {
        r: ({**v, "repo": {k: x for k, x in v["repo"].items() if k != "downloads"}} if r == repo else v)
        for r, v in state["api"].items()
    }
    return {**state, "api": api}


@pytest.fixture(scope="module")
def setup(hub_server_module, tmp_path_factory):
    root = tmp_path_factory.mktemp("kill9")
    base, adapters = make_tiny_adapters(root, NAMES)
    token = hub_server_module.token("alice")
    env = {
        "HUB_ENDPOINT": hub_server_module.url,
        "HUB_TOKEN": token,
        "HUB_CONFIG_DIR": str(root / "config"),
        "HUB_CACHE": str(root / "cache"),
        "HUB_BASE_INDEX": str(root / "bases.json"),
        "HUB_FINGERPRINT_CACHE": str(root / "fp.json"),
        "HUB_NO_PROGRESS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    with HubClient(hub_server_module.url, token, progress=False) as client:
        for name in NAMES:
            client.push(adapters[name], f"alice/{name}", "1.0.0")
    return {"root": root, "base": base, "env": env, "hub": hub_server_module, "token": token}


def greedy(client: openai.OpenAI, model: str, prompt: str) -> str:
    return client.completions.create(model=model, prompt=prompt, max_tokens=12, temperature=0).choices[0].text


def test_kill_9_mid_stream_changes_nothing_on_the_hub_and_a_restart_serves_the_same(setup):
    hub, token = setup["hub"], setup["token"]
    proc = ServeProcess(setup["base"], setup["env"], setup["root"] / "serve.log")
    try:
        client = openai.OpenAI(base_url=f"{proc.url}/v1", api_key="unused", max_retries=0)
        warm = {n: greedy(client, f"alice/{n}@1.0.0", "say cat") for n in ("lora-a", "ia3")}
        before = hub_state(hub, token)

        started = threading.Barrier(3)
        outcomes: list[str] = []

        def stream(model: str) -> None:
            pieces = client.completions.create(
                model=model, prompt="the moon", max_tokens=400, temperature=0, stream=True
            )
            try:
                for i, _chunk in enumerate(pieces):
                    if i == 0:
                        started.wait(timeout=120)
                outcomes.append("finished")
            except (openai.APIError, httpx.HTTPError) as exc:  # the connection dies with the server
                outcomes.append(type(exc).__name__)

        threads = [threading.Thread(target=stream, args=(m,)) for m in ("alice/lora-a@1.0.0", "alice/ia3@1.0.0")]
        for t in threads:
            t.start()
        started.wait(timeout=120)  # both streams have sent their first token
        cold = threading.Thread(target=lambda: _ignore(lambda: greedy(client, "alice/prefix@1.0.0", "hi")))
        cold.start()  # a first-use pull of another adapter, racing the kill
        os.kill(proc.proc.pid, signal.SIGKILL)
        proc.proc.wait(timeout=30)
        for t in (*threads, cold):
            t.join(timeout=60)
        assert proc.proc.returncode == -signal.SIGKILL
        assert len(outcomes) == 2 and any(o != "finished" for o in outcomes), outcomes  # cut mid-stream
    finally:
        proc.close()

    after = hub_state(hub, token)
    assert without_downloads(after, "alice/prefix") == without_downloads(before, "alice/prefix")
    assert after["api"]["alice/lora-a"]["repo"]["downloads"] == before["api"]["alice/lora-a"]["repo"]["downloads"]
    assert after["blobs"] and after["blobs"] == before["blobs"]

    again = ServeProcess(setup["base"], setup["env"], setup["root"] / "serve-again.log")
    try:
        client = openai.OpenAI(base_url=f"{again.url}/v1", api_key="unused", max_retries=0)
        assert {n: greedy(client, f"alice/{n}@1.0.0", "say cat") for n in warm} == warm
        assert all(warm.values()) and len(set(warm.values())) == 2
        assert greedy(client, "alice/prefix@1.0.0", "hi")  # the pull the kill cut completes on the restart
    finally:
        again.close()
    assert hub_state(hub, token)["blobs"] == before["blobs"]


def _ignore(fn) -> None:
    with contextlib.suppress(openai.APIError, httpx.HTTPError):  # it dies with the server; the hub is what counts
        fn()
