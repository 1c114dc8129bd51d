"""What a published adapter can do, read from its own files, so the hub (which never imports the ML
core) offers only instructions that work: ``hub merge`` only for a mergeable adapter, PEFT's loader only
for an adapter PEFT knows, and the model class of its task.

A card may declare the facts itself (``adapter_hub.capabilities: {mergeable, peft}``, written from the
method's ``MethodSpec``); otherwise they follow from ``adapter_config.json``'s ``peft_type``, PEFT's own
field: PEFT loads the types in ``PEFT_TYPES`` and folds the ones in ``PEFT_MERGEABLE`` into the weights.
Anything else (a native method such as ``BOTTLENECK``, or no config at all) is neither."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PEFT_MERGEABLE", "PEFT_TYPES", "Capabilities", "capabilities"]

# PEFT's PeftType values that merge_and_unload folds into the base weights
PEFT_MERGEABLE = frozenset({"LORA", "ADALORA", "IA3", "LOHA", "LOKR", "OFT", "BOFT", "VERA", "FOURIERFT", "HRA"})
# every PeftType PeftModel.from_pretrained loads (the mergeable ones and the prompt-learning family)
PEFT_TYPES = PEFT_MERGEABLE | frozenset(
    {
        "PROMPT_TUNING",
        "P_TUNING",
        "PREFIX_TUNING",
        "MULTITASK_PROMPT_TUNING",
        "ADAPTION_PROMPT",
        "LN_TUNING",
        "POLY",
        "XLORA",
    }
)
TASKS = ("causal-lm", "seq-cls")


@dataclass(frozen=True)
class Capabilities:
    mergeable: bool
    peft: bool  # ``PeftModel.from_pretrained`` loads it
    task: str  # ``causal-lm`` or ``seq-cls``


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _flag(declared: dict[str, Any], name: str, derived: bool) -> bool:
    value = declared.get(name)
    return value if isinstance(value, bool) else derived


def capabilities(front: dict[str, Any] | None, adapter_config: dict[str, Any] | None) -> Capabilities:
    """The adapter's capabilities from its card's front matter and its ``adapter_config.json`` (either may
    be missing or malformed: then nothing is assumed)."""
    hub = _mapping(_mapping(front).get("adapter_hub"))
    declared = _mapping(hub.get("capabilities"))
    config = _mapping(adapter_config)
    peft_type = config.get("peft_type")
    peft_type = peft_type.upper() if isinstance(peft_type, str) else ""
    declared_task = hub.get("task")
    task = declared_task if isinstance(declared_task, str) and declared_task in TASKS else "causal-lm"
    return Capabilities(
        mergeable=_flag(declared, "mergeable", peft_type in PEFT_MERGEABLE),
        peft=_flag(declared, "peft", peft_type in PEFT_TYPES),
        task=task,
    )
