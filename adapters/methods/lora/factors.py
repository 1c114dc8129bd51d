"""A saved LoRA as exact low-rank factors per Linear layer: ``delta W = B @ A`` with the scale folded into B.

Why: composing adapters (``adapters.composition.from_examples``) needs every candidate as a sum of deltas it can weight and
concatenate (ranks side by side), whatever each candidate's rank, alpha or target modules. DoRA is not such
a sum (it rescales rows by a weight-dependent norm), so it is refused with its reason.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ...errors import AdapterError
from ...runtime.saved_files import module_path, pattern_value, read_adapter
from .hooks import refuse_unsupported

__all__ = ["low_rank_factors"]


def low_rank_factors(adapter_dir: Path | str) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{module path: (A (r, in), scale * B (out, r))}`` for every adapted Linear of the base."""
    adapter_dir = Path(adapter_dir)
    config, tensors = read_adapter(adapter_dir)
    refuse_unsupported(config, adapter_dir)
    if config.get("use_dora"):
        raise AdapterError(f"{adapter_dir}: DoRA is not a sum of low-rank deltas; it cannot be composed")
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if ".lora_A." in key or ".lora_B." in key:
            path, part = key.rsplit(".lora_", 1)
            pairs.setdefault(module_path(path), {})[part.split(".")[0]] = value
        elif "lora_" in key:
            raise AdapterError(f"{adapter_dir}: {key.rsplit('.', 2)[-2]} layers cannot be composed")
        else:
            raise AdapterError(f"{adapter_dir}: saved module {key} (e.g. a trained head) cannot be composed")
    factors: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for path, ab in sorted(pairs.items()):
        if set(ab) != {"A", "B"}:
            raise AdapterError(f"{adapter_dir}: {path} lacks lora_A or lora_B")
        a, b = ab["A"], ab["B"]
        r = a.shape[0]
        alpha = pattern_value(config.get("alpha_pattern"), path, config.get("lora_alpha", 8))
        scale = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
        factors[path] = (a, b * float(scale))
    if not factors:
        raise AdapterError(f"{adapter_dir}: no LoRA weights found")
    return factors
