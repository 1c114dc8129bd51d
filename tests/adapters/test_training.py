"""train() and `hub train`: atomic output, clear refusals, method flags mapped onto the spec's options."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from adapters.errors import AdapterError
from adapters.registry import MethodOption, MethodSpec
from hub_client.cli.main import main
from hub_client.cli.train_commands import parse_method_options
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("base") / "llama")


def _spec() -> MethodSpec:
    def unused(*args, **kwargs):
        raise AssertionError("not called")

    return MethodSpec(
        name="toy",
        summary="",
        prepare=unused,
        save=unused,
        detect=unused,
        attach=unused,
        options=(
            MethodOption("r", int, 8),
            MethodOption("lora_alpha", int, 16),
            MethodOption("target_modules", list, None),
            MethodOption("use_dora", bool, False),
            MethodOption("dropout", float, 0.0),
        ),
    )


def test_method_flags_map_to_spec_options():
    got = parse_method_options(
        _spec(), ["--rank", "4", "--alpha=32", "--target-modules", "q_proj, v_proj", "--use-dora"], ("dropout=0.1",)
    )
    assert got == {"r": 4, "lora_alpha": 32, "target_modules": ["q_proj", "v_proj"], "use_dora": True, "dropout": 0.1}
    assert parse_method_options(_spec(), ["--use-dora", "false"], ()) == {"use_dora": False}


@pytest.mark.parametrize(
    "words,message",
    [
        (["--num-virtual-tokens", "8"], "has no option 'num_virtual_tokens'"),
        (["--rank", "four"], "expected int"),
        (["--rank"], "needs a value"),
        (["stray"], "unexpected argument"),
    ],
)
def test_bad_method_flags_are_usage_errors(words, message):
    with pytest.raises(click.UsageError, match=message):
        parse_method_options(_spec(), words, ())


def test_malformed_line_leaves_nothing_behind(llama, tmp_path):
    from adapters.training import train

    data = tmp_path / "train.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "a", "completion": "b"}\n{"prompt": oops}\n')
    out = tmp_path / "runs" / "adapter"
    with pytest.raises(AdapterError, match=r"train\.jsonl:3"):
        train(llama, "lora", data, out, max_steps=1, progress=False)
    assert not out.exists()
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_existing_output_and_unknown_option_are_refused(llama, tmp_path):
    from adapters.training import train

    data = write_jsonl(tmp_path / "d.jsonl", copy_task_rows(16))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(AdapterError, match="not empty"):
        train(llama, "lora", data, tmp_path / "busy", max_steps=1, progress=False)
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    with pytest.raises(AdapterError, match="no option"):
        train(llama, "lora", data, tmp_path / "x", options={"bogus": 1}, max_steps=1, progress=False)
    with pytest.raises(AdapterError, match="either max_steps or epochs"):
        train(llama, "lora", data, tmp_path / "y", max_steps=1, epochs=1, progress=False)


def test_cli_trains_with_method_flags_and_writes_the_card(llama, tmp_path):
    from adapters.card import read_card

    data = write_jsonl(tmp_path / "d.jsonl", copy_task_rows(24))
    out = tmp_path / "adapter"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--base",
            str(llama),
            "--method",
            "lora",
            "--data",
            str(data),
            "--out",
            str(out),
            "--max-steps",
            "3",
            "--rank",
            "4",
            "--alpha",
            "8",
            "--target-modules",
            "q_proj,v_proj",
            "--no-progress",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 3 and Path(summary["output_dir"]) == out
    hub = read_card(out).front["adapter_hub"]
    assert hub["method_options"]["r"] == 4 and hub["method_options"]["lora_alpha"] == 8
    assert hub["training"]["max_steps"] == 3 and "perplexity" in hub["metrics"]
    saved = json.loads((out / "adapter_config.json").read_text())
    assert saved["r"] == 4 and sorted(saved["target_modules"]) == ["q_proj", "v_proj"]


def test_cli_reports_a_bad_line_in_one_line(llama, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "fine"}\n[1]\n')
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--base",
            str(llama),
            "--method",
            "lora",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ],
    )
    assert result.exit_code == 1
    assert "bad.jsonl:2" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_evaluate_batches_match_one_by_one_generation(llama, tmp_path):
    from adapters.evaluation.heldout import evaluate, normalise
    from adapters.runtime.stack import load_stack
    from adapters.training import train

    rows = copy_task_rows(12)
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    out = train(llama, "lora", data, tmp_path / "a", max_steps=4, lr=1e-2, progress=False).output_dir
    result = evaluate(llama, data, [out], batch_size=5, max_new_tokens=6, progress=False)
    stack = load_stack(llama, [out])
    singles = [stack.generate(r["prompt"], max_new_tokens=6) for r in rows]
    assert result.n == 12 and len(result.predictions) == 12
    assert result.predictions == singles  # right padding inside a batch changes nothing
    hits = sum(normalise(p) == r["completion"] for p, r in zip(singles, rows, strict=False))
    assert result.exact_match == pytest.approx(hits / 12)
    alone = evaluate(llama, data, batch_size=12, max_new_tokens=6, progress=False)
    assert alone.n == 12 and alone.as_dict()["exact_match"] == alone.exact_match


def test_cli_evaluate_reports_exact_match(llama, tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", copy_task_rows(4))
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            "--base",
            str(llama),
            "--data",
            str(data),
            "--max-new-tokens",
            "3",
            "--no-progress",
            "--json",
            "--show",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["n"] == 4 and 0.0 <= found["exact_match"] <= 1.0 and len(found["predictions"]) == 2


def test_seq_cls_with_integer_labels_and_a_separate_eval_file(tmp_path):
    from adapters.card import read_card
    from adapters.training import train
    from tests.support.tiny_bases import make_bert_dir

    bert = make_bert_dir(tmp_path / "bert")
    rows = [{"text": t, "label": i % 3} for i, t in enumerate(["a b", "c d", "e f"] * 6)]
    data = write_jsonl(tmp_path / "train.jsonl", rows)
    held = write_jsonl(tmp_path / "held.jsonl", rows[:6])
    result = train(bert, "lora", data, tmp_path / "cls", task="seq-cls", eval_data=held, max_steps=2, progress=False)
    hub = read_card(result.output_dir).front["adapter_hub"]
    assert "label_names" not in hub and hub["task"] == "seq-cls"
    assert 0.0 <= hub["metrics"]["accuracy"] <= 1.0
    assert hub["training"]["train_records"] == 18 and hub["training"]["eval_records"] == 6


def test_a_base_card_that_lies_about_its_fingerprint_is_refused(tmp_path):
    from adapters.card import write_card
    from adapters.errors import BaseMismatchError
    from adapters.training import train

    base = make_llama_dir(tmp_path / "base")
    write_card(
        base, {"library_name": "transformers", "adapter_hub": {"kind": "base", "fingerprint": "sha256:" + "0" * 64}}
    )
    data = write_jsonl(tmp_path / "d.jsonl", copy_task_rows(8))
    with pytest.raises(BaseMismatchError, match="declares fingerprint"):
        train(base, "lora", data, tmp_path / "a", max_steps=1, progress=False)
    assert not (tmp_path / "a").exists()
    with pytest.warns(UserWarning, match="declares fingerprint"):
        train(base, "lora", data, tmp_path / "b", max_steps=1, progress=False, allow_base_mismatch=True)
    assert (tmp_path / "b" / "README.md").is_file()


def test_same_seed_same_adapter_other_seed_other_adapter(llama, tmp_path):
    import torch
    from safetensors.torch import load_file

    from adapters.training import train

    data = write_jsonl(tmp_path / "d.jsonl", copy_task_rows(16))

    def weights(name: str, seed: int) -> dict:
        out = train(llama, "lora", data, tmp_path / name, max_steps=2, lr=1e-2, seed=seed, progress=False).output_dir
        return load_file(str(out / "adapter_model.safetensors"))

    first, again, other = weights("a", 0), weights("b", 0), weights("c", 1)
    assert first.keys() == again.keys() == other.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert any(not torch.equal(first[k], other[k]) for k in first)


@pytest.mark.parametrize("method", ["prompt_tuning", "lora"])
def test_each_method_trains_at_its_own_default_learning_rate(method, llama, tmp_path):
    from adapters.card import read_card
    from adapters.registry import get_method
    from adapters.training import method_defaults, train

    data = write_jsonl(tmp_path / "train.jsonl", copy_task_rows())
    result = train(llama, method, data, tmp_path / "out", max_steps=1, progress=False)
    expected = method_defaults(get_method(method))["lr"]
    assert result.settings["lr"] == expected
    assert read_card(tmp_path / "out").front["adapter_hub"]["training"]["lr"] == expected
