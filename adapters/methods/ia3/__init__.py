"""IA3: learned rescaling of keys, values and feed-forward activations, trained and saved with PEFT.

The spec and its PEFT config (here), the saved adapter as hooks on a base (``hooks``, run by the fused
engine ``adapters.runtime.fused``), and ``hub combine`` (``combine``).
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
from .combine import IA3_COMBINATIONS, combine_ia3

__all__ = ["IA3"]


def _ia3_config(model, options: dict, task: str):
    from peft import IA3Config

    targets = split_modules(options.get("target_modules"))
    feedforward = split_modules(options.get("feedforward_modules"))
    if feedforward is not None and targets is None:
        raise AdapterError("ia3: --feedforward-modules needs --target-modules too")
    return IA3Config(task_type=task_type(task), target_modules=targets, feedforward_modules=feedforward)


def _prepare_ia3(model, options: dict, task: str):
    try:
        return wrap(model, _ia3_config(model, options, task))
    except ValueError as exc:
        raise AdapterError(f"ia3: {exc}; pass --target-modules and --feedforward-modules") from None


IA3 = MethodSpec(
    name="ia3",
    summary="Learned rescaling of keys, values and feed-forward activations (IA3); tiny and mergeable.",
    prepare=_prepare_ia3,
    save=save,
    detect=detector("IA3"),
    attach=lazy_attach("adapters.methods.ia3.hooks"),
    options=(
        MethodOption(
            "target_modules", str, "auto", "comma-separated modules to rescale; auto = PEFT's per-model default"
        ),
        MethodOption("feedforward_modules", str, "auto", "which of the targets are feed-forward (scaled on input)"),
    ),
    mergeable=True,
    combinable=True,
    combine=combine_ia3,
    combinations=IA3_COMBINATIONS,
    objectives=ALL_OBJECTIVES,
    quantizable=True,
    peft_config=_ia3_config,
    load_trainable=load_trainable,
)
