"""Provenance records written by the tools: `hub train` on the real SmolLM2 base (data hash and row count,
method and every option, seed, objective, steps, library versions, metrics; different data -> different
record) and `hub combine` of hub references (parents as ns/name@version + commit id + weight); the hub
indexes both and `hub info --provenance` prints them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from adapters.card import read_card
from hub_client import HubClient
from hub_client.cli import main
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import make_llama_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sentiment"


def _hub(args: list[str], env: dict):
    result = CliRunner().invoke(main, args, env={"HUB_NO_PROGRESS": "1", **env}, catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result


@pytest.mark.slow
def test_hub_train_writes_provenance_that_follows_the_data(tmp_path, hub_server):
    from adapters.base.default import ensure_default_base
    from adapters.base.fingerprint import fingerprint

    base = ensure_default_base()
    rows = (EXAMPLE / "train.jsonl").read_text().splitlines()
    records = {}
    for label, chosen in (("a", rows[:10]), ("b", rows[10:22])):
        data = tmp_path / f"{label}.jsonl"
        data.write_text("\n".join(chosen) + "\n")
        out = tmp_path / f"lora-{label}"
        _hub(
            [
                "train",
                "--base",
                str(base),
                "--method",
                "lora",
                "--data",
                str(data),
                "--out",
                str(out),
                "--max-steps",
                "1",
                "--batch-size",
                "2",
                "--max-length",
                "96",
                "--seed",
                "3",
                "--rank",
                "4",
                "--no-progress",
            ],
            {},
        )
        records[label] = read_card(out).front["adapter_hub"]["provenance"]

    a, b = records["a"], records["b"]
    assert a["tool"] == "hub train" and a["method"] == "lora"
    assert a["base"]["fingerprint"] == fingerprint(base) and a["base"]["id"]
    assert a["data"]["rows"] == 10 and b["data"]["rows"] == 12
    assert a["data"]["sha256"].startswith("sha256:") and a["data"]["sha256"] != b["data"]["sha256"]
    assert a["options"]["r"] == 4 and {"lora_alpha", "lora_dropout", "target_modules"} <= set(a["options"])
    assert (a["seed"], a["objective"], a["steps"], a["max_steps"], a["batch_size"]) == (3, "causal-lm", 1, 1, 2)
    assert {"adapter_hub", "torch", "transformers", "peft"} <= set(a["versions"])
    assert {"train_loss", "eval_loss", "perplexity"} <= set(a["metrics"])
    assert a["metrics"] != b["metrics"]

    env = {
        "HUB_ENDPOINT": hub_server.url,
        "HUB_TOKEN": hub_server.token("alice"),
        "HUB_CACHE": str(tmp_path / "cache"),
        "HUB_CONFIG_DIR": str(tmp_path / "config"),
    }
    _hub(["push", str(tmp_path / "lora-a"), "alice/prov", "--version", "1.0.0"], env)
    indexed = httpx.get(f"{hub_server.url}/api/v1/repos/alice/prov").json()["metadata"]["provenance"]
    assert indexed["data"] == a["data"] and indexed["seed"] == 3
    shown = _hub(["info", "alice/prov", "--provenance"], env).stdout
    for text in (
        a["data"]["sha256"],
        "10 rows",
        "made by",
        "hub train",
        "seed",
        "objective",
        "causal-lm",
        "transformers=",
        "perplexity=",
    ):
        assert text in shown, shown


def test_hub_combine_records_parents_with_commit_ids(tmp_path, hub_server):
    base = make_llama_dir(tmp_path / "base")
    env = {
        "HUB_ENDPOINT": hub_server.url,
        "HUB_TOKEN": hub_server.token("alice"),
        "HUB_CACHE": str(tmp_path / "cache"),
        "HUB_CONFIG_DIR": str(tmp_path / "config"),
    }
    commits = {}
    with HubClient(hub_server.url, env["HUB_TOKEN"], cache_dir=tmp_path / "push-cache", progress=False) as client:
        for i, version in ((0, "1.0.0"), (1, "1.2.0")):
            lora = pin_adapter(make_adapter(base, tmp_path / f"lora{i}", "lora", seed=i), base)
            commits[i] = client.push(lora, f"alice/part{i}", version).commit
    local = pin_adapter(make_adapter(base, tmp_path / "local", "lora", seed=5), base)

    out = tmp_path / "child"
    _hub(
        [
            "combine",
            "alice/part0@1.0.0",
            "alice/part1@^1.0",
            str(local),
            "--base",
            str(base),
            "--out",
            str(out),
            "--weights",
            "0.5,0.3,0.2",
            "--no-progress",
        ],
        env,
    )
    hub = read_card(out).front["adapter_hub"]
    parents = hub["provenance"]["parents"]
    assert parents[:2] == [
        {"id": "alice/part0", "version": "1.0.0", "commit": commits[0], "weight": 0.5},
        {"id": "alice/part1", "version": "1.2.0", "commit": commits[1], "weight": 0.3},
    ]
    from hub_client.manifest import build_manifest, commit_id

    assert parents[2]["commit"] == commit_id(build_manifest(local)) and parents[2]["weight"] == 0.2
    assert [p["commit"] for p in hub["lineage"]] == [p["commit"] for p in parents]
    assert hub["provenance"]["tool"] == "hub combine" and hub["provenance"]["how"] == "linear"

    _hub(["push", str(out), "alice/child", "--version", "0.1.0"], env)
    shown = _hub(["info", "alice/child", "--provenance"], env).stdout
    assert f"parent alice/part0@1.0.0  commit {commits[0]}  weight 0.5" in shown
    assert f"parent alice/part1@1.2.0  commit {commits[1]}  weight 0.3" in shown
    meta = json.loads(json.dumps(httpx.get(f"{hub_server.url}/api/v1/repos/alice/child").json()["metadata"]))
    assert [p["id"] for p in meta["provenance"]["parents"]][:2] == ["alice/part0", "alice/part1"]
