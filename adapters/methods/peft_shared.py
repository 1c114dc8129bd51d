"""What the PEFT-backed methods (LoRA/DoRA, IA3, prompt, prefix and p-tuning) share as registry specs.

Training wraps the frozen base with ``peft.get_peft_model`` and saving uses PEFT's own
``save_pretrained``, so every adapter we publish loads with unmodified
``PeftModel.from_pretrained``. Loading for stacking goes through each method's ``hooks`` module, which
hooks the saved tensors onto the base without PEFT's wrappers (``adapters.runtime`` holds the one fused engine).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import AdapterError

__all__ = [
    "ALL_OBJECTIVES",
    "TASK_TYPES",
    "VIRTUAL_NOTE",
    "detector",
    "lazy_attach",
    "load_trainable",
    "save",
    "split_modules",
    "task_type",
    "wrap",
    "wrapping",
]

TASK_TYPES = {"causal-lm": "CAUSAL_LM", "seq-cls": "SEQ_CLS"}
ALL_OBJECTIVES = ("causal-lm", "seq-cls", "dpo", "distill", "reward", "grpo")


def task_type(task: str):
    from peft import TaskType

    try:
        return TaskType[TASK_TYPES[task]]
    except KeyError:
        raise AdapterError(f"unknown task {task!r} (known: {', '.join(TASK_TYPES)})") from None


def split_modules(value: Any) -> list[str] | None:
    if value in (None, "", "auto"):
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def wrap(model, config):
    import warnings

    from peft import get_peft_model

    for param in model.parameters():
        param.requires_grad_(False)
    with warnings.catch_warnings():  # PEFT reads an attribute transformers has deprecated; not the user's concern
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, config)


def save(trained, out_dir, options: dict) -> None:
    """PEFT's own layout: adapter_config.json + adapter_model.safetensors."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    trained.save_pretrained(str(out_dir), safe_serialization=True)
    if not (out_dir / "adapter_model.safetensors").is_file():
        raise AdapterError(f"{out_dir}: PEFT did not write adapter_model.safetensors")


def load_trainable(trainable, adapter_dir, options: dict) -> None:
    """``hub train --from``: the saved PEFT tensors into the freshly wrapped model (PEFT's own
    ``set_peft_model_state_dict``, in place, so they stay trainable); a tensor that fits nowhere is refused."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    path = Path(adapter_dir) / "adapter_model.safetensors"
    if not path.is_file():
        raise AdapterError(f"{adapter_dir}: no adapter_model.safetensors to continue from")
    tensors = load_file(str(path))
    try:
        found = set_peft_model_state_dict(trainable, tensors)
    except (RuntimeError, KeyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AdapterError(f"{adapter_dir}: its tensors do not fit this run's adapter ({first})") from None
    unexpected = list(getattr(found, "unexpected_keys", ()) or ())
    if getattr(getattr(trainable, "active_peft_config", None), "is_prompt_learning", False):
        unexpected = [k for k in unexpected if k != "prompt_embeddings"]  # PEFT loads it into the prompt encoder
    if unexpected:
        raise AdapterError(
            f"{adapter_dir}: {len(unexpected)} of its tensors do not fit this run's adapter (e.g. {unexpected[0]})"
        )


def detector(*peft_types: str) -> Callable[[dict], bool]:
    def detect(config: dict) -> bool:
        return str(config.get("peft_type", "")).upper() in peft_types

    return detect


def lazy_attach(module: str) -> Callable[..., Any]:
    """Import the method's hooks module (``adapters.methods.<name>.hooks``) only when an adapter is attached."""

    def attach(model, adapter_dir, weight: float = 1.0, name: str | None = None):
        import importlib

        return importlib.import_module(module).attach(model, adapter_dir, weight=weight, name=name)

    attach.__name__ = f"attach_{module.split('.')[-2]}"
    return attach


def wrapping(build: Callable[..., Any]) -> Callable[..., Any]:
    """``prepare`` for a method given by its PEFT config builder."""

    def prepare(model, options: dict, task: str):
        return wrap(model, build(model, options, task))

    return prepare


VIRTUAL_NOTE = "virtual tokens lengthen every sequence; they cannot be merged into the weights"
