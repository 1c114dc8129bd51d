"""`hub serve-model` as a real process against a real hub, driven by the unmodified `openai` and `lorax-client`
packages: answers equal `hub run` with the same adapter (several adapters and methods, concurrently, streamed),
ranges resolve to one version, the LRU evicts, and bad model ids or parameters are one-line 4xx, never 5xx."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
from click.testing import CliRunner

from hub_client import HubClient
from hub_client.cli.main import main
from tests.serving.runtime_fixtures import hub_run_tokens, make_tiny_adapters
from tests.serving.serve_process import ServeProcess
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import make_llama_dir

CLIENTS = Path(os.environ.get("HUB_TEST_CLIENTS_DIR") or Path(sys.prefix) / "clients")  # requirements-clients.lock


def lorax_calls(url: str, calls: list[dict]) -> list[dict]:
    """Answers of the unmodified lorax-client, run in its own process from its own package directory."""
    if not (CLIENTS / "lorax").is_dir():
        pytest.fail(f"lorax-client is not installed in {CLIENTS}: run `make venv` (requirements-clients.lock)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CLIENTS), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "lorax_driver.py"), url],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


NAMES = ["lora-a", "lora-b", "ia3", "prompt", "prefix", "bottleneck"]
NEW = 10


@pytest.fixture(scope="module")
def served(hub_server_module, tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    base, adapters = make_tiny_adapters(root, NAMES)
    other = make_llama_dir(root / "other-base", seed=9)
    stranger = pin_adapter(make_adapter(other, root / "stranger", "lora", seed=3), other)
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
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    with HubClient(hub_server_module.url, token, progress=False) as client:
        for name in NAMES:
            client.push(adapters[name], f"alice/{name}", "1.0.0")
        client.push(adapters["lora-b"], "alice/lora-a", "1.1.0")  # a newer release under a range
        client.push(stranger, "alice/stranger", "1.0.0")
    proc = ServeProcess(base, env, root / "serve.log", "--max-adapters", "4", "--max-batch-size", "8")
    try:
        yield {"url": proc.url, "base": base, "env": env, "proc": proc, "hub": hub_server_module, "root": root}
    finally:
        proc.close()
        mp.undo()


@functools.cache
def hub_run(model: str, prompt: str, chat: bool = False) -> str:
    args = ["run", model, "--prompt", prompt, "--max-new-tokens", str(NEW)]
    if not chat:
        args.append("--no-chat")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout.rstrip("\n")


def base_run(base: Path, prompt: str) -> str:
    """The bare base's greedy text (``hub run``'s loop with no adapter)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(base).decode(hub_run_tokens(base, None, prompt, NEW), skip_special_tokens=True)


def _client(served) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{served['url']}/v1", api_key="unused", max_retries=0)


def test_models_lists_the_base_first(served):
    ids = [m.id for m in _client(served).models.list()]
    health = httpx.get(f"{served['url']}/health").json()
    assert ids[0] == health["base"] and health["fingerprint"].startswith("sha256:")


def test_openai_completions_equal_hub_run_concurrently_and_streamed(served):
    client = _client(served)
    base_id = client.models.list().data[0].id
    jobs = [
        (f"alice/{n}@1.0.0", p)
        for n, p in zip(["lora-a", "lora-b", "ia3", "prompt"], ["say cat", "xyz", "hello", "abc"], strict=False)
    ]
    jobs += [
        (base_id, "say cat"),
        ("alice/lora-a@1.0.0", "the moon"),
        ("alice/ia3@1.0.0", "xyz"),
        ("alice/prompt@1.0.0", "hi there"),
    ]

    def plain(job):
        r = client.completions.create(model=job[0], prompt=job[1], max_tokens=NEW, temperature=0)
        return r.choices[0].text, r.usage.completion_tokens, r.model

    def streamed(job):
        chunks = client.completions.create(model=job[0], prompt=job[1], max_tokens=NEW, temperature=0, stream=True)
        return "".join(c.choices[0].text for c in chunks if c.choices)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(plain, jobs))
        streams = list(pool.map(streamed, jobs))
    for (model, prompt), (text, used, name), stream in zip(jobs, answers, streams, strict=False):
        expected = base_run(served["base"], prompt) if model == base_id else hub_run(model, prompt)
        assert text == expected, (model, prompt)
        assert stream == expected, (model, prompt)
        assert 1 <= used <= NEW and name == model
    assert len({a[0] for a in answers}) >= 6  # the adapters really answer differently
    metrics = httpx.get(f"{served['url']}/metrics").text
    sizes = [line for line in metrics.splitlines() if line.startswith("hub_serving_batch_size_bucket")]
    assert any('le="1.0"' not in s and not s.endswith(" 0.0") for s in sizes)  # some steps had several rows
    assert "hub_serving_time_to_first_token_seconds_count" in metrics


