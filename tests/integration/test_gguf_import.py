"""The real SmolLM2 GGUF imports (via `hub base import-gguf`) into a plain model that answers sensibly."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_import_gguf_cli_matches_default_base_and_generates(tmp_path):
    from adapters.card import read_card
    from adapters.default_base import BASE_ID, ensure_default_base
    from adapters.fingerprint import fingerprint

    default_dir = ensure_default_base()
    gguf = next((default_dir.parent / "downloads").glob("*.gguf"))
    out = tmp_path / "smol"
    proc = subprocess.run([sys.executable, "-m", "hub_client.cli", "base", "import-gguf", str(gguf), "--out", str(out),
                           "--base-id", BASE_ID], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]

    config = json.loads((out / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    assert not list(out.glob("*.bin")) and (out / "generation_config.json").is_file()
    card = read_card(out)
    assert card.hub["kind"] == "base" and card.front["base_model"] == BASE_ID
    # deterministic dequantization: the same weights as the cached default base, fingerprint included
    assert card.hub["fingerprint"] == fingerprint(out) == read_card(default_dir).hub["fingerprint"]
    assert proc.stdout.strip().endswith(card.hub["fingerprint"])

    again = subprocess.run([sys.executable, "-m", "hub_client.cli", "base", "import-gguf", str(gguf), "--out", str(out)],
                           capture_output=True, text=True)
    assert again.returncode == 1 and "Traceback" not in again.stderr and "not empty" in again.stderr

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    enc = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                  add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        ids = model.generate(**enc, max_new_tokens=16, do_sample=False)
    answer = tok.decode(ids[0][enc["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer
