"""`--objective grpo`: TRL's GRPOTrainer on prompts (tiny LLaMA) against a python reward function or a reward
adapter; the card records the bounded generation settings and the reward source, the held-out mean reward
before and after; bad reward flags, prompts files and methods are refused in one line with nothing written."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from adapters.card import read_card
from adapters.errors import AdapterError
from hub_client.cli.main import main
from tests.support.preference_pairs import WORDS
from tests.support.preference_pairs import pairs as preference_pairs  # `pairs` names a file below
from tests.support.tiny_bases import make_llama_dir, write_jsonl

# TRL's reward-function arguments: prompts and completions (conversations here: the base has a chat template),
# completion_ids, and the dataset's other columns (here "target") as keyword lists.
REWARD_CODE = """
def hits(prompts, completions, completion_ids, target, **kwargs):
    assert len(prompts) == len(completions) == len(completion_ids) == len(target)
    assert prompts[0][-1]["role"] == "user" and completions[0][-1]["role"] == "assistant"
    return [float(t in c[-1]["content"]) + 0.01 * len(ids) for c, t, ids in zip(completions, target, completion_ids)]


def wrong_count(prompts, completions, **kwargs):
    return [1.0]


not_callable = 3
"""


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("base") / "llama")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    prompts = write_jsonl(root / "prompts.jsonl", [{"prompt": f"say {w}", "target": w} for w in WORDS])
    pairs = write_jsonl(root / "pairs.jsonl", preference_pairs(WORDS))
    (root / "rewards.py").write_text(REWARD_CODE)
    return prompts, pairs, root / "rewards.py"


@pytest.fixture(scope="module")
def reward_adapter(llama, files, tmp_path_factory):
    from adapters.training import train

    out = tmp_path_factory.mktemp("runs") / "reward"
    train(llama, "lora", files[1], out, objective="reward", max_steps=2, batch_size=4, progress=False)
    return out


def _train_args(llama, data, out, *extra):
    return ["train", "--base", str(llama), "--method", "lora", "--data", str(data), "--out", str(out), *extra]


def test_grpo_with_a_reward_function(llama, files, tmp_path):
    from adapters.runtime.stack import load_stack

    out = tmp_path / "grpo"
    result = CliRunner().invoke(
        main,
        [
            *_train_args(llama, files[0], out),
            "--objective",
            "grpo",
            "--reward-fn",
            f"{files[2]}:hits",
            "--max-steps",
            "2",
            "--batch-size",
            "2",
            "--num-generations",
            "3",
            "--max-completion-length",
            "6",
            "--eval-fraction",
            "0.25",
            "--lr",
            "1e-2",
            "--no-progress",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["steps"] == 2
    metrics = shown["metrics"]
    assert all(math.isfinite(metrics[k]) for k in ("mean_reward_base", "mean_reward", "train_reward"))
    assert 0.0 <= metrics["mean_reward_base"] <= 1.06  # a hit (1) plus at most 6 tokens * 0.01
    hub = read_card(out).hub
    assert hub["objective"] == {"name": "grpo"} and hub["task"] == "causal-lm"
    training = hub["training"]
    assert training["num_generations"] == 3 and training["max_completion_length"] == 6
    assert training["reward_fn"] == f"{files[2]}:hits" and training["prompts_per_step"] == 2
    assert hub["metrics"]["mean_reward"] == pytest.approx(metrics["mean_reward"], abs=1e-6)
    stack = load_stack(llama, [out])  # the policy adapter loads back and generates
    assert isinstance(stack.generate("say cat", max_new_tokens=3), str)


def test_grpo_with_a_reward_adapter(llama, files, reward_adapter, tmp_path):
    from adapters.base.fingerprint import fingerprint
    from adapters.training import train

    result = train(
        llama,
        "lora",
        files[0],
        tmp_path / "grpo",
        objective="grpo",
        reward=reward_adapter,
        max_steps=2,
        batch_size=2,
        eval_fraction=0.25,
        progress=False,
    )
    assert result.steps == 2
    assert {"mean_reward_base", "mean_reward", "train_reward"} <= set(result.metrics)
    training = read_card(tmp_path / "grpo").hub["training"]
    assert training["reward_adapter"] == str(reward_adapter)
    assert training["reward_adapter_base"] == fingerprint(llama)
    assert training["num_generations"] == 4 and training["max_completion_length"] == 16  # the CPU defaults


def _refused(args, runs, message, midway=False):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    if midway:  # a run that fails while training removes its partial folder; only the parent --out asked for stays
        assert runs.is_dir() and not any(runs.iterdir())
    else:  # refused before any model loads
        assert not runs.exists()


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--objective", "dpo", "--reward-fn", "m:f"], "--reward-fn applies to --objective grpo, not 'dpo'"),
        (["--reward", "somewhere"], "--reward applies to --objective grpo, not 'causal-lm'"),
        (["--objective", "reward", "--num-generations", "2"], "--num-generations applies to --objective grpo"),
        (["--objective", "grpo"], "--objective grpo needs a reward"),
        (["--objective", "grpo", "--reward-fn", "no_colon"], "--reward-fn expects module:function"),
        (["--objective", "grpo", "--reward-fn", "no_such_module_for_hub:f"], "cannot import no_such_module_for_hub"),
        (["--objective", "grpo", "--reward-fn", "{rewards}:missing"], "has no 'missing'"),
        (["--objective", "grpo", "--reward-fn", "{rewards}:not_callable"], "'not_callable' is not callable"),
        (
            ["--objective", "grpo", "--reward-fn", "{rewards}:hits", "--num-generations", "1"],
            "--num-generations must be",
        ),
        (["--objective", "grpo", "--reward", "{pairs}"], "no such adapter directory"),
        (["--objective", "grpo", "--reward", "{plain}"], "not a reward adapter (it has no card of ours"),
        (["--objective", "grpo", "--reward-fn", "m:f", "--reward", "x"], "give either --reward or --reward-fn"),
    ],
)
def test_bad_reward_flags_are_refused_in_one_line(extra, message, llama, files, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    values = {"rewards": files[2], "pairs": files[1], "plain": plain}
    extra = [e.format(**values) for e in extra]
    data = files[1] if "dpo" in extra or "reward" in extra else files[0]
    _refused([*_train_args(llama, data, tmp_path / "runs" / "x"), *extra], tmp_path / "runs", message)


def test_a_policy_adapter_is_not_a_reward(llama, files, reward_adapter, tmp_path):
    """A DPO/GRPO/supervised adapter as --reward is refused by its card's objective, before training."""
    from adapters.training import train

    policy = tmp_path / "policy"
    train(
        llama,
        "lora",
        files[0],
        policy,
        objective="grpo",
        reward=reward_adapter,
        max_steps=1,
        batch_size=2,
        eval_fraction=0,
        progress=False,
    )
    _refused(
        [*_train_args(llama, files[0], tmp_path / "runs" / "x"), "--objective", "grpo", "--reward", str(policy)],
        tmp_path / "runs",
        f"{policy}: not a reward adapter (its card's objective is 'grpo')",
    )


