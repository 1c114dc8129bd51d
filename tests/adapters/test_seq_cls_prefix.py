"""Prefix tuning for sequence classification: our stack loads the classifier head PEFT saves beside the
prefix and gives PEFT's own logits (tiny LLaMA and BERT); detaching puts the base's head back."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from stack_fixtures import make_adapter, peft_logits, pin_adapter  # noqa: E402
from tiny_bases import make_bert_dir, make_llama_dir  # noqa: E402


@pytest.mark.parametrize("make_base", [make_llama_dir, make_bert_dir], ids=["llama", "bert"])
def test_prefix_seq_cls_matches_peft_and_restores_the_head(make_base, tmp_path):
    from adapters.stack import load_stack

    base = make_base(tmp_path / "base")
    adapter = pin_adapter(make_adapter(base, tmp_path / "prefix", "prefix_tuning", seed=3, task="seq-cls"), base)
    ids = torch.randint(8, 100, (2, 7), generator=torch.Generator().manual_seed(0))
    expected = peft_logits(base, adapter, ids, task="seq-cls")

    stack = load_stack(base, [adapter], task="seq-cls")
    assert stack.task == "seq-cls" and stack.entries[0].method == "prefix_tuning"
    head = {k: v.clone() for k, v in stack.model.named_parameters() if "score" in k or "classifier" in k}
    with torch.no_grad():
        got = stack(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    assert stack.latency_report()[0]["merged"] is False  # a prefix always costs attention positions

    stack.detach_all()
    restored = {k: v for k, v in stack.model.named_parameters() if k in head}
    assert any(not torch.equal(restored[k], head[k]) for k in head)  # the adapter's head is gone again
