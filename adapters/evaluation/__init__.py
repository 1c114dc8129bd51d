"""Judging adapters on held-out data: ``heldout`` (``hub evaluate``: exact match, accuracy, preference pairs)
and ``matrix`` (every adapter on every task, ``hub evaluate --table``). Names are loaded lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "EvalResult": "adapters.evaluation.heldout",
    "evaluate": "adapters.evaluation.heldout",
    "evaluate_pairs": "adapters.evaluation.heldout",
    "greedy_batch": "adapters.evaluation.heldout",
    "normalise": "adapters.evaluation.heldout",
    "evaluate_matrix": "adapters.evaluation.matrix",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
