"""Prefix tuning: learned key/value prefixes in every attention layer (PEFT); the base is untouched.

The spec and its PEFT config (here), the saved prefix as a cache handed to the base (``hooks``), and the
bridge that keeps PEFT's seq-cls prefix training working across a transformers rename (``seq_cls_bridge``).
"""

from __future__ import annotations

from ...errors import AdapterError
from ...registry import MethodOption, MethodSpec
from ..peft_shared import ALL_OBJECTIVES, VIRTUAL_NOTE, detector, lazy_attach, load_trainable, save, task_type, wrap
from .seq_cls_bridge import bridge_prefix_seq_cls

__all__ = ["PREFIX_TUNING"]


def _prefix_config(model, options: dict, task: str):
    from peft import PrefixTuningConfig

    return PrefixTuningConfig(
        task_type=task_type(task),
        num_virtual_tokens=int(options.get("num_virtual_tokens", 16)),
        prefix_projection=bool(options.get("prefix_projection", False)),
        encoder_hidden_size=int(options.get("encoder_hidden_size", 128)),
    )


def _load_trainable(trainable, adapter_dir, options: dict) -> None:
    """Without a projection the saved prefix is the trained parameter itself; with one, PEFT saves the MLP's
    output, which cannot be put back into the MLP."""
    if options.get("prefix_projection"):
        raise AdapterError(
            f"{adapter_dir}: a prefix trained with prefix_projection saves only its projected output; "
            "it cannot be trained further (--from)"
        )
    load_trainable(trainable, adapter_dir, options)


def _prepare_prefix(model, options: dict, task: str):
    return bridge_prefix_seq_cls(wrap(model, _prefix_config(model, options, task)))


PREFIX_TUNING = MethodSpec(
    name="prefix_tuning",
    summary="Learned key/value prefixes in every attention layer; the base is untouched.",
    prepare=_prepare_prefix,
    save=save,
    detect=detector("PREFIX_TUNING"),
    attach=lazy_attach("adapters.methods.prefix.hooks"),
    options=(
        MethodOption("num_virtual_tokens", int, 16, "prefix length per layer"),
        MethodOption("prefix_projection", bool, False, "reparameterise the prefix through an MLP while training"),
        MethodOption("encoder_hidden_size", int, 128, "hidden size of that MLP"),
    ),
    # no reward: TRL's RewardTrainer wraps the seq-cls model itself, without the bridge prefix seq-cls needs
    objectives=tuple(o for o in ALL_OBJECTIVES if o != "reward"),
    quantizable=True,
    peft_config=_prefix_config,
    load_trainable=_load_trainable,
    checkpointable=False,  # PEFT feeds the prefix as a cache, which gradient checkpointing cannot replay
    prepares_inputs=True,
    default_lr=1e-2,
    extra={"latency_note": VIRTUAL_NOTE},
)
