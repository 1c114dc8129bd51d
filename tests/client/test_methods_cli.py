"""`hub methods`: every installed method with its tasks, options, default learning rate and whether it
can be merged, as a listing for people and as JSON for scripts."""

from __future__ import annotations

import json

from click.testing import CliRunner

from hub_client.cli.main import main

BUILT_IN = {
    "lora": True,
    "ia3": True,
    "prompt_tuning": False,
    "prefix_tuning": False,
    "p_tuning": False,
    "bottleneck": False,
}


def test_methods_json_lists_every_built_in_with_its_merge_flag():
    result = CliRunner().invoke(main, ["methods", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert {name: rows[name]["mergeable"] for name in BUILT_IN} == BUILT_IN
    for name in BUILT_IN:
        assert set(rows[name]["tasks"]) == {"causal-lm", "seq-cls"}, name
        assert rows[name]["default_lr"] > 0
    assert rows["prompt_tuning"]["default_lr"] > rows["lora"]["default_lr"]  # soft prompts need bigger steps
    assert {"r", "lora_alpha", "target_modules", "use_dora", "use_rslora"} <= {
        o["name"] for o in rows["lora"]["options"]
    }
    assert "reduction_factor" in {o["name"] for o in rows["bottleneck"]["options"]}


def test_methods_listing_for_people():
    result = CliRunner().invoke(main, ["methods"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name, mergeable in BUILT_IN.items():
        header = next(line for line in lines if line.startswith(name + "  ["))
        assert ("; mergeable;" in header) == mergeable, header
    assert any(line.strip().startswith("--num-virtual-tokens (int, default 16)") for line in lines)