def test_chat_and_lorax_client_equal_hub_run(served):
    expected_chat = hub_run("alice/prefix@1.0.0", "say cat", chat=True)
    chat = _client(served).chat.completions.create(
        model="alice/prefix@1.0.0", messages=[{"role": "user", "content": "say cat"}], max_tokens=NEW, temperature=0
    )
    assert chat.choices[0].message.content == expected_chat
    assert chat.usage.prompt_tokens > 3 and chat.choices[0].finish_reason in ("stop", "length")

    jobs = [("ia3", "the moon"), ("lora-b", "say cat"), ("prefix", "hello")]
    calls = [
        {"op": op, "prompt": p, "adapter_id": f"alice/{n}@1.0.0", "max_new_tokens": NEW}
        for n, p in jobs
        for op in ("generate", "stream")
    ]
    calls.append({"op": "generate", "prompt": "x", "adapter_id": "alice/stranger@1.0.0", "max_new_tokens": 2})
    answers = lorax_calls(served["url"], calls)
    for i, (name, prompt) in enumerate(jobs):
        expected = hub_run(f"alice/{name}@1.0.0", prompt)
        plain, streamed = answers[2 * i], answers[2 * i + 1]
        assert plain["text"] == expected and streamed["text"] == expected and streamed["pieces"] == expected
        assert plain["generated_tokens"] == plain["tokens"] == streamed["events"]
        assert plain["finish_reason"] in ("length", "eos_token")
    assert all(hub_run(f"alice/{n}@1.0.0", p) for n, p in jobs)  # no empty answers to compare
    assert answers[-1]["error"] == "ValidationError" and "was trained on base" in answers[-1]["message"]
    tgi = httpx.post(
        f"{served['url']}/generate",
        json={
            "inputs": "say cat",
            "parameters": {"adapter_id": "alice/lora-b@1.0.0", "adapter_source": "hub", "max_new_tokens": NEW},
        },
    ).json()
    assert tgi["generated_text"] == hub_run("alice/lora-b@1.0.0", "say cat")


def test_range_resolves_to_one_version_and_sampling_parameters_apply(served):
    client = _client(served)
    r = client.completions.create(model="alice/lora-a@^1.0", prompt="say cat", max_tokens=NEW, temperature=0)
    assert r.model == "alice/lora-a@1.1.0"
    assert r.choices[0].text == hub_run("alice/lora-b@1.0.0", "say cat")  # 1.1.0 holds lora-b's weights
    assert "resolved alice/lora-a@^1.0 to alice/lora-a@1.1.0" in served["proc"].log_tail(20000)

    kw = {"model": "alice/lora-a@1.0.0", "prompt": "say cat", "max_tokens": NEW, "temperature": 1.5, "top_p": 0.95}
    one = client.completions.create(seed=7, n=2, **kw)
    again = client.completions.create(seed=7, n=2, **kw)
    assert [c.text for c in one.choices] == [c.text for c in again.choices] and len(one.choices) == 2
    assert one.usage.prompt_tokens == r.usage.prompt_tokens  # each prompt counted once, whatever n
    lp = client.completions.create(model="alice/lora-a@1.0.0", prompt="say", max_tokens=4, temperature=0, logprobs=2)
    assert len(lp.choices[0].logprobs.token_logprobs) == lp.usage.completion_tokens
    assert all(v <= 0 for v in lp.choices[0].logprobs.token_logprobs)
    assert all(len(t) <= 2 for t in lp.choices[0].logprobs.top_logprobs)
    full = hub_run("alice/lora-a@1.0.0", "say cat")
    if len(full) > 3:
        stop = full[2:4]
        cut = client.completions.create(
            model="alice/lora-a@1.0.0", prompt="say cat", max_tokens=NEW, temperature=0, stop=[stop]
        )
        assert cut.choices[0].text == full[: full.find(stop)] and cut.choices[0].finish_reason == "stop"


def test_lru_evicts_and_hub_run_endpoint_asks_the_server(served):
    client = _client(served)
    for name in NAMES:  # six adapters through four slots
        client.completions.create(model=f"alice/{name}@1.0.0", prompt="x", max_tokens=2, temperature=0)
    listed = [m.id for m in client.models.list()][1:]
    assert 1 <= len(listed) <= 4 and "alice/bottleneck@1.0.0" in listed
    metrics = httpx.get(f"{served['url']}/metrics").text
    evictions = [
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("hub_serving_adapter_evictions_total")
    ]
    assert evictions and evictions[0] >= 2
    via = CliRunner().invoke(
        main,
        [
            "run",
            "--endpoint",
            served["url"],
            "alice/ia3@1.0.0",
            "--prompt",
            "the moon",
            "--max-new-tokens",
            str(NEW),
            "--no-chat",
        ],
    )
    assert via.exit_code == 0, via.output
    assert via.stdout.rstrip("\n") == hub_run("alice/ia3@1.0.0", "the moon")
    missing = CliRunner().invoke(main, ["run", "--endpoint", served["url"], "alice/nope@1.0.0", "--prompt", "x"])
    assert missing.exit_code == 1 and "404" in missing.output and "Traceback" not in missing.output


