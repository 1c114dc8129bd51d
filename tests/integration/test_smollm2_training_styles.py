"""On the real SmolLM2-135M-Instruct, a few steps each: continuing a LoRA on a second task with replay and a
forgetting table, one LoRA on two tasks, and AdapterFusion over two bottleneck adapters, each loaded back on the
runtime and changing the base's output. The tiny-model suites test every option and refusal; this checks the
styles run on the base users have."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

TASKS = Path(__file__).resolve().parents[2] / "examples" / "tasks"
FEW = {"max_steps": 2, "batch_size": 4, "progress": False}


@pytest.fixture(scope="module")
def base():
    from adapters.base.default import ensure_default_base

    return ensure_default_base()


def _logits(base: Path, adapters: list[Path]) -> torch.Tensor:
    from adapters.runtime.stack import load_stack

    stack = load_stack(base, adapters, merge=False)
    enc = stack.tokenizer("Is this animal a mammal, a bird or a fish? trout", return_tensors="pt")
    with torch.no_grad():
        return stack(**enc).logits


def test_continual_and_multitask_on_smollm2(base, hub_server, tmp_path, monkeypatch):
    from adapters.card import read_card
    from adapters.training import train

    animal, emotion = TASKS / "animal", TASKS / "emotion"
    first = tmp_path / "animal"
    train(base, "lora", animal / "train.jsonl", first, **FEW)
    after = tmp_path / "emotion"
    result = train(
        base,
        "lora",
        emotion / "train.jsonl",
        after,
        parent=first,
        replay=animal / "train.jsonl",
        replay_fraction=0.5,
        old_eval=[animal / "heldout.jsonl"],
        eval_data=emotion / "heldout.jsonl",
        **FEW,
    )
    old, new = result.continual["forgetting"]
    assert old["role"] == "old" and new["role"] == "new"
    assert old["before"]["perplexity"] != old["after"]["perplexity"]  # two more steps moved the adapter
    assert read_card(after).hub["provenance"]["parent"]["path"] == str(first)
    replayed = result.settings["replay_records"]
    assert replayed == round(0.5 * (result.settings["train_records"] - replayed)) > 0
    both = tmp_path / "both"
    sources = [f"animal={animal / 'train.jsonl'}", f"emotion={emotion / 'train.jsonl'}"]
    mixed = train(base, "lora", sources, both, mix="uniform", **FEW)
    assert [t["name"] for t in mixed.tasks["tasks"]] == ["animal", "emotion"]
    plain = _logits(base, [])
    for adapter in (after, both):
        assert (_logits(base, [adapter]) - plain).abs().max() > 1e-4
    _round_trip(base, hub_server, tmp_path, monkeypatch, {"continued": after, "multitask": both})


def _round_trip(base: Path, hub_server, tmp_path: Path, monkeypatch, adapters: dict[str, Path]) -> None:
    """Push each adapter to a live hub, pull it back by reference, and answer a prompt with `hub run` on it
    (a reward model, which scores rather than generates, is pushed and pulled only)."""
    from click.testing import CliRunner

    from hub_client import HubClient
    from hub_client.cli.main import main

    for key, value in {
        "HUB_ENDPOINT": hub_server.url,
        "HUB_TOKEN": hub_server.token("alice"),
        "HUB_CONFIG_DIR": str(tmp_path / "cfg"),
        "HUB_CACHE": str(tmp_path / "cache"),
        "HUB_NO_PROGRESS": "1",
    }.items():
        monkeypatch.setenv(key, value)
    client = HubClient()
    for name, folder in adapters.items():
        client.push(folder, f"alice/{name}", "1.0.0")
        pulled = Path(client.pull(f"alice/{name}", "1.0.0"))
        assert {p.name for p in folder.iterdir()} <= {p.name for p in pulled.iterdir()}
        if name == "reward":
            continue
        ran = CliRunner().invoke(
            main, ["run", f"alice/{name}@1.0.0", "--base", str(base), "--prompt", "Say yes.", "--max-new-tokens", "2"]
        )
        assert ran.exit_code == 0 and ran.output.strip(), ran.output


def test_fusion_of_two_bottlenecks_on_smollm2(base, tmp_path):
    from adapters.card import read_card
    from adapters.training import train

    members = []
    for task in ("animal", "entity"):
        out = tmp_path / f"bn-{task}"
        train(base, "bottleneck", TASKS / task / "train.jsonl", out, lr=1e-3, **FEW)
        members.append(out)
    fused = tmp_path / "fusion"
    train(
        base,
        "fusion",
        TASKS / "animal" / "train.jsonl",
        fused,
        options={"adapters": ",".join(str(m) for m in members)},
        lr=1e-3,
        **FEW,
    )
    assert [e["path"] for e in read_card(fused).hub["lineage"]] == ["members/0", "members/1"]
    plain, with_fusion = _logits(base, []), _logits(base, [fused])
    assert (with_fusion - plain).abs().max() > 1e-4
    assert not torch.allclose(with_fusion, _logits(base, [members[0]]))  # not just the first member


PREFS = TASKS.parent / "preferences"


def test_distill_reward_and_grpo_on_smollm2_round_trip_through_a_hub(base, hub_server, tmp_path, monkeypatch):
    """A LoRA distilled from a few-shot chat transcript, a reward model and a GRPO policy scored by that reward
    model train on the real base, are pushed to a live hub, pulled back by reference and run with `hub run`."""
    import json

    from adapters.card import read_card
    from adapters.training import train

    rows = [json.loads(line) for line in (TASKS / "entity" / "train.jsonl").read_text().splitlines()]
    shots = tmp_path / "shots.json"
    shots.write_text(
        json.dumps(
            [
                {"role": role, "content": r[k]}
                for r in rows[:2]
                for role, k in (("user", "prompt"), ("assistant", "completion"))
            ]
        )
    )
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": r["prompt"]}) + "\n" for r in rows[2:6]))
    distilled = tmp_path / "distilled"
    train(base, "lora", prompts, distilled, objective="distill", teacher_prompt=shots, max_new_tokens=3, **FEW)
    assert read_card(distilled).hub["provenance"]["distillation"]["teacher"]["prompt"]["path"] == str(shots)

    reward = tmp_path / "reward"
    train(base, "lora", PREFS / "train.jsonl", reward, objective="reward", **FEW)
    grpo_prompts = tmp_path / "grpo.jsonl"
    grpo_prompts.write_text(
        "".join(
            json.dumps({"prompt": json.loads(line)["prompt"]}) + "\n"
            for line in (PREFS / "train.jsonl").read_text().splitlines()[:4]
        )
    )
    policy = tmp_path / "policy"
    grpo = train(
        base,
        "lora",
        grpo_prompts,
        policy,
        objective="grpo",
        reward=reward,
        num_generations=2,
        max_completion_length=4,
        **{**FEW, "max_steps": 1, "batch_size": 2},
    )
    assert grpo.steps == 1 and read_card(policy).hub["training"]["reward_adapter"] == str(reward)

    plain = _logits(base, [])
    for adapter in (distilled, policy):
        assert (_logits(base, [adapter]) - plain).abs().max() > 1e-4
    # the reward model (a one-output seq-cls head) scores, it does not generate: pushed and pulled, not run
    _round_trip(base, hub_server, tmp_path, monkeypatch, {"distilled": distilled, "policy": policy, "reward": reward})
