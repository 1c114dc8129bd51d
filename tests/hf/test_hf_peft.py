"""PEFT loads adapters (and their base) from our hub through HF_ENDPOINT alone."""

from __future__ import annotations

from tests.hf.hf_harness import push_dir, versions

TINY_BASE = """
import torch
from transformers import LlamaConfig, LlamaForCausalLM
torch.manual_seed(0)
config = LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, vocab_size=128)
LlamaForCausalLM(config).save_pretrained(sys.argv[1] if len(sys.argv) > 1 else "base")
print(json.dumps({}))
"""


def test_peft_and_auto_peft_load_from_the_hub(hub, run_hf, tmp_path):
    ann = hub.token("ann", "write", ["acme"])
    run_hf(TINY_BASE)
    push_dir(hub, ann, "acme/tiny-base", tmp_path / "base", "1.0.0", kind="base")

    # Train-side: base fetched from the hub, LoRA made on it, pushed with upload_folder.
    made = run_hf(
        """
        import torch
        from huggingface_hub import HfApi
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM
        base = AutoModelForCausalLM.from_pretrained("acme/tiny-base")
        model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                task_type="CAUSAL_LM", init_lora_weights=False))
        model.save_pretrained("lora")
        HfApi().create_repo("acme/tiny-lora")
        HfApi().upload_folder(folder_path="lora", repo_id="acme/tiny-lora", commit_message="version: 1.0.0")
        ids = torch.tensor([[1, 5, 9, 13]])
        with torch.no_grad():
            print(json.dumps({"logits": model(ids).logits[0, -1].tolist(),
                              "base_name": json.load(open("lora/adapter_config.json"))["base_model_name_or_path"]}))
    """,
        token=ann,
    )
    assert made["base_name"] == "acme/tiny-base"  # names the hub repo of the base
    push_dir(hub, ann, "acme/tiny-lora-native", tmp_path / "lora", "2.0.0")  # the `hub push` path

    loaded = run_hf("""
        import torch
        from peft import AutoPeftModelForCausalLM, PeftModel
        from transformers import AutoModelForCausalLM
        ids = torch.tensor([[1, 5, 9, 13]])
        base = AutoModelForCausalLM.from_pretrained("acme/tiny-base", revision="1.0.0")
        pinned = PeftModel.from_pretrained(base, "acme/tiny-lora", revision="1.0.0")
        auto = AutoPeftModelForCausalLM.from_pretrained("acme/tiny-lora")
        base2 = AutoModelForCausalLM.from_pretrained("acme/tiny-base")
        native = PeftModel.from_pretrained(base2, "acme/tiny-lora-native", revision="2.0.0")
        with torch.no_grad():
            print(json.dumps({"pinned": pinned(ids).logits[0, -1].tolist(),
                              "auto": auto(ids).logits[0, -1].tolist(),
                              "native": native(ids).logits[0, -1].tolist()}))
    """)
    for key in ("pinned", "auto", "native"):
        assert max(abs(a - b) for a, b in zip(loaded[key], made["logits"], strict=False)) < 1e-5
    assert versions(hub, ann, "acme/tiny-lora") == ["1.0.0", "0.0.0"]
