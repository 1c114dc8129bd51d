"""Adapter Hub's ML core: methods, base pinning, training, stacking, merging.

Attributes are loaded lazily (PEP 562) so that pure-Python pieces such as
``adapters.card`` and ``adapters.fingerprint`` never import torch.

Importing warns once (``AdaptersNameClash``) when AdapterHub's ``adapters`` distribution, which uses the
same import name, is installed in this environment too (distribution metadata only, see
``hub_rules.import_clash``).
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from hub_rules.import_clash import AdaptersNameClash, adapters_clash

_CLASH = adapters_clash()
if _CLASH is not None:
    warnings.warn(_CLASH, AdaptersNameClash, stacklevel=2)

_EXPORTS: dict[str, str] = {
    "AdapterError": "adapters.errors",
    "BaseMismatchError": "adapters.errors",
    "MethodSpec": "adapters.registry",
    "MethodOption": "adapters.registry",
    "get_method": "adapters.registry",
    "list_methods": "adapters.registry",
    "BasePin": "adapters.base",
    "resolve_base": "adapters.base",
    "Resolver": "adapters.resolver",
    "find_base": "adapters.base_lookup",
    "BaseNotFound": "adapters.base_lookup",
    "indexed_bases": "adapters.base_index",
    "pin_for": "adapters.base",
    "load_base": "adapters.base",
    "check_pin": "adapters.base",
    "CardData": "adapters.card",
    "read_card": "adapters.card",
    "write_card": "adapters.card",
    "import_gguf": "adapters.gguf_import",
    "gguf_model_id": "adapters.gguf_import",
    "train": "adapters.training",
    "TrainResult": "adapters.training",
    "evaluate": "adapters.evaluate",
    "evaluate_pairs": "adapters.evaluate",
    "EvalResult": "adapters.evaluate",
    "read_pairs": "adapters.preferences",
    "get_objective": "adapters.objectives",
    "list_objectives": "adapters.objectives",
    "QUANTIZATIONS": "adapters.quantize",
    "AdapterStack": "adapters.stack",
    "load_stack": "adapters.stack",
    "merge_to_dir": "adapters.merge",
    "MergeResult": "adapters.merge",
    "combine_adapters": "adapters.combine",
    "Candidate": "adapters.compose",
    "score_candidates": "adapters.compose",
    "compose": "adapters.compose",
    "read_examples": "adapters.few_shot",
    "evaluate_matrix": "adapters.evaluate_matrix",
}

__all__ = sorted([*_EXPORTS, "AdaptersNameClash"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'adapters' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
