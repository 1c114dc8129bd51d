"""On the real SmolLM2-135M-Instruct: merging two LoRAs with ``hub merge``'s code path gives a plain
transformers directory whose logits match PEFT's own ``merge_and_unload`` of the same two adapters."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow


def _lora(base: Path, out: Path, seed: int, targets: list[str]) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tests.support.stack_fixtures import pin_adapter

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    peft_model = get_peft_model(
        model, LoraConfig(r=8, lora_alpha=16, target_modules=targets, task_type="CAUSAL_LM", init_lora_weights=False)
    )
    peft_model.save_pretrained(out)
    return pin_adapter(out, base)


def test_merge_of_two_loras_matches_peft_merge_and_unload(tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from adapters.base.default import ensure_default_base
    from adapters.runtime.merge import merge_to_dir

    base = ensure_default_base()
    first = _lora(base, tmp_path / "first", 1, ["q_proj", "v_proj"])
    second = _lora(base, tmp_path / "second", 2, ["v_proj", "o_proj", "down_proj"])
    result = merge_to_dir(base, [first, second], None, tmp_path / "merged", progress=False)
    assert result.merged == ["first", "second"] and result.attached == []

    enc = AutoTokenizer.from_pretrained(base)("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        ours = AutoModelForCausalLM.from_pretrained(tmp_path / "merged", dtype=torch.float32).eval()(**enc).logits
        plain = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
        peft_model = PeftModel.from_pretrained(plain, first, adapter_name="first")
        peft_model.load_adapter(second, adapter_name="second")
        reference = peft_model.merge_and_unload(adapter_names=["first", "second"]).eval()(**enc).logits
        base_logits = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()(**enc).logits
    assert (reference - base_logits).abs().max() > 1e-2
    assert (ours - reference).abs().max() <= 1e-4 * reference.abs().max()
