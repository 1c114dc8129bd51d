"""`hub train --from` refusals through the CLI: one line on stderr, exit code 1, nothing written to --out, before
any model loads (the parent here is a card and a config, no weights, no base). A hub reference goes through the
CLI's own resolver (here: a hub nobody listens on)."""

from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner

from adapters.card import write_card
from hub_client.cli import main

PIN = {"id": "tiny", "revision": None, "fingerprint": "sha256:" + "ab" * 32}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HUB_TOKEN", raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HUB_ENDPOINT", f"http://127.0.0.1:{port}")
    (tmp_path / "new.jsonl").write_text('{"prompt": "a", "completion": "b"}\n' * 4)
    return tmp_path


def _parent(folder, method="lora", task="causal-lm"):
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": method.upper()}))
    hub = {"kind": "adapter", "method": method, "method_options": {"r": 8}, "task": task, "base": PIN}
    write_card(folder, {"library_name": "peft", "adapter_hub": hub})
    return folder


def _train(env, *extra):
    args = ["train", "--base", str(env / "no-base"), "--data", str(env / "new.jsonl"), "--out", str(env / "out")]
    return CliRunner().invoke(main, [*args, "--no-progress", *extra])


def _one_line(result, message):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert message in lines[0], lines[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "bottleneck"], "is a lora adapter; this run trains bottleneck"),
        (["--method", "lora", "--rank", "4"], "was trained with r=8; this run asks r=4"),
        (["--method", "lora", "--task", "seq-cls"], "is a causal-lm adapter; this run trains seq-cls"),
        (["--method", "p_tuning"], "method 'p_tuning' cannot continue training from saved weights (--from)"),
        (["--method", "lora", "--replay-fraction", "0.5"], "--replay-fraction needs --replay FILE"),
    ],
)
def test_a_parent_this_run_cannot_continue_is_one_line_and_nothing_is_written(env, extra, message):
    parent = _parent(env / "parent")
    _one_line(_train(env, "--from", str(parent), *extra), message)
    assert not (env / "out").exists() and not any(p.name.startswith(".out.") for p in env.iterdir())


def test_replay_and_old_eval_without_from_are_one_line(env):
    _one_line(_train(env, "--method", "lora", "--replay", str(env / "new.jsonl")), "--replay apply to continued")
    _one_line(_train(env, "--method", "lora", "--old-eval", str(env / "new.jsonl")), "--old-eval apply to")
    assert not (env / "out").exists()


def test_a_bad_old_eval_row_names_file_and_line(env):
    (env / "old.jsonl").write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "a"}\n')
    parent = _parent(env / "parent")
    _one_line(
        _train(env, "--method", "lora", "--from", str(parent), "--old-eval", str(env / "old.jsonl")), "old.jsonl:2:"
    )


def test_a_hub_reference_is_pulled_through_the_cli_resolver(env):
    _one_line(_train(env, "--method", "lora", "--from", "acme/old-task@1.0.0"), "cannot reach")
    assert not (env / "out").exists()


def test_help_documents_the_continual_options():
    result = CliRunner().invoke(main, ["train", "--help"])
    assert result.exit_code == 0
    for flag in ("--from", "--replay", "--replay-fraction", "--old-eval", "forgetting"):
        assert flag in result.output, flag


def test_methods_say_which_can_continue():
    rows = {r["name"]: r for r in json.loads(CliRunner().invoke(main, ["methods", "--json"]).output)}
    continuing = {"lora", "ia3", "prompt_tuning", "prefix_tuning", "bottleneck"}
    assert all(rows[name]["continues"] for name in continuing)
    assert rows["p_tuning"]["continues"] is False
    listing = CliRunner().invoke(main, ["methods"]).output
    assert "hub train --from" in listing and "no --from" in listing
