"""Training an adapter: one run (``run.train``), the objectives it can fit, their data, quantized bases.

``run`` owns what every run shares (checks, the pinned base, the atomic output, the card); ``objectives``
is the registry of ways to fit, one module per objective (``supervised`` for causal-lm and seq-cls,
``dpo``) over the shared ``fit`` types; ``data`` and ``preferences`` read rows and preference pairs;
``quantize`` loads a base with bitsandbytes. Names are loaded lazily.
"""

from __future__ import annotations

from ..lazy_exports import lazy_getattr

_EXPORTS: dict[str, str] = {
    "train": "adapters.training.run",
    "TrainResult": "adapters.training.run",
    "method_defaults": "adapters.training.run",
    "DEFAULT_LR": "adapters.training.run",
    "Objective": "adapters.training.objectives",
    "get_objective": "adapters.training.objectives",
    "list_objectives": "adapters.training.objectives",
    "FitContext": "adapters.training.fit",
    "FitOutcome": "adapters.training.fit",
    "read_pairs": "adapters.training.preferences",
    "read_jsonl": "adapters.training.data",
    "QUANTIZATIONS": "adapters.training.quantize",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
