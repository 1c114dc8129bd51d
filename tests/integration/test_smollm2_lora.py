"""On the real SmolLM2-135M-Instruct: a briefly trained LoRA saves, reloads through our stack, and loads
in unmodified ``peft.PeftModel.from_pretrained`` with the same logits as the model that was trained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sentiment"


def test_smollm2_lora_trains_saves_and_loads_in_peft(tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from adapters.base.default import BASE_ID, ensure_default_base
    from adapters.base.fingerprint import fingerprint
    from adapters.card import read_card
    from adapters.runtime.stack import load_stack
    from adapters.training import train

    base = ensure_default_base()
    rows = (EXAMPLE / "train.jsonl").read_text().splitlines()[:40]
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "lora"
    result = train(base, "lora", data, out, max_steps=3, batch_size=4, progress=False)
    assert result.steps == 3 and result.metrics["perplexity"] > 1.0

    front = read_card(out).front
    assert front["base_model"] == BASE_ID
    assert front["adapter_hub"]["base"]["fingerprint"] == fingerprint(base)
    assert json.loads((out / "adapter_config.json").read_text())["peft_type"] == "LORA"

    prompt = json.loads(rows[0])["prompt"]
    enc = result.tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        expected = result.model(**enc).logits
        ours = load_stack(base, [out])(**enc).logits
        plain = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
        peft_logits = PeftModel.from_pretrained(plain, out).eval()(**enc).logits
        base_logits = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()(**enc).logits
    torch.testing.assert_close(peft_logits, expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=0)
    assert (expected - base_logits).abs().max() > 1e-3  # the adapter really changes the model
