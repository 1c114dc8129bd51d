"""LoRA with DoRA (``use_dora``) in our hook runtime: PEFT's own logits when attached, the same after a
merge, the base back after unmerge, and a merged directory equal to PEFT's ``merge_and_unload``."""

from __future__ import annotations

import pytest
import torch

from tests.support.stack_fixtures import load_plain, make_adapter, peft_logits, pin_adapter
from tests.support.tiny_bases import make_bert_dir, make_llama_dir

BASES = {"causal-lm": make_llama_dir, "seq-cls": make_bert_dir}


def _ids():
    return torch.randint(8, 100, (2, 6), generator=torch.Generator().manual_seed(5))


@pytest.mark.parametrize("task", list(BASES))
def test_dora_attach_merge_unmerge_match_peft(task, tmp_path):
    from adapters.runtime.stack import load_stack

    base = BASES[task](tmp_path / "base")
    dora = pin_adapter(make_adapter(base, tmp_path / "dora", "lora", seed=2, task=task, use_dora=True), base)
    ids = _ids()
    expected = peft_logits(base, dora, ids, task=task)
    stack = load_stack(base, [dora], task=task)
    original = {k: v.clone() for k, v in stack.model.state_dict().items()}
    mask = torch.ones_like(ids)
    with torch.no_grad():
        hooked = stack(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(hooked, expected, atol=1e-5, rtol=1e-4)
    stack.merge()
    assert stack.latency_report()[0]["merged"]
    with torch.no_grad():
        merged = stack(input_ids=ids, attention_mask=mask).logits
    assert (merged - hooked).abs().max() <= 1e-4 * hooked.abs().max()
    stack.unmerge()
    for key, value in stack.model.state_dict().items():
        torch.testing.assert_close(value, original[key], atol=1e-5, rtol=1e-5)


def test_dora_with_a_weight_merges_to_the_hooked_output_and_to_peft_merge(tmp_path):
    from peft import PeftModel

    from adapters.runtime.merge import merge_to_dir
    from adapters.runtime.stack import load_stack

    base = make_llama_dir(tmp_path / "base")
    dora = pin_adapter(make_adapter(base, tmp_path / "dora", "lora", seed=4, use_dora=True), base)
    lora = pin_adapter(make_adapter(base, tmp_path / "lora", "lora", seed=6), base)
    ids = _ids()
    stack = load_stack(base, [lora, dora], weights=[1.0, 0.5])
    with torch.no_grad():
        hooked = stack(input_ids=ids).logits
        stack.merge()
        merged = stack(input_ids=ids).logits
    assert (merged - hooked).abs().max() <= 1e-4 * hooked.abs().max()

    merge_to_dir(base, [dora], None, tmp_path / "merged", progress=False)
    from transformers import AutoModelForCausalLM

    reference = PeftModel.from_pretrained(load_plain(base), dora).merge_and_unload().eval()
    ours = AutoModelForCausalLM.from_pretrained(tmp_path / "merged").eval()
    with torch.no_grad():
        want, got = reference(input_ids=ids).logits, ours(input_ids=ids).logits
    assert (got - want).abs().max() <= 1e-4 * want.abs().max()
