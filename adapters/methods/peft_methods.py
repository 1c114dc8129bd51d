"""PEFT-backed methods (LoRA/DoRA, IA3, prompt, prefix and p-tuning) as registry specs.

Training wraps the frozen base with ``peft.get_peft_model`` and saving uses PEFT's own
``save_pretrained``, so every adapter we publish loads with unmodified
``PeftModel.from_pretrained``. Loading for stacking goes through ``adapters.runtime``,
which hooks the saved tensors onto the base without PEFT's wrappers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..errors import AdapterError
from ..registry import MethodOption, MethodSpec
from .peft_combine import IA3_COMBINATIONS, LORA_COMBINATIONS, combine_ia3, combine_lora
from .peft_compat import bridge_prefix_seq_cls

__all__ = ["LORA", "IA3", "PROMPT_TUNING", "PREFIX_TUNING", "P_TUNING", "auto_target_modules"]

_TASK_TYPES = {"causal-lm": "CAUSAL_LM", "seq-cls": "SEQ_CLS"}
_ALL_OBJECTIVES = ("causal-lm", "seq-cls", "dpo")

# Attention projections per family, in preference order; LLaMA-like first, then BERT, GPT-2, others.
_LORA_TARGET_CANDIDATES = (("q_proj", "v_proj"), ("query", "value"), ("c_attn",), ("qkv_proj",),
                           ("query_key_value",), ("Wqkv",))


def _task_type(task: str):
    from peft import TaskType

    try:
        return TaskType[_TASK_TYPES[task]]
    except KeyError:
        raise AdapterError(f"unknown task {task!r} (known: {', '.join(_TASK_TYPES)})") from None


def _module_leaf_names(model) -> set[str]:
    return {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}


def auto_target_modules(model) -> list[str]:
    """The attention projections LoRA adapts on this architecture (q/v for LLaMA, query/value for BERT)."""
    leaves = _module_leaf_names(model)
    for candidate in _LORA_TARGET_CANDIDATES:
        if all(c in leaves for c in candidate):
            return list(candidate)
    raise AdapterError(f"cannot pick LoRA target modules for {type(model).__name__}; pass --target-modules")


def _split_modules(value: Any) -> list[str] | None:
    if value in (None, "", "auto"):
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def _wrap(model, config):
    import warnings

    from peft import get_peft_model

    for param in model.parameters():
        param.requires_grad_(False)
    with warnings.catch_warnings():  # PEFT reads an attribute transformers has deprecated; not the user's concern
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, config)


def _save(trained, out_dir, options: dict) -> None:
    """PEFT's own layout: adapter_config.json + adapter_model.safetensors."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    trained.save_pretrained(str(out_dir), safe_serialization=True)
    if not (out_dir / "adapter_model.safetensors").is_file():
        raise AdapterError(f"{out_dir}: PEFT did not write adapter_model.safetensors")


def _detector(*peft_types: str) -> Callable[[dict], bool]:
    def detect(config: dict) -> bool:
        return str(config.get("peft_type", "")).upper() in peft_types

    return detect


def _runtime_attach(module: str) -> Callable[..., Any]:
    """Import ``adapters.runtime.<module>`` only when an adapter is actually attached."""

    def attach(model, adapter_dir, weight: float = 1.0, name: str | None = None):
        import importlib

        return importlib.import_module(f"adapters.runtime.{module}").attach(model, adapter_dir, weight=weight,
                                                                            name=name)

    attach.__name__ = f"attach_{module}"
    return attach


def _lora_factors(adapter_dir):
    from ..runtime.lora_factors import low_rank_factors

    return low_rank_factors(adapter_dir)


# ---- LoRA -----------------------------------------------------------------------------------

def _lora_config(model, options: dict, task: str):
    from peft import LoraConfig

    targets = _split_modules(options.get("target_modules")) or auto_target_modules(model)
    return LoraConfig(task_type=_task_type(task), r=int(options.get("r", 8)),
                      lora_alpha=int(options.get("lora_alpha", 16)),
                      lora_dropout=float(options.get("lora_dropout", 0.05)), target_modules=targets,
                      use_dora=bool(options.get("use_dora", False)),
                      use_rslora=bool(options.get("use_rslora", False)), bias="none")


def _prepare_lora(model, options: dict, task: str):
    return _wrap(model, _lora_config(model, options, task))


LORA = MethodSpec(
    name="lora",
    summary="Low-rank updates to attention projections (optionally DoRA / rsLoRA); mergeable into the base.",
    prepare=_prepare_lora, save=_save, detect=_detector("LORA"), attach=_runtime_attach("lora"),
    options=(
        MethodOption("r", int, 8, "rank of the update matrices"),
        MethodOption("lora_alpha", int, 16, "scaling numerator (scale = alpha / r, or alpha / sqrt(r) with rsLoRA)"),
        MethodOption("lora_dropout", float, 0.05, "dropout on the adapter input during training"),
        MethodOption("target_modules", str, "auto",
                     "comma-separated module names; auto = q_proj,v_proj (LLaMA) or query,value (BERT)"),
        MethodOption("use_dora", bool, False, "weight-decomposed LoRA (DoRA)"),
        MethodOption("use_rslora", bool, False, "rank-stabilised scaling alpha / sqrt(r)"),
    ),
    mergeable=True, combinable=True, combine=combine_lora, combinations=LORA_COMBINATIONS,
    objectives=_ALL_OBJECTIVES, quantizable=True, peft_config=_lora_config, low_rank_factors=_lora_factors,
)