def test_bad_prompts_and_methods_and_reward_outputs_are_refused(llama, files, tmp_path):
    from adapters.training import train

    runs = tmp_path / "runs"
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"prompt": "a"}, {"text": "b"}])
    with pytest.raises(AdapterError, match=r'bad\.jsonl:2: missing or empty "prompt"'):
        train(llama, "lora", bad, runs / "a", objective="grpo", reward_fn=f"{files[2]}:hits", progress=False)
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [{"prompt": "a", "target": "x"}, {"prompt": "b"}])
    with pytest.raises(AdapterError, match=r"mixed\.jsonl:2: columns \['prompt'\] differ"):
        train(llama, "lora", mixed, runs / "a", objective="grpo", reward_fn=f"{files[2]}:hits", progress=False)
    with pytest.raises(AdapterError, match="method 'bottleneck' does not support objective 'grpo'"):
        train(llama, "bottleneck", files[0], runs / "a", objective="grpo", reward_fn=f"{files[2]}:hits", progress=False)
    _refused(
        [
            *_train_args(llama, files[0], runs / "b"),
            "--objective",
            "grpo",
            "--reward-fn",
            f"{files[2]}:wrong_count",
            "--max-steps",
            "1",
            "--no-progress",
        ],
        runs,
        "returned 1 rewards for",
        midway=True,
    )


def test_the_example_reward_function_scores_the_asked_for_form():
    from examples.preferences.rewards import answer_form

    one = [{"role": "user", "content": "Which ocean is the largest? Answer in one word."}]
    full = "What is the longest river in Africa? Answer in a full sentence."
    found = answer_form(
        [one, one, full, full],
        [
            [{"role": "assistant", "content": "Pacific."}],
            [{"role": "assistant", "content": "It is the Pacific."}],
            "The Nile is the longest river.",
            "Nile.",
        ],
        chosen=["x"] * 4,
    )
    assert found == [1.0, 0.0, 1.0, 0.0]
