"""`--objective reward`: TRL's RewardTrainer on preference pairs (tiny LLaMA) gives a seq-cls adapter with one
output; the card says so; the saved adapter loads on its base and scores pairs exactly as the trainer's own
held-out pairwise accuracy did, and `hub evaluate` reports that accuracy; methods without the objective are
refused in one line with nothing written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from adapters.card import read_card
from adapters.registry import list_methods
from hub_client.cli.main import main
from tests.support.preference_pairs import WORDS, pair_files
from tests.support.tiny_bases import make_llama_dir, write_jsonl

REWARD_METHODS = [s.name for s in list_methods() if "reward" in s.objectives and s.peft_config is not None]
NO_REWARD = [s.name for s in list_methods() if s.name not in REWARD_METHODS]


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("base") / "llama")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return pair_files(tmp_path_factory.mktemp("pairs"))


@pytest.fixture(scope="module")
def reward_lora(llama, files, tmp_path_factory):
    from adapters.training import train

    out = tmp_path_factory.mktemp("runs") / "reward"
    result = train(
        llama,
        "lora",
        files[0],
        out,
        objective="reward",
        eval_data=files[1],
        max_steps=6,
        lr=2e-2,
        batch_size=4,
        progress=False,
    )
    return out, result


def _margins(model, tokenizer, rows):
    from adapters.training.reward_model import pair_rewards

    chosen, rejected = pair_rewards(model, tokenizer, rows)
    return [c - r for c, r in zip(chosen, rejected, strict=True)]


def test_reward_card_and_one_output_head(reward_lora):
    from adapters.runtime.stack import adapter_num_labels

    out, result = reward_lora
    card = read_card(out)
    assert card.hub["objective"] == {"name": "reward"} and card.hub["task"] == "seq-cls"
    assert "reward" in card.front["tags"] and card.hub["training"]["objective"] == "reward"
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["task_type"] == "SEQ_CLS"
    assert adapter_num_labels(out) == 1  # the saved score head has one row: the reward
    assert result.steps == 6 and set(result.metrics) >= {"train_loss", "pairwise_accuracy"}


def test_the_saved_adapter_loads_and_scores_pairs_as_the_trainer_did(llama, files, reward_lora):
    """Training raised the chosen-minus-rejected margin over the untrained head; the reloaded adapter (our hooks on
    the plain base) gives the in-memory model's rewards, and `hub evaluate` the same pairwise accuracy."""
    from transformers import set_seed

    from adapters.base.load import load_base
    from adapters.runtime.stack import load_stack
    from adapters.training.preferences import read_pairs
    from adapters.training.reward_model import pair_rewards, pairwise_accuracy

    out, result = reward_lora
    held = read_pairs(files[1])
    stack = load_stack(llama, [out], task="seq-cls")
    chosen, rejected = pair_rewards(stack, stack.tokenizer, held)
    live = pair_rewards(result.model, result.tokenizer, held)
    assert chosen == pytest.approx(live[0], abs=1e-4) and rejected == pytest.approx(live[1], abs=1e-4)
    assert pairwise_accuracy(chosen, rejected) == result.metrics["pairwise_accuracy"]

    set_seed(0)  # the head training started from (run.train seeds before loading)
    untrained, tokenizer = load_base(llama, task="seq-cls", num_labels=1)
    before = _margins(untrained, tokenizer, held)
    after = [c - r for c, r in zip(chosen, rejected, strict=True)]
    assert sum(after) / len(after) > sum(before) / len(before) + 0.1, (before, after)

    cli = CliRunner().invoke(
        main,
        ["evaluate", "--base", str(llama), "--data", str(files[1]), "--adapter", str(out), "--no-progress", "--json"],
    )
    assert cli.exit_code == 0, cli.output
    shown = json.loads(cli.output)
    assert shown["n"] == 4 and shown["pairwise_accuracy"] == result.metrics["pairwise_accuracy"]
    assert "preferred_rate" not in shown


@pytest.mark.parametrize("method", [m for m in REWARD_METHODS if m != "lora"])
def test_every_reward_method_trains_and_loads_back(method, llama, files, tmp_path):
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
            "reward",
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
    assert "pairwise_accuracy=" in result.output
    assert read_card(out).hub["objective"] == {"name": "reward"}
    found = evaluate(llama, files[1], [out], progress=False)
    assert found.n == 4 and 0.0 <= found.pairwise_accuracy <= 1.0


@pytest.mark.parametrize("method", NO_REWARD)
def test_a_method_without_the_reward_objective_is_refused_in_one_line(method, llama, files, tmp_path):
    spec = next(s for s in list_methods() if s.name == method)
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
            "reward",
        ],
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: method {method!r} does not support objective 'reward' (supports: {', '.join(spec.objectives)})"
    ]
    assert not (tmp_path / "runs").exists()


def test_hub_methods_lists_the_new_objectives_per_method():
    result = CliRunner().invoke(main, ["methods", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row["objectives"] for row in json.loads(result.output)}
    assert {"reward", "grpo"} <= set(rows["lora"])
    assert "reward" not in rows["prefix_tuning"] and "grpo" in rows["prefix_tuning"]
    assert "grpo" not in rows["bottleneck"]
    assert {m for m, objectives in rows.items() if "reward" in objectives} == set(REWARD_METHODS)


def test_reward_then_grpo_on_a_quantized_base(llama, files, tmp_path):
    """TRL casts trainable parameters of a quantized base to bf16; the reward head must still meet its fp32 inputs."""
    from adapters.evaluation.heldout import evaluate
    from adapters.training import train

    reward = train(
        llama,
        "lora",
        files[0],
        tmp_path / "rw",
        objective="reward",
        quantize="nf4",
        eval_data=files[1],
        max_steps=1,
        batch_size=4,
        progress=False,
    )
    assert read_card(tmp_path / "rw").hub["quantization"]["type"] == "nf4"
    found = evaluate(llama, files[1], [tmp_path / "rw"], quantize="nf4", progress=False)
    assert found.pairwise_accuracy == reward.metrics["pairwise_accuracy"]
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": f"say {w}"} for w in WORDS])
    policy = train(
        llama,
        "lora",
        prompts,
        tmp_path / "grpo",
        objective="grpo",
        quantize="nf4",
        reward=tmp_path / "rw",
        max_steps=1,
        batch_size=2,
        eval_fraction=0.25,
        progress=False,
    )
    assert policy.steps == 1 and {"mean_reward_base", "mean_reward"} <= set(policy.metrics)
