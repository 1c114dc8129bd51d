"""Real PEFT adapter directories from a tiny random LLaMA, for push/pull tests (no downloads)."""

from __future__ import annotations

from pathlib import Path


def make_lora_dir(out: Path, seed: int = 0, r: int = 4) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=128,
    )
    model = get_peft_model(
        LlamaForCausalLM(config),
        LoraConfig(
            r=r, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM", init_lora_weights=False
        ),
    )
    model.save_pretrained(out)
    return out


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def make_base_dir(out: Path, seed: int = 0) -> Path:
    """A tiny random LLaMA saved as safetensors: a base model to pin adapters to."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=128,
    )
    LlamaForCausalLM(config).save_pretrained(out)
    return out
