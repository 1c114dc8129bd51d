"""`hub train --from NS/NAME@VERSION` against a live hub: the parent is pulled through the CLI's resolver, the
eval set its card declares (`model-index`, written by `--eval-data NS/NAME@V`) is pulled and becomes an old task
of the forgetting table next to `--old-eval`, and the card names the parent by its reference and digest."""

from __future__ import annotations

import json

from click.testing import CliRunner

from hub_client import HubClient
from hub_client.cli.main import main
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl


def _hub(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


def test_from_a_hub_parent_scores_its_declared_eval_set_before_and_after(hub_server, tmp_path, monkeypatch):
    from adapters.card import read_card
    from adapters.evaluation import evaluate
    from adapters.training.teacher import dir_digest

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
    old = write_jsonl(tmp_path / "old.jsonl", copy_task_rows(8))
    old_eval = write_jsonl(tmp_path / "old_eval.jsonl", copy_task_rows(3))
    new = write_jsonl(
        tmp_path / "new.jsonl", [{"prompt": f"flip {w}", "completion": w[::-1]} for w in ("ab", "cd")] * 4
    )
    (tmp_path / "evalset" / "data").mkdir(parents=True)
    write_jsonl(tmp_path / "evalset" / "data" / "validation.jsonl", copy_task_rows(4))
    HubClient().push(tmp_path / "evalset", "alice/copy-eval", "1.0.0", kind="dataset")
    common = ["--base", str(base), "--method", "lora", "--max-steps", "1", "--batch-size", "2", "--no-progress"]
    _hub("train", *common, "--data", str(old), "--out", str(tmp_path / "parent"),
         "--eval-data", "alice/copy-eval@1.0.0:validation")  # fmt: skip
    HubClient().push(tmp_path / "parent", "alice/copy", "1.0.0")

    out = tmp_path / "child"
    shown = _hub("train", *common, "--data", str(new), "--out", str(out), "--from", "alice/copy@1.0.0",
                 "--old-eval", str(old_eval), "--json")  # fmt: skip
    continual = json.loads(shown.strip().splitlines()[-1])["continual"]
    parent_dir = HubClient().pull("alice/copy", "1.0.0")
    assert continual["parent"] == {
        "ref": "alice/copy@1.0.0",
        "method": "lora",
        "base": read_card(parent_dir).hub["base"],
        "digest": dir_digest(parent_dir),
    }
    rows = {r["task"]: r for r in continual["forgetting"]}
    assert set(rows) == {"old_eval", "alice/copy-eval@1.0.0:validation", "new"}
    declared = rows["alice/copy-eval@1.0.0:validation"]
    assert declared["role"] == "old" and declared["data"]["rows"] == 4
    before = evaluate(base, declared["data"]["path"], [parent_dir], batch_size=2, progress=False)
    assert declared["before"] == {"exact_match": before.exact_match, "perplexity": before.perplexity}
    assert read_card(out).hub["continual"] == continual
