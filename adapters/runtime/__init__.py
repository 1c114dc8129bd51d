"""Adapters running on a base: the stack (``stack``), merging it into the weights (``merge``), generating
(``generation``), and the ONE fused engine every method's hooks feed (``fused``: one hook per module,
however many adapters). Each method's own hooks live in its folder, ``adapters.methods.<name>.hooks``;
``saved_files``, ``lifecycle`` and ``cache_kwarg`` are what they share. Names are loaded lazily.
"""

from __future__ import annotations

from ..lazy_exports import lazy_getattr

_EXPORTS: dict[str, str] = {
    "AdapterStack": "adapters.runtime.stack",
    "load_stack": "adapters.runtime.stack",
    "adapter_front": "adapters.runtime.stack",
    "merge_to_dir": "adapters.runtime.merge",
    "MergeResult": "adapters.runtime.merge",
    "greedy_generate": "adapters.runtime.generation",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
