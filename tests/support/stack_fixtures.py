"""Saved PEFT adapters with non-identity weights on the tiny bases, for runtime/stack/merge tests.

Adapters are created with PEFT itself (its own file format), then every trainable tensor is perturbed
so that an adapter which silently does nothing cannot pass a comparison.
"""

from __future__ import annotations

from pathlib import Path

LLAMA_LINEARS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def peft_config(method: str, task: str = "causal-lm", **overrides):
    from peft import IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig

    task_type = "CAUSAL_LM" if task == "causal-lm" else "SEQ_CLS"
    bert = task == "seq-cls"
    if method == "lora":
        targets = ["query", "value", "dense"] if bert else ["q_proj", "v_proj", "down_proj"]
        overrides.setdefault("target_modules", targets)
        return LoraConfig(r=4, lora_alpha=8, task_type=task_type, **overrides)
    if method == "ia3":
        targets = ["key", "value", "output.dense"] if bert else ["k_proj", "v_proj", "down_proj"]
        ff = ["output.dense"] if bert else ["down_proj"]
        overrides.setdefault("target_modules", targets)
        overrides.setdefault("feedforward_modules", ff)
        return IA3Config(task_type=task_type, **overrides)
    if method == "prompt_tuning":
        return PromptTuningConfig(num_virtual_tokens=3, task_type=task_type, **overrides)
    if method == "p_tuning":
        from peft import PromptEncoderConfig

        return PromptEncoderConfig(num_virtual_tokens=3, encoder_hidden_size=16, task_type=task_type, **overrides)
    if method == "prefix_tuning":
        return PrefixTuningConfig(num_virtual_tokens=3, task_type=task_type, **overrides)
    raise ValueError(method)


def load_plain(base_dir: Path, task: str = "causal-lm", num_labels: int = 3):
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    torch.manual_seed(1234)  # a seq-cls head that the base lacks starts identical every time
    if task == "causal-lm":
        model = AutoModelForCausalLM.from_pretrained(base_dir)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=num_labels)
    return model.eval()


def make_adapter(base_dir: Path, out: Path, method: str, seed: int = 0, task: str = "causal-lm", **overrides) -> Path:
    """A PEFT adapter of ``method`` for ``base_dir`` with random (non-identity) weights."""
    import torch
    from peft import get_peft_model

    model = get_peft_model(load_plain(base_dir, task), peft_config(method, task, **overrides))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(torch.randn(param.shape, generator=gen) * 0.3)
    model.save_pretrained(out)
    return Path(out)


def peft_logits(base_dir: Path, adapter_dir: Path, input_ids, task: str = "causal-lm"):
    """PEFT's own logits for a saved adapter (the reference), real-token positions only."""
    import torch
    from peft import PeftModel

    model = PeftModel.from_pretrained(load_plain(base_dir, task), adapter_dir).eval()
    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).logits
    return out[:, -input_ids.shape[1] :] if out.dim() == 3 else out


def peft_prefix_logits_via_cache(base_dir: Path, adapter_dir: Path, input_ids, task: str = "seq-cls"):
    """PEFT's own prefix (``get_prompt``, its own reshaping) handed to the model under ``cache``: what PEFT
    itself does when it finds the argument, for releases where its signature check no longer does."""
    import torch
    from peft import PeftModel

    model = PeftModel.from_pretrained(load_plain(base_dir, task), adapter_dir).eval()
    batch = input_ids.shape[0]
    virtual = model.peft_config[model.active_adapter].num_virtual_tokens
    mask = torch.cat([torch.ones(batch, virtual, dtype=torch.long), torch.ones_like(input_ids)], dim=1)
    with torch.no_grad():
        out = model.base_model(input_ids=input_ids, attention_mask=mask, cache=model.get_prompt(batch)).logits
    return out[:, -input_ids.shape[1] :] if out.dim() == 3 else out


def pin_adapter(adapter_dir: Path, base_dir: Path, extra: dict | None = None) -> Path:
    """Give a saved adapter a card pinning it to ``base_dir`` (as ``hub train`` does)."""
    from adapters.base import pin_for
    from adapters.card import write_card

    hub = {"kind": "adapter", "base": pin_for(base_dir).to_dict()} | (extra or {})
    write_card(adapter_dir, {"library_name": "peft", "adapter_hub": hub})
    return Path(adapter_dir)


def make_method_adapter(spec, base_dir: Path, out: Path, task: str = "causal-lm", seed: int = 0) -> Path:
    """A saved, pinned, non-identity adapter of any registered method, made by the method's own spec."""
    import torch

    if spec.prepare is None:  # a spec without a trainer: fall back to PEFT directly
        make_adapter(base_dir, out, spec.name, seed=seed, task=task)
        return pin_adapter(out, base_dir)
    from adapters.base import load_base

    model, _ = load_base(base_dir, task=task, num_labels=3 if task == "seq-cls" else None)
    options = spec.defaults()
    trained = spec.prepare(model, options, task)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in trained.parameters():
            if param.requires_grad:
                param.add_(torch.randn(param.shape, generator=gen) * 0.3)
    spec.save(trained, out, options)
    return pin_adapter(out, base_dir, {"method": spec.name, "task": task})
