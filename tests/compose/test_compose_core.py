"""adapters.composition.from_examples on real trained LoRAs over a tiny random LLaMA: ranking, weighting, exact output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.composition.few_shot import read_examples
from adapters.composition.from_examples import Candidate, compose, score_candidates
from adapters.errors import AdapterError
from tests.compose.tiny_library import FEW, noise_like, task_rows, with_noise
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import make_llama_dir, write_jsonl


def _candidates(adapters: dict[str, Path]) -> list[Candidate]:
    return [Candidate(f"tests/{task}@1.0.0", path, commit="c" * 40) for task, path in adapters.items()]


@pytest.mark.parametrize("task", ["copy", "shout", "nope"])
def test_find_ranks_the_matching_task_first(library, tmp_path, task):
    base, adapters = library
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", task_rows(task, FEW, repeat=1)))
    found = score_candidates(base, examples, _candidates(adapters), progress=False)
    assert found.scored[0].candidate.label == f"tests/{task}@1.0.0"
    assert found.scored[0].loss < found.base_loss
    assert found.scored[0].method == "lora" and not found.skipped


def test_adapter_pinned_to_another_base_is_skipped_with_its_reason(library, tmp_path):
    base, adapters = library
    other = make_llama_dir(tmp_path / "other-base", seed=7)
    stranger = pin_adapter(make_adapter(other, tmp_path / "stranger", "lora", seed=3), other)
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", task_rows("copy", FEW, repeat=1)))
    found = score_candidates(
        base, examples, _candidates(adapters) + [Candidate("eve/stranger@1.0.0", stranger)], progress=False
    )
    assert len(found.scored) == 3
    [skipped] = found.skipped
    assert skipped.label == "eve/stranger@1.0.0"
    assert "was trained on base" in skipped.reason and "but the loaded base is" in skipped.reason


def test_compose_gives_the_right_candidate_the_largest_weight(library, tmp_path):
    base, adapters = library
    noise = [pin_adapter(make_adapter(base, tmp_path / f"noise{i}", "lora", seed=10 + i), base) for i in range(2)]
    candidates = [
        Candidate("tests/noise0@1.0.0", noise[0]),
        Candidate("tests/copy@1.0.0", adapters["copy"], "c" * 40),
        Candidate("tests/noise1@1.0.0", noise[1]),
        Candidate("tests/nope@1.0.0", adapters["nope"]),
    ]
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", task_rows("copy", FEW, repeat=1)))
    result = compose(base, examples, candidates, tmp_path / "out", steps=20, seed=0, progress=False)
    weights = dict(zip([c.label for c in result.parents], result.weights, strict=True))
    assert max(weights, key=lambda k: abs(weights[k])) == "tests/copy@1.0.0", weights
    card = (tmp_path / "out" / "README.md").read_text()
    assert "tests/copy" in card and "c" * 40 in card and examples.sha256 in card and "NGOpt" in card
    lineage_ids = [p for p in ("noise0", "copy", "noise1", "nope") if f"tests/{p}" in card]
    assert len(lineage_ids) == 4


def test_composed_adapter_loads_in_plain_peft_and_merges(library, tmp_path):
    """Different ranks and targets: the saved file must compute exactly the fused weighted sum."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from adapters.base import load_base
    from adapters.composition.deltas import FusedDeltas
    from adapters.methods.lora.factors import low_rank_factors

    base, adapters = library
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", task_rows("shout", FEW, repeat=1)))
    result = compose(base, examples, _candidates(adapters), tmp_path / "out", steps=6, progress=False)
    config = json.loads((tmp_path / "out" / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 4 + 8 + 2  # v_proj carries all three ranks
    ids = torch.tensor([[5, 20, 33, 47, 60, 71]])

    model, _ = load_base(base)
    fused = FusedDeltas(model, [low_rank_factors(p) for p in adapters.values()])
    fused.set_weights(result.weights)
    with torch.no_grad():
        expected = model(input_ids=ids).logits
    fused.detach()

    plain = AutoModelForCausalLM.from_pretrained(base).eval()
    peft_model = PeftModel.from_pretrained(plain, tmp_path / "out").eval()
    with torch.no_grad():
        got = peft_model(input_ids=ids).logits
        merged = peft_model.merge_and_unload()(input_ids=ids).logits
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(merged, expected, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        bare = AutoModelForCausalLM.from_pretrained(base).eval()(input_ids=ids).logits
    assert not torch.allclose(bare, expected, atol=1e-4)


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "no records"),
        ('{"prompt": "say cat"}\n', ":1: causal-lm needs"),
        ('{"text": "just text"}\n', ":1: examples need"),
        ("not json\n", ":1:"),
    ],
)
def test_empty_or_malformed_examples_are_one_line(tmp_path, content, message):
    path = tmp_path / "few.jsonl"
    path.write_text(content)
    with pytest.raises(AdapterError) as info:
        read_examples(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_non_empty_output_directory_is_refused_before_loading(library, tmp_path):
    base, adapters = library
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", task_rows("copy", FEW, repeat=1)))
    with pytest.raises(AdapterError, match="not empty"):
        compose(base, examples, _candidates(adapters), out, steps=2, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_compose_beats_its_seeds_when_a_better_mix_exists(library, tmp_path):
    """Candidates copy+N, copy-N and M (N, M random updates that hurt): every seeded point (the uniform
    average, each one alone) carries noise, while 0.5/0.5/0 is the clean copy LoRA. Compose must leave its
    seeds to find it; a search limited to them stops at the uniform average."""
    from adapters.base import load_base
    from adapters.composition.deltas import FusedDeltas
    from adapters.composition.few_shot import encode_examples, score
    from adapters.methods.lora.factors import low_rank_factors

    base, adapters = library
    n, m = noise_like(adapters["copy"], 1), noise_like(adapters["copy"], 2)
    dirs = [
        with_noise(adapters["copy"], tmp_path / "plus", n, 1.0),
        with_noise(adapters["copy"], tmp_path / "minus", n, -1.0),
        with_noise(adapters["copy"], tmp_path / "other", m, 1.0),
    ]
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", task_rows("copy", FEW, repeat=1)))

    model, tokenizer = load_base(base)
    batch = encode_examples(tokenizer, examples)
    base_loss = score(model, batch)[0]
    fused = FusedDeltas(model, [low_rank_factors(p) for p in dirs])
    seed_losses = []
    for point in ([1 / 3] * 3, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]):
        fused.set_weights(point)
        seed_losses.append(score(model, batch)[0])
    fused.set_weights([0.5, 0.5, 0.0])
    clean = score(model, batch)[0]
    fused.detach()
    assert clean < min(seed_losses) - 0.08  # the better mix exists

    candidates = [Candidate(f"tests/{p.name}@1.0.0", p) for p in dirs]
    result = compose(
        base, examples, candidates, tmp_path / "out", steps=30, seed=0, metric="loss", holdout=0.0, progress=False
    )
    assert result.loss < min(seed_losses) - 0.05, (result.loss, seed_losses, result.weights)
    assert result.loss < base_loss - 0.2
    plus, minus, other = result.weights
    assert abs(other) < min(abs(plus), abs(minus)) and abs(plus - minus) < 0.2, result.weights
