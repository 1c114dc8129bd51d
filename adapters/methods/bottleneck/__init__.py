"""Bottleneck adapters (Houlsby / Pfeiffer): this project's own method, registered like any plugin."""

from __future__ import annotations

from ...registry import MethodOption, MethodSpec

__all__ = ["BOTTLENECK"]


def _detect(config: dict) -> bool:
    return str(config.get("peft_type", "")).upper() == "BOTTLENECK"


def _prepare(model, options, task):
    from .method import prepare

    return prepare(model, options, task)


def _save(trained, out_dir, options):
    from .method import save

    return save(trained, out_dir, options)


def _load_trainable(trainable, adapter_dir, options):
    from .method import load_trainable

    return load_trainable(trainable, adapter_dir, options)


def _attach(model, adapter_dir, weight=1.0, name=None):
    from .method import attach

    return attach(model, adapter_dir, weight=weight, name=name)


BOTTLENECK = MethodSpec(
    name="bottleneck",
    summary="Small down/up projection blocks after attention and/or feed-forward (Houlsby, Pfeiffer); not mergeable.",
    prepare=_prepare,
    save=_save,
    detect=_detect,
    attach=_attach,
    options=(
        MethodOption(
            "variant", str, "pfeiffer", "pfeiffer (after feed-forward) or houlsby (after attention and feed-forward)"
        ),
        MethodOption("reduction_factor", int, 16, "bottleneck width = hidden_size / reduction_factor"),
        MethodOption("non_linearity", str, "relu", "relu, gelu, silu or tanh"),
        MethodOption("residual", bool, True, "add the adapter output to its input (identity when untrained)"),
    ),
    mergeable=False,
    # supervised only, full precision only: its layers take the dtype of the base weights (packed integers
    # on a quantized base), and TRL's trainers wrap models through PEFT configs, which this method has none of;
    # distill runs on its own prepare (a teacher that is the base alone is then a second copy of the base)
    objectives=("causal-lm", "seq-cls", "distill"),
    quantizable=False,
    load_trainable=_load_trainable,
    extra={"latency_note": "two small matmuls and a non-linearity per adapted block; cannot be merged"},
)
