"""`hub run`, `hub merge`, `hub combine` end to end on a tiny base: output, latency notes, one-line errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hub_client.cli.main import main
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import make_bert_dir, make_llama_dir


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    base = make_llama_dir(root / "base")
    lora = pin_adapter(make_adapter(base, root / "lora", "lora", seed=1), base)
    lora2 = pin_adapter(make_adapter(base, root / "lora2", "lora", seed=2), base)
    prompt = pin_adapter(make_adapter(base, root / "prompt", "prompt_tuning", seed=3), base)
    return base, lora, lora2, prompt


def test_run_merges_by_default_and_says_what_stays_attached_in_one_line(setup):
    base, lora, lora2, prompt = setup
    args = [
        "run",
        "--base",
        str(base),
        str(lora),
        str(lora2),
        str(prompt),
        "--weights",
        "1,0.7,0.5",
        "--prompt",
        "say cat",
        "--max-new-tokens",
        "4",
    ]
    merged = CliRunner().invoke(main, args)
    assert merged.exit_code == 0, merged.output
    notes = [ln for ln in merged.stderr.splitlines() if ln.startswith("merged")]
    assert notes == ["merged lora, lora2; still attached (cannot merge, adds latency): prompt (prompt_tuning)"]
    hooked = CliRunner().invoke(main, args + ["--no-merge"])
    assert hooked.exit_code == 0, hooked.output
    assert "lora (lora, weight 1): attached - adds latency" in hooked.stderr
    assert "prompt (prompt_tuning, weight 0.5): attached - adds latency" in hooked.stderr
    assert hooked.stdout == merged.stdout  # merged generates exactly what the hooked stack does


def test_load_stack_generate_merges_unless_told_not_to(setup):
    from adapters.runtime.stack import load_stack

    base, lora, lora2, prompt = setup
    stack = load_stack(base, [lora, lora2, prompt])
    assert not any(r["merged"] for r in stack.latency_report())
    text = stack.generate("say cat", max_new_tokens=4)
    assert {r["name"]: r["merged"] for r in stack.latency_report()} == {"lora": True, "lora2": True, "prompt": False}
    hooked = load_stack(base, [lora, lora2, prompt], merge=False)
    assert hooked.generate("say cat", max_new_tokens=4) == text
    assert not any(r["merged"] for r in hooked.latency_report())


def test_run_classifies_with_a_seq_cls_adapter(tmp_path):
    bert = make_bert_dir(tmp_path / "bert")
    adapter = make_adapter(bert, tmp_path / "cls", "lora", task="seq-cls")
    pin_adapter(adapter, bert, {"task": "seq-cls", "label_names": ["neg", "neutral", "pos"]})
    result = CliRunner().invoke(main, ["run", "--base", str(bert), str(adapter), "--prompt", "so good"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] in ("neg", "neutral", "pos")
    assert len(lines) == 4


def test_run_refuses_a_mismatched_base_in_one_line(setup, tmp_path):
    base, *_ = setup
    other = make_llama_dir(tmp_path / "other", seed=5)
    adapter = pin_adapter(make_adapter(other, tmp_path / "a", "lora"), other)
    result = CliRunner().invoke(main, ["run", "--base", str(base), str(adapter), "--prompt", "hi"])
    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert "Traceback" not in result.output


def test_wrong_weight_count_is_a_usage_error(setup):
    base, lora, _, _ = setup
    result = CliRunner().invoke(main, ["run", "--base", str(base), str(lora), "--weights", "1,2", "--prompt", "x"])
    assert result.exit_code == 2
    assert "2 weights for 1 adapters" in result.output


def test_merge_and_combine_write_their_outputs(setup, tmp_path):
    base, lora, lora2, prompt = setup
    result = CliRunner().invoke(
        main, ["merge", "--base", str(base), str(lora), str(prompt), "--out", str(tmp_path / "merged"), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "still attached (adds latency): prompt" in result.output
    assert (tmp_path / "merged" / "model.safetensors").is_file()
    result = CliRunner().invoke(
        main,
        [
            "combine",
            str(lora),
            str(lora2),
            "--how",
            "ties",
            "--density",
            "0.5",
            "--base",
            str(base),
            "--out",
            str(tmp_path / "child"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "child" / "adapter_model.safetensors").is_file()
    assert (tmp_path / "child" / "README.md").is_file()
    assert "combine (ties): 100%" in result.output  # progress on stderr, one step per parent and stage


def test_missing_adapter_is_a_one_line_error(setup, tmp_path):
    base, *_ = setup
    result = CliRunner().invoke(main, ["run", "--base", str(base), str(tmp_path / "nope"), "--prompt", "x"])
    assert result.exit_code == 1
    assert result.output.startswith("error: ")
