"""Verified evaluations end to end: a real hub (port 0) enqueues one job per eval a card declares, on real
Redis and on the embedded queue (kombu's SQLAlchemy transport, no server); two real `hub worker` processes
pull the adapter, its base by pin and the eval set over HTTP and post the score. The verified value equals
`adapters.evaluate` on the same files; kill -9 of the worker holding a job → the other one finishes it; an
over-claiming card is shown with the verified value beside its claim; the leaderboard ranks by verified value."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hub_client import HubClient
from hub_client.cli.main import main
from tests.support.eval_workers import Workers, act_as_client, redis_up, wait_for
from tests.support.hub_process import HubProcess
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl


def _declared(dataset: str, claim: float) -> dict:
    return {
        "model-index": [
            {
                "name": "copy",
                "results": [
                    {
                        "task": {"type": "text-generation"},
                        "dataset": {"type": dataset, "name": "copy words", "revision": "1.0.0", "split": "test"},
                        "metrics": [{"type": "exact_match", "value": claim}],
                    }
                ],
            }
        ]
    }


def _card_with_claim(adapter: Path, base: Path, dataset: str, claim: float) -> Path:
    from adapters.card import read_card, write_card

    pin_adapter(adapter, base)
    card = read_card(adapter)
    write_card(adapter, {**card.front, **_declared(dataset, claim)})
    return adapter


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A tiny base, two LoRAs, and an eval set on which one scores higher than the other (rows are built
    from each adapter's own greedy answers, so the scores differ whatever the random weights)."""
    from adapters.evaluation import evaluate

    root = tmp_path_factory.mktemp("evals")
    base = make_llama_dir(root / "base")
    strong = make_adapter(base, root / "strong", "lora", seed=1)
    weak = make_adapter(base, root / "weak", "lora", seed=2)
    prompts = write_jsonl(root / "prompts.jsonl", copy_task_rows(8))
    said = {
        name: evaluate(base, prompts, [path], progress=False).predictions
        for name, path in (("strong", strong), ("weak", weak))
    }
    rows = [
        {"prompt": r["prompt"], "completion": said["strong" if i < 6 else "weak"][i]}
        for i, r in enumerate(copy_task_rows(8))
    ]
    data = root / "evalset"
    data.mkdir()
    write_jsonl(data / "test.jsonl", rows)
    expected = {
        name: evaluate(base, data / "test.jsonl", [path], progress=False).exact_match
        for name, path in (("strong", strong), ("weak", weak))
    }
    assert expected["strong"] > expected["weak"]
    _card_with_claim(strong, base, "alice/copy-eval", 0.70)
    _card_with_claim(weak, base, "alice/copy-eval", 0.95)  # over-claims
    from adapters.card import read_card

    return {
        "root": root,
        "base": base,
        "strong": strong,
        "weak": weak,
        "data": data,
        "expected": expected,
        "fingerprint": read_card(strong).hub["base"]["fingerprint"],
    }


def _wait(hub: HubProcess, repo: str, workers: Workers, until, timeout: float = 150.0) -> list[dict]:
    return wait_for(hub, repo, workers, until, timeout)


def _drop_queued_messages(queue_file: Path, timeout: float = 30.0) -> int:
    """Delete what the embedded broker holds once something is there: a message the broker lost."""
    import sqlite3
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(queue_file, timeout=30) as db:
                dropped = db.execute("DELETE FROM kombu_message").rowcount
            db.close()
            if dropped:
                return dropped
        except sqlite3.OperationalError:  # the broker has not made its table yet
            pass
        time.sleep(0.1)
    return 0


def hub_cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


