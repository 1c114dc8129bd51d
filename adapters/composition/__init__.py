"""Making one adapter from several: ``hub combine`` (``combine``, each method's own way) and ``hub find`` /
``hub compose`` from a handful of examples (``from_examples``, scored with ``few_shot``, weighted through
the fused low-rank hooks of ``deltas``, carded by ``card``). Names are loaded lazily.
"""

from __future__ import annotations

from ..lazy_exports import lazy_getattr

_EXPORTS: dict[str, str] = {
    "combine_adapters": "adapters.composition.combine",
    "Candidate": "adapters.composition.from_examples",
    "Scored": "adapters.composition.from_examples",
    "Skipped": "adapters.composition.from_examples",
    "FindResult": "adapters.composition.from_examples",
    "ComposeResult": "adapters.composition.from_examples",
    "score_candidates": "adapters.composition.from_examples",
    "compose": "adapters.composition.from_examples",
    "Examples": "adapters.composition.few_shot",
    "read_examples": "adapters.composition.few_shot",
    "FusedDeltas": "adapters.composition.deltas",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