# ---- IA3 ------------------------------------------------------------------------------------

def _ia3_config(model, options: dict, task: str):
    from peft import IA3Config

    targets = _split_modules(options.get("target_modules"))
    feedforward = _split_modules(options.get("feedforward_modules"))
    if feedforward is not None and targets is None:
        raise AdapterError("ia3: --feedforward-modules needs --target-modules too")
    return IA3Config(task_type=_task_type(task), target_modules=targets, feedforward_modules=feedforward)


def _prepare_ia3(model, options: dict, task: str):
    try:
        return _wrap(model, _ia3_config(model, options, task))
    except ValueError as exc:
        raise AdapterError(f"ia3: {exc}; pass --target-modules and --feedforward-modules") from None


IA3 = MethodSpec(
    name="ia3",
    summary="Learned rescaling of keys, values and feed-forward activations (IA3); tiny and mergeable.",
    prepare=_prepare_ia3, save=_save, detect=_detector("IA3"), attach=_runtime_attach("ia3"),
    options=(
        MethodOption("target_modules", str, "auto", "comma-separated modules to rescale; auto = PEFT's per-model default"),
        MethodOption("feedforward_modules", str, "auto", "which of the targets are feed-forward (scaled on input)"),
    ),
    mergeable=True, combinable=True, combine=combine_ia3, combinations=IA3_COMBINATIONS,
    objectives=_ALL_OBJECTIVES, quantizable=True, peft_config=_ia3_config,
)


# ---- Virtual-token methods ------------------------------------------------------------------

def _prompt_config(model, options: dict, task: str):
    from peft import PromptTuningConfig

    return PromptTuningConfig(task_type=_task_type(task), num_virtual_tokens=int(options.get("num_virtual_tokens", 16)))


def _prefix_config(model, options: dict, task: str):
    from peft import PrefixTuningConfig

    return PrefixTuningConfig(task_type=_task_type(task), num_virtual_tokens=int(options.get("num_virtual_tokens", 16)),
                              prefix_projection=bool(options.get("prefix_projection", False)),
                              encoder_hidden_size=int(options.get("encoder_hidden_size", 128)))


def _prepare_prefix(model, options: dict, task: str):
    return bridge_prefix_seq_cls(_wrap(model, _prefix_config(model, options, task)))


def _p_tuning_config(model, options: dict, task: str):
    from peft import PromptEncoderConfig

    return PromptEncoderConfig(task_type=_task_type(task), num_virtual_tokens=int(options.get("num_virtual_tokens", 16)),
                               encoder_hidden_size=int(options.get("encoder_hidden_size", 128)),
                               encoder_reparameterization_type=str(options.get("encoder_type", "MLP")).upper())


def _wrapping(build: Callable[..., Any]) -> Callable[..., Any]:
    """``prepare`` for a method given by its PEFT config builder."""

    def prepare(model, options: dict, task: str):
        return _wrap(model, build(model, options, task))

    return prepare


_VIRTUAL_NOTE = "virtual tokens lengthen every sequence; they cannot be merged into the weights"

PROMPT_TUNING = MethodSpec(
    name="prompt_tuning",
    summary="Learned soft-prompt embeddings prepended to the input; the base is untouched.",
    prepare=_wrapping(_prompt_config), save=_save, detect=_detector("PROMPT_TUNING"), attach=_runtime_attach("prompt"),
    options=(MethodOption("num_virtual_tokens", int, 16, "number of learned prompt tokens"),),
    objectives=_ALL_OBJECTIVES, quantizable=True, peft_config=_prompt_config, prepares_inputs=True,
    default_lr=3e-2,  # soft prompts need far bigger steps than LoRA
    extra={"latency_note": _VIRTUAL_NOTE},
)

PREFIX_TUNING = MethodSpec(
    name="prefix_tuning",
    summary="Learned key/value prefixes in every attention layer; the base is untouched.",
    prepare=_prepare_prefix, save=_save, detect=_detector("PREFIX_TUNING"), attach=_runtime_attach("prefix"),
    options=(
        MethodOption("num_virtual_tokens", int, 16, "prefix length per layer"),
        MethodOption("prefix_projection", bool, False, "reparameterise the prefix through an MLP while training"),
        MethodOption("encoder_hidden_size", int, 128, "hidden size of that MLP"),
    ),
    objectives=_ALL_OBJECTIVES, quantizable=True, peft_config=_prefix_config,
    checkpointable=False,  # PEFT feeds the prefix as a cache, which gradient checkpointing cannot replay
    prepares_inputs=True, default_lr=1e-2, extra={"latency_note": _VIRTUAL_NOTE},
)

P_TUNING = MethodSpec(
    name="p_tuning",
    summary="Soft prompt produced by a small trained encoder (P-tuning); saved as prompt embeddings.",
    prepare=_wrapping(_p_tuning_config), save=_save, detect=_detector("P_TUNING"), attach=_runtime_attach("prompt"),
    options=(
        MethodOption("num_virtual_tokens", int, 16, "number of learned prompt tokens"),
        MethodOption("encoder_hidden_size", int, 128, "hidden size of the prompt encoder"),
        MethodOption("encoder_type", str, "MLP", "prompt encoder: MLP or LSTM"),
    ),
    objectives=_ALL_OBJECTIVES, quantizable=True, peft_config=_p_tuning_config,
    prepares_inputs=True, default_lr=1e-2, extra={"latency_note": _VIRTUAL_NOTE},
)
