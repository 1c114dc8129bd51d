"""LoRA (and DoRA, rsLoRA): low-rank updates to chosen Linear layers, trained and saved with PEFT.

Everything LoRA is in this folder: the spec and its PEFT config (here), the saved adapter as hooks on a
base (``hooks``), as exact low-rank factors for ``hub compose`` (``factors``), and ``hub combine``
(``combine``). The hooks run in the one fused engine, ``adapters.runtime.fused``.
"""

from __future__ import annotations

from ...errors import AdapterError
from ...registry import MethodOption, MethodSpec
from ..peft_shared import (
    ALL_OBJECTIVES,
    detector,
    lazy_attach,
    load_trainable,
    save,
    split_modules,
    task_type,
    wrap,
)
from .combine import LORA_COMBINATIONS, combine_lora

__all__ = ["LORA", "auto_target_modules"]

# Attention projections per family, in preference order; LLaMA-like first, then BERT, GPT-2, others.
_LORA_TARGET_CANDIDATES = (
    ("q_proj", "v_proj"),
    ("query", "value"),
    ("c_attn",),
    ("qkv_proj",),
    ("query_key_value",),
    ("Wqkv",),
)


def _module_leaf_names(model) -> set[str]:
    return {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}


def auto_target_modules(model) -> list[str]:
    """The attention projections LoRA adapts on this architecture (q/v for LLaMA, query/value for BERT)."""
    leaves = _module_leaf_names(model)
    for candidate in _LORA_TARGET_CANDIDATES:
        if all(c in leaves for c in candidate):
            return list(candidate)
    raise AdapterError(f"cannot pick LoRA target modules for {type(model).__name__}; pass --target-modules")


def _lora_factors(adapter_dir):
    from .factors import low_rank_factors

    return low_rank_factors(adapter_dir)


def _lora_config(model, options: dict, task: str):
    from peft import LoraConfig

    targets = split_modules(options.get("target_modules")) or auto_target_modules(model)
    return LoraConfig(
        task_type=task_type(task),
        r=int(options.get("r", 8)),
        lora_alpha=int(options.get("lora_alpha", 16)),
        lora_dropout=float(options.get("lora_dropout", 0.05)),
        target_modules=targets,
        use_dora=bool(options.get("use_dora", False)),
        use_rslora=bool(options.get("use_rslora", False)),
        bias="none",
    )


def _prepare_lora(model, options: dict, task: str):
    return wrap(model, _lora_config(model, options, task))


LORA = MethodSpec(
    name="lora",
    summary="Low-rank updates to attention projections (optionally DoRA / rsLoRA); mergeable into the base.",
    prepare=_prepare_lora,
    save=save,
    detect=detector("LORA"),
    attach=lazy_attach("adapters.methods.lora.hooks"),
    options=(
        MethodOption("r", int, 8, "rank of the update matrices"),
        MethodOption("lora_alpha", int, 16, "scaling numerator (scale = alpha / r, or alpha / sqrt(r) with rsLoRA)"),
        MethodOption("lora_dropout", float, 0.05, "dropout on the adapter input during training"),
        MethodOption(
            "target_modules",
            str,
            "auto",
            "comma-separated module names; auto = q_proj,v_proj (LLaMA) or query,value (BERT)",
        ),
        MethodOption("use_dora", bool, False, "weight-decomposed LoRA (DoRA)"),
        MethodOption("use_rslora", bool, False, "rank-stabilised scaling alpha / sqrt(r)"),
    ),
    mergeable=True,
    combinable=True,
    combine=combine_lora,
    combinations=LORA_COMBINATIONS,
    objectives=ALL_OBJECTIVES,
    quantizable=True,
    peft_config=_lora_config,
    low_rank_factors=_lora_factors,
    load_trainable=load_trainable,
)
