"""A worker verifies perplexity declarations end to end, on private repos too: a real hub on the embedded queue
and one real `hub worker` process with an `evaluate` token. One public LoRA and one private LoRA declare
`perplexity` on a public eval set of `{"text"}` rows; the private one also declares it on a private copy of that
set. The worker pulls the private adapter and the private eval set (its running job names them), each verified
value equals `adapters.evaluate` on the same files, and the leaderboard ranks perplexity lowest first, with the
private adapter shown to its owner only."""

from __future__ import annotations

import httpx
import pytest

from hub_client import HubClient
from tests.support.eval_workers import Workers, act_as_client, wait_for
from tests.support.hub_process import HubProcess
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import make_llama_dir, write_jsonl

TEXTS = [{"text": t} for t in ("the cat sat", "a blue moon over the tree", "fish", "red sun, quiet dog", "moon")]


def _declare(adapter, base, datasets: list[str]):
    from adapters.card import read_card, write_card

    pin_adapter(adapter, base)
    card = read_card(adapter)
    results = [
        {
            "task": {"type": "text-generation"},
            "dataset": {"type": name, "name": name, "revision": "1.0.0", "split": "test"},
            "metrics": [{"type": "perplexity", "value": 10.0}],
        }
        for name in datasets
    ]
    write_card(adapter, {**card.front, "model-index": [{"name": adapter.name, "results": results}]})
    return adapter


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    from adapters.card import read_card
    from adapters.evaluation import evaluate

    root = tmp_path_factory.mktemp("ppl-evals")
    base = make_llama_dir(root / "base", seed=7)
    data = root / "text-eval"
    data.mkdir()
    write_jsonl(data / "test.jsonl", TEXTS)
    adapters = {name: make_adapter(base, root / name, "lora", seed=seed) for name, seed in (("open", 11), ("mine", 12))}
    expected = {
        name: evaluate(base, data / "test.jsonl", [path], progress=False).perplexity for name, path in adapters.items()
    }
    _declare(adapters["open"], base, ["alice/text-eval"])
    _declare(adapters["mine"], base, ["alice/text-eval", "alice/secret-text"])
    return {
        "base": base,
        "data": data,
        "adapters": adapters,
        "expected": expected,
        "fingerprint": read_card(adapters["open"]).hub["base"]["fingerprint"],
    }


def test_a_worker_verifies_perplexity_of_public_and_private_adapters(made, tmp_path, monkeypatch):
    hub = HubProcess(tmp_path / "hub", env={"HUB_EVAL_LEASE_SECONDS": "5"}).start()
    workers = None
    try:
        alice = hub.token("alice")
        act_as_client(monkeypatch, hub.url, alice, tmp_path)
        client = HubClient()
        client.push(made["base"], "alice/tiny-base", "1.0.0", kind="base")
        client.push(made["data"], "alice/text-eval", "1.0.0", kind="dataset")
        client.push(made["data"], "alice/secret-text", "1.0.0", kind="dataset", private=True)
        client.push(made["adapters"]["open"], "alice/open-lora", "1.0.0")
        client.push(made["adapters"]["mine"], "alice/my-lora", "1.0.0", private=True)
        workers = Workers(hub, hub.token("evalbot", "evaluate"), tmp_path, ["--data", str(hub.data_dir)])
        workers.start("w1")

        def finished(rows: list[dict]) -> bool:
            return all(r["status"] in ("done", "failed") for r in rows)

        [open_row] = wait_for(hub, "alice/open-lora", workers, finished)
        mine = wait_for(hub, "alice/my-lora", workers, lambda rows: len(rows) == 2 and finished(rows), token=alice)
        assert open_row["status"] == "done", open_row
        assert open_row["value"] == pytest.approx(made["expected"]["open"], rel=1e-6)
        assert open_row["metric"] == "perplexity" and open_row["n"] == len(TEXTS)
        by_set = {r["dataset"]: r for r in mine}
        assert {k: r["status"] for k, r in by_set.items()} == {
            "alice/text-eval@1.0.0": "done",
            "alice/secret-text@1.0.0": "done",
        }, mine
        for row in mine:  # the same rows in both sets: the same number
            assert row["value"] == pytest.approx(made["expected"]["mine"], rel=1e-6)

        # lowest perplexity first; the private adapter for its owner only
        params = {"base": made["fingerprint"], "dataset": "alice/text-eval"}
        owner = httpx.get(f"{hub.url}/api/v1/leaderboard", params=params, headers={"Authorization": f"Bearer {alice}"})
        expected = sorted(
            [("alice/open-lora", made["expected"]["open"]), ("alice/my-lora", made["expected"]["mine"])],
            key=lambda pair: pair[1],
        )
        assert [r["repo"] for r in owner.json()] == [repo for repo, _ in expected]
        assert [r["value"] for r in owner.json()] == pytest.approx([value for _, value in expected], rel=1e-6)
        anonymous = httpx.get(f"{hub.url}/api/v1/leaderboard", params=params).json()
        assert [r["repo"] for r in anonymous] == ["alice/open-lora"]
        assert httpx.get(f"{hub.url}/api/v1/repos/alice/my-lora/evaluations").status_code == 404
        # the worker's token reads neither private repo once its jobs are over
        bot = {"Authorization": f"Bearer {workers.token}"}
        for repo in ("alice/my-lora", "alice/secret-text"):
            r = httpx.get(f"{hub.url}/api/v1/repos/{repo}/resolve", params={"ref": "1.0.0"}, headers=bot)
            assert r.status_code == 404 and r.json()["error"]["message"] == f"repository {repo} not found"
    finally:
        if workers is not None:
            workers.close()
        hub.close()
