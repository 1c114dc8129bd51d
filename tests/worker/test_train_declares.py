"""`hub train --eval-data NS/NAME@VERSION[:SPLIT]`: the eval set is pulled from the hub, the adapter is scored on
it as the hub's evaluator will score it, and the card declares that claim in `model-index`, so pushing it
queues the verification. A local JSONL stays a plain held-out file (no declaration)."""

from __future__ import annotations

import httpx
from click.testing import CliRunner

from hub_client import HubClient
from hub_client.cli.main import main
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl


def _hub(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_train_on_a_hub_eval_set_declares_it_and_push_queues_the_check(hub_server, tmp_path, monkeypatch):
    from adapters.card import read_card

    for key, value in {
        "HUB_ENDPOINT": hub_server.url,
        "HUB_TOKEN": hub_server.token("alice"),
        "HUB_CONFIG_DIR": str(tmp_path / "cfg"),
        "HUB_CACHE": str(tmp_path / "cache"),
        "HUB_BASE_INDEX": str(tmp_path / "bases.json"),
        "HUB_FINGERPRINT_CACHE": str(tmp_path / "fp"),
        "HUB_NO_PROGRESS": "1",
        "HF_HUB_OFFLINE": "1",
    }.items():
        monkeypatch.setenv(key, value)
    base = make_llama_dir(tmp_path / "base")
    train = write_jsonl(tmp_path / "train.jsonl", copy_task_rows(8))
    (tmp_path / "evalset" / "data").mkdir(parents=True)
    write_jsonl(tmp_path / "evalset" / "data" / "validation.jsonl", copy_task_rows(4))
    HubClient().push(tmp_path / "evalset", "alice/copy-eval", "1.0.0", kind="dataset")

    out = tmp_path / "lora"
    _hub(
        "train",
        "--base",
        str(base),
        "--method",
        "lora",
        "--data",
        str(train),
        "--out",
        str(out),
        "--max-steps",
        "1",
        "--batch-size",
        "2",
        "--max-length",
        "32",
        "--eval-data",
        "alice/copy-eval@1.0.0:validation",
        "--no-progress",
    )
    [entry] = read_card(out).front["model-index"]
    [result] = entry["results"]
    assert result["dataset"] == {
        "type": "alice/copy-eval",
        "name": "alice/copy-eval",
        "revision": "1.0.0",
        "split": "validation",
    }
    assert result["task"] == {"type": "text-generation"}
    [metric] = result["metrics"]
    assert metric["type"] == "exact_match" and 0.0 <= metric["value"] <= 1.0

    HubClient().push(out, "alice/lora", "1.0.0")
    [row] = httpx.get(f"{hub_server.url}/api/v1/repos/alice/lora/evaluations").json()
    assert (row["dataset"], row["split"], row["metric"], row["reported"], row["status"]) == (
        "alice/copy-eval@1.0.0",
        "validation",
        "exact_match",
        metric["value"],
        "queued",
    )

    refused = CliRunner().invoke(
        main,
        [
            "train",
            "--base",
            str(base),
            "--method",
            "lora",
            "--data",
            str(train),
            "--out",
            str(tmp_path / "x"),
            "--eval-data",
            "alice/copy-eval",
        ],
    )
    assert refused.exit_code == 1 and refused.output.strip() == (
        "error: alice/copy-eval: an eval set on the hub is pinned: NS/NAME@VERSION[:SPLIT]"
    )
    assert not (tmp_path / "x").exists()
