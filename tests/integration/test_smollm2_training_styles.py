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


def test_continual_and_multitask_on_smollm2(base, tmp_path):
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