BAD_OPENAI = [
    ({"model": "alice/nope@1.0.0", "prompt": "x"}, 404, "not found"),
    ({"model": "alice/lora-a@9.9.9", "prompt": "x"}, 404, "not found"),
    ({"model": "alice/stranger@1.0.0", "prompt": "x"}, 400, "was trained on base"),
    ({"model": "not a repo id", "prompt": "x"}, 400, "invalid"),
    ({"model": "alice/lora-a@", "prompt": "x"}, 400, "invalid"),
    ({"model": "alice/lora-a@1.0.0", "prompt": "x", "temperature": 5}, 400, "temperature"),
    ({"model": "alice/lora-a@1.0.0", "prompt": "x", "max_tokens": 0}, 400, "max_tokens"),
    ({"model": "alice/lora-a@1.0.0", "prompt": "x", "max_tokens": 10**9}, 400, "max_tokens"),
    ({"model": "alice/lora-a@1.0.0", "prompt": "x", "n": 1000}, 400, "n"),
    ({"model": "alice/lora-a@1.0.0", "prompt": "x", "top_p": 0}, 400, "top_p"),
    ({"model": "alice/lora-a@1.0.0", "prompt": "x", "stop": ["a", "b", "c", "d", "e"]}, 400, "stop"),
    ({"model": "alice/lora-a@1.0.0", "prompt": ""}, 400, "empty"),
    ({"model": "alice/lora-a@1.0.0"}, 400, "prompt"),
    ({"prompt": "x"}, 400, "model"),
    ({"model": ["x"], "prompt": "x"}, 400, "model"),
    ({"model": "alice/lora-a@1.0.0", "prompt": "x" * 5000, "max_tokens": 4}, 400, "context"),
]


@pytest.mark.parametrize("body,status,words", BAD_OPENAI)
def test_bad_model_ids_and_parameters_are_one_line_4xx(served, body, status, words):
    before = httpx.get(f"{served['url']}/health").json()["adapters"]
    r = httpx.post(f"{served['url']}/v1/completions", json=body, timeout=60)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert words in error["message"] and "\n" not in error["message"] and error["type"]
    assert httpx.get(f"{served['url']}/health").json()["adapters"] == before or status != 400


def test_hostile_bodies_never_5xx_and_openai_raises_its_own_errors(served):
    url = served["url"]
    for path in ["/v1/completions", "/v1/chat/completions", "/generate", "/generate_stream", "/"]:
        for raw in [
            b"",
            b"{",
            b"[]",
            b"null",
            b'{"model": 1}',
            json.dumps({"messages": "x"}).encode(),
            json.dumps({"inputs": "", "parameters": {"adapter_id": "x/y"}}).encode(),
            json.dumps({"inputs": "x", "parameters": {"adapter_source": "s3", "adapter_id": "a/b"}}).encode(),
            json.dumps({"inputs": "x", "parameters": {"max_new_tokens": -1}}).encode(),
            b"\xff\xfe",
        ]:
            r = httpx.post(f"{url}{path}", content=raw, headers={"content-type": "application/json"}, timeout=60)
            assert 400 <= r.status_code < 500, (path, raw, r.status_code, r.text)
            body = r.json()
            message = body["error"]["message"] if path.startswith("/v1") else body["error"]
            assert "\n" not in message
    with pytest.raises(openai.NotFoundError) as missing:
        _client(served).chat.completions.create(model="alice/nope@^2", messages=[{"role": "user", "content": "x"}])
    assert missing.value.status_code == 404
    assert httpx.get(f"{url}/health").status_code == 200


def test_require_token_checks_bearer_tokens_against_the_hub(served):
    root = served["root"]
    proc = ServeProcess(served["base"], served["env"], root / "serve-token.log", "--require-token")
    try:
        url = proc.url
        no = httpx.post(f"{url}/v1/completions", json={"model": "x", "prompt": "x"})
        assert no.status_code == 401 and "Bearer" in no.json()["error"]["message"]
        bad = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer hub_not_a_token"})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_token"
        good = openai.OpenAI(base_url=f"{url}/v1", api_key=served["hub"].token("bob", "read"), max_retries=0)
        r = good.completions.create(model="alice/lora-a@1.0.0", prompt="say cat", max_tokens=NEW, temperature=0)
        assert r.choices[0].text == hub_run("alice/lora-a@1.0.0", "say cat")
    finally:
        proc.close()
