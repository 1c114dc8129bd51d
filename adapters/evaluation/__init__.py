"""Judging adapters on held-out data: ``heldout`` (``hub evaluate``: exact match, perplexity, accuracy,
preference pairs; perplexity itself in ``perplexity``) ``matrix`` (every adapter on every task, ``hub evaluate --table``) and ``agreement`` (an adapter against a
teacher, ``hub evaluate --teacher``). Names are loaded lazily.
"""

from __future__ import annotations

from ..lazy_exports import lazy_getattr

_EXPORTS: dict[str, str] = {
    "EvalResult": "adapters.evaluation.heldout",
    "evaluate": "adapters.evaluation.heldout",
    "evaluate_pairs": "adapters.evaluation.heldout",
    "greedy_batch": "adapters.evaluation.heldout",
    "normalise": "adapters.evaluation.heldout",
    "perplexity": "adapters.evaluation.perplexity",
    "evaluate_matrix": "adapters.evaluation.matrix",
    "evaluate_agreement": "adapters.evaluation.agreement",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
