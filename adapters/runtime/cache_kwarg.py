"""Which keyword a model's forward takes for its key/value cache, and how to read it back.

transformers 5.24 renamed ``past_key_values`` to ``cache`` (the old name is a deprecated alias due to be
removed); earlier releases know only ``past_key_values``. The runtime asks the model instead of
comparing version numbers, so it works on both sides of the rename.
"""

from __future__ import annotations

import inspect
from functools import lru_cache
from typing import Any

from torch import nn

NAMES = ("cache", "past_key_values")


@lru_cache(maxsize=64)
def _takes_cache(forward_owner: type) -> bool:
    return "cache" in inspect.signature(forward_owner.forward).parameters


def cache_argument(model: nn.Module) -> str:
    """``"cache"`` when the model (or its backbone) names the argument so, else ``"past_key_values"``."""
    backbone = getattr(model, "base_model", model)
    for owner in (type(model), type(backbone)):
        if _takes_cache(owner):
            return "cache"
    return "past_key_values"


def given_cache(inputs: dict) -> Any:
    """The cache a caller already passed under either name (``None`` when there is none)."""
    for name in NAMES:
        if inputs.get(name) is not None:
            return inputs[name]
    return None


def output_cache(output: Any) -> Any:
    """The cache a forward returned, under whichever name this transformers uses."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else getattr(output, "past_key_values", None)
