"""`--objective dpo`: TRL's DPOTrainer on preference pairs for every method that declares it (tiny LLaMA),
with the base as reference; the card records objective and beta; `hub evaluate` on pairs reports the
preferred-answer rate and the reward margin, and agrees with the trainer's own held-out figures; bad
pairs files and methods without the objective are refused in one line with nothing written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from adapters.card import read_card
from adapters.errors import AdapterError
from adapters.registry import list_methods
from hub_client.cli.main import main
from tests.adapters.cpu_paths import PATHS, use_path
from tests.support.preference_pairs import pair_files
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

DPO_METHODS = [s.name for s in list_methods() if "dpo" in s.objectives and s.peft_config is not None]
NO_DPO = [s.name for s in list_methods() if s.name not in DPO_METHODS]


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("base") / "llama")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return pair_files(tmp_path_factory.mktemp("pairs"))


@pytest.fixture(scope="module")
def dpo_lora(llama, files, tmp_path_factory):
    from adapters.training import train

    out = tmp_path_factory.mktemp("runs") / "dpo"
    result = train(
        llama,
        "lora",
        files[0],
        out,
        objective="dpo",
        beta=0.2,
        eval_data=files[1],
        max_steps=6,
        lr=2e-2,
        batch_size=4,
        progress=False,
    )
    return out, result


def test_dpo_card_records_objective_and_beta_and_the_margin_grows(dpo_lora):
    out, result = dpo_lora
    hub = read_card(out).hub
    assert hub["objective"] == {"name": "dpo", "beta": 0.2}
    assert hub["task"] == "causal-lm" and hub["training"]["beta"] == 0.2
    assert "dpo" in read_card(out).front["tags"]
    assert result.metrics["reward_margin"] > 0 and result.metrics["train_reward_margin"] > 0
    assert json.loads((out / "adapter_config.json").read_text())["peft_type"] == "LORA"


def test_evaluate_on_pairs_matches_the_trainers_held_out_figures(llama, files, dpo_lora):
    """Our stack (hooks on the plain base) and PEFT (inside the trainer) score the pairs the same."""
    from adapters.evaluation.heldout import evaluate

    out, result = dpo_lora
    found = evaluate(llama, files[1], [out], progress=False)
    assert found.beta == 0.2 and found.n == 4
    assert found.reward_margin == pytest.approx(result.metrics["reward_margin"], rel=1e-3, abs=1e-5)
    assert found.preferred_rate == pytest.approx(result.metrics["preferred_rate"])
    base_only = evaluate(llama, files[1], progress=False)
    assert base_only.reward_margin == 0.0 and base_only.exact_match is None

    cli = CliRunner().invoke(
        main,
        ["evaluate", "--base", str(llama), "--data", str(files[1]), "--adapter", str(out), "--no-progress", "--json"],
    )
    assert cli.exit_code == 0, cli.output
    shown = json.loads(cli.output)
    assert shown["preferred_rate"] == found.preferred_rate and shown["n"] == 4
    assert shown["reward_margin"] == pytest.approx(found.reward_margin)


@pytest.mark.parametrize("method", DPO_METHODS)
def test_every_dpo_method_trains_and_loads_back(method, llama, files, tmp_path):
    from adapters.evaluation.heldout import evaluate

    out = tmp_path / method
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--base",
            str(llama),
            "--method",
            method,
            "--data",
            str(files[0]),
            "--out",
            str(out),
            "--objective",
            "dpo",
            "--max-steps",
            "1",
            "--batch-size",
            "4",
            "--eval-fraction",
            "0.25",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert read_card(out).hub["objective"] == {"name": "dpo", "beta": 0.1}
    assert evaluate(llama, files[1], [out], progress=False).n == 4


@pytest.mark.parametrize("path", PATHS)  # bitsandbytes' two CPU paths (tests/adapters/cpu_paths.py)
def test_dpo_on_a_quantized_base(path, llama, files, tmp_path, monkeypatch):
    from adapters.training import train

    use_path(monkeypatch, path)
    result = train(
        llama,
        "lora",
        files[0],
        tmp_path / "q",
        objective="dpo",
        quantize="nf4",
        max_steps=1,
        batch_size=4,
        eval_data=files[1],
        progress=False,
    )
    hub = read_card(tmp_path / "q").hub
    assert hub["objective"]["name"] == "dpo" and hub["quantization"]["type"] == "nf4"
    assert 0.0 <= result.metrics["preferred_rate"] <= 1.0  # the held-out pairs ran on the quantized base


@pytest.mark.parametrize("method", NO_DPO)
def test_a_method_without_the_objective_is_refused_in_one_line(method, llama, files, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--base",
            str(llama),
            "--method",
            method,
            "--data",
            str(files[0]),
            "--out",
            str(tmp_path / "runs" / "x"),
            "--objective",
            "dpo",
        ],
    )
    assert result.exit_code == 1
    supports = ", ".join(next(s for s in list_methods() if s.name == method).objectives)
    assert result.output.strip().splitlines() == [
        f"error: method {method!r} does not support objective 'dpo' (supports: {supports})"
    ]
    assert not (tmp_path / "runs").exists()


BAD = [
    (
        '{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "a", "chosen": "b"}\n',
        ':2: missing or empty "rejected"',
    ),
    (
        '{"prompt": "a", "chosen": "b", "rejected": "c"}\n\n{"prompt": "x", "chosen": "same", "rejected": "same "}\n',
        ':3: "chosen" equals "rejected"',
    ),
    ("", ": no preference pairs (the file is empty)"),
    ('{"prompt": "a", "chosen": 1, "rejected": "c"}\n', ':1: missing or empty "chosen"'),
    ('{"prompt": "a", "chosen": "b", "rejected": "c"}\n{oops\n', ":2: not valid JSON"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_bad_pairs_name_the_row_and_write_nothing(text, message, llama, tmp_path):
    from adapters.training import train

    data = tmp_path / "pairs.jsonl"
    data.write_text(text)
    runs = tmp_path / "runs"
    with pytest.raises(AdapterError) as caught:
        train(llama, "lora", data, runs / "a", objective="dpo", max_steps=1, progress=False)
    assert str(caught.value).startswith(f"{data}{message}")
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
            str(runs / "b"),
            "--objective",
            "dpo",
        ],
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {data}{message}")
    assert not runs.exists()


def test_beta_only_with_a_preference_objective(llama, tmp_path):
    from adapters.training import train

    data = write_jsonl(tmp_path / "d.jsonl", copy_task_rows(8))
    with pytest.raises(AdapterError, match="--beta applies to preference objectives"):
        train(llama, "lora", data, tmp_path / "x", beta=0.2, max_steps=1, progress=False)
    with pytest.raises(AdapterError, match="--beta must be positive"):
        train(llama, "lora", data, tmp_path / "x", objective="dpo", beta=0, max_steps=1, progress=False)
    assert not (tmp_path / "x").exists()


def test_pairs_without_the_dpo_objective_say_so(llama, files, tmp_path):
    from adapters.training import train

    with pytest.raises(
        AdapterError,
        match=r"train\.jsonl:1: this is a preference pair; train on pairs with "
        r"--objective dpo",
    ):
        train(llama, "lora", files[0], tmp_path / "x", max_steps=1, progress=False)
    assert not (tmp_path / "x").exists()
