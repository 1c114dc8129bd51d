"""`hub find`, `hub compose` and the multi-task `hub evaluate` against a real hub (uvicorn on port 0)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hub_client.cli.main import main
from tests.compose.tiny_library import FEW, split_task_rows, task_rows
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import make_llama_dir, write_jsonl


@pytest.fixture
def hub(hub_server, library, tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_ENDPOINT", hub_server.url)
    monkeypatch.setenv("HUB_TOKEN", hub_server.token("alice"))
    monkeypatch.setenv("HUB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HUB_BASE_INDEX", str(tmp_path / "bases.json"))
    monkeypatch.setenv("HUB_FINGERPRINT_CACHE", str(tmp_path / "fp.json"))
    monkeypatch.setenv("HUB_NO_PROGRESS", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    base, adapters = library
    for task, path in adapters.items():
        run("push", str(path), f"alice/say-{task}", "--version", "1.0.0")
    other = make_llama_dir(tmp_path / "other-base", seed=7)
    stranger = pin_adapter(make_adapter(other, tmp_path / "stranger", "lora", seed=3), other)
    run("push", str(stranger), "alice/say-stranger", "--version", "1.0.0")
    return base, adapters, tmp_path


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


def fails(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 1, (args, result.output)
    assert "Traceback" not in result.output
    return result.output


def test_find_ranks_the_matching_adapter_first_and_lists_the_stranger_as_skipped(hub):
    base, _, root = hub
    few = write_jsonl(root / "few.jsonl", task_rows("shout", FEW, repeat=1))
    found = json.loads(
        run("find", "--base", str(base), "--examples", str(few), "--query", "say", "--json", "--no-progress")
    )
    assert [r["adapter"] for r in found["results"]] == ["alice/say-shout@1.0.0"] + [
        r["adapter"] for r in found["results"][1:]
    ]
    assert len(found["results"]) == 3 and all(len(r["commit"]) == 40 for r in found["results"])
    assert found["results"][0]["loss"] < found["base"]["loss"]
    [skipped] = found["skipped"]
    assert skipped["adapter"] == "alice/say-stranger@1.0.0" and "pinned to another base" in skipped["reason"]
    table = run("find", "--base", str(base), "--examples", str(few), "--query", "say", "--no-progress")
    lines = table.splitlines()
    assert lines[0].startswith("base alone: loss") and "ADAPTER" in lines[1] and "alice/say-shout@1.0.0" in lines[2]
    assert "skipped alice/say-stranger@1.0.0: pinned to another base" in table


def test_compose_from_find_writes_a_pushable_adapter_with_lineage(hub):
    base, _, root = hub
    few = write_jsonl(root / "few.jsonl", task_rows("copy", FEW, repeat=1))
    out = root / "composed"
    done = json.loads(
        run(
            "compose",
            "--base",
            str(base),
            "--examples",
            str(few),
            "--from-find",
            "3",
            "--out",
            str(out),
            "--steps",
            "12",
            "--json",
            "--no-progress",
        )
    )
    weights = {w["adapter"]: w["weight"] for w in done["weights"]}
    assert max(weights, key=lambda k: abs(weights[k])) == "alice/say-copy@1.0.0", weights
    assert done["metric"] == "exact_match" and done["chosen"] == "mix"
    assert done["split"] == {"fit": 3, "held_out": 2, "fraction": 0.25, "seed": 0, "held_out_rows": [3, 4]}
    for part in ("fit", "held_out"):
        assert set(done["scores"]["mix"][part]) == {"loss", "exact_match"}
        assert set(done["scores"]["best_single"][part]) == {"loss", "exact_match"}
    assert done["scores"]["best_single"]["adapter"] in weights
    card = (out / "README.md").read_text()
    for w in done["weights"]:
        assert w["adapter"].split("@")[0] in card and w["commit"] in card
    run("push", str(out), "alice/say-composed", "--version", "1.0.0")
    info = json.loads(run("info", "alice/say-composed", "--json"))
    assert len(info["metadata"]["lineage"]) == 3


def test_compose_skips_the_stranger_with_its_reason(hub):
    base, _, root = hub
    few = write_jsonl(root / "few.jsonl", task_rows("copy", FEW, repeat=1))
    out = run(
        "compose",
        "alice/say-copy@1.0.0",
        "alice/say-stranger",
        "--base",
        str(base),
        "--examples",
        str(few),
        "--out",
        str(root / "c2"),
        "--steps",
        "3",
        "--no-progress",
    )
    assert "skipped alice/say-stranger@1.0.0: adapter alice/say-stranger@1.0.0 was trained on base" in out
    assert "wrote composed adapter to" in out


def test_compose_says_when_the_best_single_candidate_beats_the_mix_and_writes_it(hub):
    base, adapters, root = hub
    few = write_jsonl(root / "few.jsonl", split_task_rows("copy", "nope"))
    refs = ["alice/say-copy@1.0.0", "alice/say-shout@1.0.0", "alice/say-nope@1.0.0"]
    said = run(
        "compose",
        *refs,
        "--base",
        str(base),
        "--examples",
        str(few),
        "--out",
        str(root / "single"),
        "--steps",
        "8",
        "--no-progress",
    )
    line = (
        "the best single candidate alice/say-nope@1.0.0 beats the mix on 3 held-out examples: "
        "exact match 1.00 vs 0.00; wrote that candidate instead (--keep-mix keeps the mix)"
    )
    assert line in said.splitlines()
    assert (root / "single" / "adapter_model.safetensors").read_bytes() == (
        adapters["nope"] / "adapter_model.safetensors"
    ).read_bytes()
    done = json.loads(
        run(
            "compose",
            *refs,
            "--base",
            str(base),
            "--examples",
            str(few),
            "--out",
            str(root / "mix"),
            "--steps",
            "8",
            "--keep-mix",
            "--metric",
            "exact_match",
            "--json",
            "--no-progress",
        )
    )
    assert done["chosen"] == "mix" and done["note"].endswith("kept the mix (--keep-mix)")
    assert done["scores"]["best_single"]["held_out"]["exact_match"] == 1.0
    assert done["scores"]["mix"]["held_out"]["exact_match"] == 0.0
    assert {w["adapter"]: w["weight"] for w in done["weights"]} == {
        w["adapter"]: w["mix_weight"] for w in done["weights"]
    }


@pytest.mark.parametrize("content, message", [("", "no records"), ('{"prompt": 1}\n', ":1: causal-lm needs")])
def test_bad_examples_are_one_line_and_nothing_is_written(hub, content, message):
    base, adapters, root = hub
    few = root / "bad.jsonl"
    few.write_text(content)
    out = root / "never"
    for args in (["find", "--base", str(base)], ["compose", str(adapters["copy"]), "--out", str(out)]):
        said = fails(*args, "--examples", str(few))
        assert said.startswith("error: ") and message in said and said.count("\n") == 1
    assert not out.exists()


def test_evaluate_prints_a_task_by_adapter_table(hub):
    base, adapters, root = hub
    files = [write_jsonl(root / f"{t}-heldout.jsonl", task_rows(t, ["pen", "cup"], repeat=1)) for t in ("copy", "nope")]
    got = json.loads(
        run(
            "evaluate",
            "--data",
            str(files[0]),
            "--data",
            str(files[1]),
            "--each",
            str(adapters["copy"]),
            "--each",
            "alice/say-nope@1.0.0",
            "--with-base",
            "--base",
            str(base),
            "--max-new-tokens",
            "5",
            "--json",
            "--no-progress",
        )
    )
    table = got["exact_match"]
    assert set(table) == {str(f) for f in files}
    assert set(table[str(files[0])]) == {"base", "copy", "alice/say-nope@1.0.0"}
    for f in files:  # every cell is what a one-adapter `hub evaluate` says
        single = json.loads(
            run(
                "evaluate",
                "--data",
                str(f),
                "--adapter",
                str(adapters["copy"]),
                "--base",
                str(base),
                "--max-new-tokens",
                "5",
                "--json",
                "--no-progress",
            )
        )
        assert table[str(f)]["copy"] == single["exact_match"]
    text = run(
        "evaluate",
        "--data",
        str(files[0]),
        "--data",
        str(files[1]),
        "--each",
        str(adapters["copy"]),
        "--base",
        str(base),
        "--max-new-tokens",
        "5",
        "--no-progress",
    )
    assert text.splitlines()[0].split() == ["TASK", "copy"] and text.splitlines()[-1].startswith("mean")