@pytest.mark.parametrize("transport", ["redis", "embedded"])
def test_two_workers_verify_a_published_adapter(transport, made, tmp_path, monkeypatch):
    if transport == "redis" and not redis_up():
        pytest.skip("no Redis server at 127.0.0.1:6379")
    queue_url = f"redis://127.0.0.1:6379/{random.randint(8, 11)}" if transport == "redis" else None  # 12-15: webhooks
    env = {
        "HUB_EVAL_LEASE_SECONDS": "3",
        "HUB_EVAL_RESEND_SECONDS": "2",
        **({"HUB_QUEUE_URL": queue_url} if queue_url else {}),
    }
    hub = HubProcess(tmp_path / "hub", env=env).start()
    workers = None
    try:
        alice = hub.token("alice")
        evalbot = hub.token("evalbot", "evaluate")
        act_as_client(monkeypatch, hub.url, alice, tmp_path)
        client = HubClient()
        client.push(made["base"], "alice/tiny-base", "1.0.0", kind="base")
        client.push(made["data"], "alice/copy-eval", "1.0.0", kind="dataset")
        queue = ["--queue-url", queue_url] if queue_url else ["--data", str(hub.data_dir)]
        workers = Workers(hub, evalbot, tmp_path, queue)

        # 1. publish → one queued job. On the embedded queue its message is then lost (deleted from the
        # broker's file): the hub sends it again once unclaimed for HUB_EVAL_RESEND_SECONDS. Then kill -9 of
        # the worker that claims it → the other finishes it.
        client.push(made["strong"], "alice/strong", "1.0.0")
        if transport == "embedded":
            # one message, or two when the hub's first resend (after 2 s) came before this on a busy machine
            assert _drop_queued_messages(hub.data_dir / "queue.sqlite") >= 1
        workers.start("w1")
        workers.start("w2")
        first = _wait(hub, "alice/strong", workers, lambda rows: rows[0]["status"] != "queued")
        assert first[0]["status"] == "running" and first[0]["attempts"] == 1, first
        holder = first[0]["worker"]
        workers.kill(holder)
        done = _wait(hub, "alice/strong", workers, lambda rows: rows[0]["status"] in ("done", "failed"))[0]
        other = "w2" if holder == "w1" else "w1"
        assert done["status"] == "done" and done["worker"] == other and done["attempts"] == 2, done
        assert done["value"] == made["expected"]["strong"]  # the same number `hub evaluate` gives
        assert done["reported"] == 0.70 and done["dataset"] == "alice/copy-eval@1.0.0" and done["split"] == "test"
        assert done["n"] == 8 and done["evaluator"]["transformers"] and done["hardware"]["device"] == "cpu"
        assert done["started"] and done["finished"]
        assert workers.log_has(other, f"job {done['job_id']} done"), workers.logs()  # a worker logs its jobs

        if transport == "embedded":
            return  # the rest is the hub's own logic, the same whatever the broker

        # 2. a second adapter, over-claiming, on the surviving worker
        workers.start(holder)  # back to two workers
        client.push(made["weak"], "alice/weak", "1.0.0")
        weak = _wait(hub, "alice/weak", workers, lambda rows: rows[0]["status"] == "done")[0]
        assert weak["value"] == made["expected"]["weak"] and weak["reported"] == 0.95

        # 3. hub info: verified beside the claim, the over-claim marked
        shown = hub_cli("info", "alice/weak")
        line = next(x for x in shown.splitlines() if "alice/copy-eval@1.0.0" in x)
        assert f"{made['expected']['weak']:.4f} !" in line and "0.9500" in line and "done" in line
        assert "differs from the verified value" in shown
        assert " !" not in next(x for x in hub_cli("info", "alice/strong").splitlines() if "copy-eval" in x)

        # 4. the leaderboard orders by verified value, whatever the claims say
        board = client.leaderboard(made["fingerprint"], "alice/copy-eval")
        assert [(r["repo"], r["value"], r["reported"]) for r in board] == [
            ("alice/strong", made["expected"]["strong"], 0.70),
            ("alice/weak", made["expected"]["weak"], 0.95),
        ]
        table = hub_cli("leaderboard", "--base", made["fingerprint"], "--dataset", "alice/copy-eval@1.0.0")
        assert table.index("alice/strong") < table.index("alice/weak")
        assert (
            json.loads(hub_cli("leaderboard", "--base", made["fingerprint"], "--dataset", "alice/other", "--json"))
            == []
        )

        # 5. the same through unmodified huggingface_hub: results with verified flags, the dataset leaderboard
        seen = _hf(
            hub,
            alice,
            """
            info = api.model_info("alice/weak", expand=["evalResults"])
            board = api.get_dataset_leaderboard("alice/copy-eval", base_model_only=False)
            print(json.dumps({"results": [[e.dataset_id, e.task_id, e.value, e.verify_token] for e in info.eval_results],
                              "board": [[e.rank, e.model_id, e.value, e.verified] for e in board],
                              "roots": len(api.get_dataset_leaderboard("alice/copy-eval"))}))
        """,
        )
        [(dataset, metric, value, token)] = seen["results"]
        assert (dataset, metric, value) == ("alice/copy-eval", "exact_match", made["expected"]["weak"])
        assert _verified_claims(hub, token)["value"] == made["expected"]["weak"]
        assert seen["board"] == [
            [1, "alice/strong", made["expected"]["strong"], True],
            [2, "alice/weak", made["expected"]["weak"], True],
        ]
        assert seen["roots"] == 0  # adapters declare a base model: not on HF's default (root models) board
    finally:
        if workers is not None:
            workers.close()
        hub.close()


def _hf(hub: HubProcess, token: str, body: str) -> dict:
    import textwrap

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "HF_"))}
    env.update({"HF_ENDPOINT": hub.url, "HF_TOKEN": token, "HF_HUB_DISABLE_TELEMETRY": "1"})
    code = "import json\nfrom huggingface_hub import HfApi\napi = HfApi()\n" + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _verified_claims(hub: HubProcess, token: str) -> dict:
    """Check a verifyToken offline with the hub's public key (fetched once), as anyone could."""
    import base64

    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(httpx.get(f"{hub.url}/api/v1/evaluations/key").json()["public_key"].encode())
    header, body, signature = token.split(".")

    def raw(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    key.verify(raw(signature), f"{header}.{body}".encode())  # raises InvalidSignature when forged
    forged = json.loads(raw(body)) | {"value": 1.0}
    forged_body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        key.verify(raw(signature), f"{header}.{forged_body}".encode())
    return json.loads(raw(body))
