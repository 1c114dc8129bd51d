"""Contract suite for every mergeable method: merged == stacked, unmerge restores, and the merged
directory is a plain transformers model with the same logits."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.support.stack_fixtures import make_adapter, make_method_adapter, pin_adapter
from tests.support.tiny_bases import make_bert_dir, make_llama_dir


def _mergeable() -> list:
    """Every mergeable method on every task it declares."""
    from adapters.registry import list_methods

    return [
        pytest.param(s.name, task, id=f"{s.name}-{task}")
        for s in list_methods()
        if s.mergeable
        for task in ("causal-lm", "seq-cls")
        if task in s.tasks
    ]


BASES = {"causal-lm": make_llama_dir, "seq-cls": make_bert_dir}


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    return {task: make(tmp_path_factory.mktemp(task)) for task, make in BASES.items()}


def _plain(out: Path, task: str):
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    auto = AutoModelForCausalLM if task == "causal-lm" else AutoModelForSequenceClassification
    return auto.from_pretrained(out).eval()


def _ids():
    return torch.randint(8, 100, (2, 6), generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("method,task", _mergeable())
def test_mergeable_method_contract(method, task, bases, tmp_path):
    from adapters.registry import get_method
    from adapters.runtime.merge import merge_to_dir
    from adapters.runtime.stack import load_stack

    spec = get_method(method)
    base = bases[task]
    adapters = [make_method_adapter(spec, base, tmp_path / f"a{i}", task=task, seed=i) for i in range(2)]
    ids = _ids()
    stack = load_stack(base, adapters, weights=[1.0, 0.6])
    original = {k: v.clone() for k, v in stack.model.state_dict().items()}
    with torch.no_grad():
        stacked = stack(input_ids=ids).logits
    assert stack.merge() == []
    with torch.no_grad():
        merged = stack(input_ids=ids).logits
    assert (merged - stacked).abs().max() <= 1e-4 * stacked.abs().max()
    stack.unmerge()
    for key, value in stack.model.state_dict().items():
        torch.testing.assert_close(value, original[key], atol=1e-5, rtol=1e-5)

    out = merge_to_dir(base, adapters, [1.0, 0.6], tmp_path / "merged", progress=False)
    assert out.attached == [] and len(out.merged) == 2
    assert not (tmp_path / "merged" / "adapter_config.json").exists()
    with torch.no_grad():
        reloaded = _plain(tmp_path / "merged", task)(input_ids=ids).logits
    assert (reloaded - stacked).abs().max() <= 1e-4 * stacked.abs().max()


def test_merge_keeps_non_mergeable_adapters_attached_and_says_why(bases, tmp_path):
    from adapters.card import read_card
    from adapters.runtime.merge import merge_to_dir

    base = bases["causal-lm"]
    lora = pin_adapter(make_adapter(base, tmp_path / "lora", "lora", seed=1), base)
    prompt = pin_adapter(make_adapter(base, tmp_path / "prompt", "prompt_tuning", seed=2), base)
    result = merge_to_dir(base, [lora, prompt], None, tmp_path / "out", progress=False)
    assert result.merged == ["lora"]
    assert [a["name"] for a in result.attached] == ["prompt"]
    assert "virtual tokens" in result.attached[0]["note"]
    assert (tmp_path / "out" / "attached" / "prompt" / "adapter_model.safetensors").is_file()
    front = read_card(tmp_path / "out").front
    assert front["base_model_relation"] == "merge"
    assert front["library_name"] == "transformers"
    lineage = front["adapter_hub"]["lineage"]
    assert [e["method"] for e in lineage] == ["lora", "prompt_tuning"]
    assert all(e["fingerprint"].startswith("sha256:") for e in lineage)
    assert front["adapter_hub"]["attached"][0]["path"] == "attached/prompt"
    assert (tmp_path / "out" / "tokenizer.json").is_file()


def test_merge_refuses_a_non_empty_output(bases, tmp_path):
    from adapters.errors import AdapterError
    from adapters.runtime.merge import merge_to_dir

    base = bases["causal-lm"]
    lora = pin_adapter(make_adapter(base, tmp_path / "lora", "lora"), base)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("keep me")
    with pytest.raises(AdapterError, match="not empty"):
        merge_to_dir(base, [lora], None, tmp_path / "out", progress=False)


def test_fold_frees_each_adapter_and_matches_merge(bases, tmp_path):
    """``fold=True`` (what ``merge_to_dir`` uses): same weights as attach-all-then-merge, no way back."""
    from transformers import AutoTokenizer

    from adapters.errors import AdapterError
    from adapters.runtime.merge import merge_to_dir
    from adapters.runtime.stack import FoldedAttachment, load_stack

    base = bases["causal-lm"]
    loras = [pin_adapter(make_adapter(base, tmp_path / f"l{i}", "lora", seed=i), base) for i in range(2)]
    ia3 = pin_adapter(make_adapter(base, tmp_path / "ia3", "ia3", seed=5), base)
    merged = load_stack(base, [*loras, ia3], [0.7, 1.0, 1.0])
    merged.merge()
    folded = load_stack(base, [*loras, ia3], [0.7, 1.0, 1.0], fold=True, with_tokenizer=False)
    assert folded.tokenizer is None
    assert all(isinstance(e.attachment, FoldedAttachment) for e in folded.entries)
    assert all(r["merged"] for r in folded.latency_report())
    for key, value in merged.model.state_dict().items():
        torch.testing.assert_close(folded.model.state_dict()[key], value, atol=1e-6, rtol=1e-6)
    with pytest.raises(AdapterError, match="cannot be unmerged"):
        folded.unmerge()

    merge_to_dir(base, [*loras, ia3], [0.7, 1.0, 1.0], tmp_path / "out", progress=False)
    for name in ("tokenizer.json", "tokenizer_config.json"):  # the base's own files, byte for byte
        assert (tmp_path / "out" / name).read_bytes() == (base / name).read_bytes()
    text = "hello there"
    assert (
        AutoTokenizer.from_pretrained(tmp_path / "out")(text)["input_ids"]
        == AutoTokenizer.from_pretrained(base)(text)["input_ids"]
    )
