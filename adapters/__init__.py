"""Adapter Hub's ML core: methods, base pinning, training, stacking, merging.

Rooms: ``base/`` (the pinned base model), ``training/`` (one run, one module per objective),
``methods/`` (one folder per method, each a ``MethodSpec`` plugin), ``runtime/`` (stacks, merging and the
one fused engine), ``composition/`` (combining adapters, composing from examples), ``evaluation/``; beside
them the pieces every room shares: ``card``, ``registry``, ``resolver``, ``errors``, ``provenance``.

Attributes are loaded lazily (PEP 562) so that pure-Python pieces such as
``adapters.card`` and ``adapters.base.fingerprint`` never import torch.

Importing warns once (``AdaptersNameClash``) when AdapterHub's ``adapters`` distribution, which uses the
same import name, is installed in this environment too (distribution metadata only, see
``hub_rules.import_clash``).
"""

from __future__ import annotations

import warnings

from hub_rules.import_clash import AdaptersNameClash, adapters_clash

from .lazy_exports import lazy_getattr

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
    "BasePin": "adapters.base.pin",
    "resolve_base": "adapters.base.load",
    "Resolver": "adapters.resolver",
    "find_base": "adapters.base.lookup",
    "BaseNotFound": "adapters.base.lookup",
    "indexed_bases": "adapters.base.index",
    "pin_for": "adapters.base.load",
    "load_base": "adapters.base.load",
    "check_pin": "adapters.base.load",
    "CardData": "adapters.card",
    "read_card": "adapters.card",
    "write_card": "adapters.card",
    "import_gguf": "adapters.base.gguf_import",
    "gguf_model_id": "adapters.base.gguf_import",
    "train": "adapters.training.run",
    "TrainResult": "adapters.training.run",
    "evaluate": "adapters.evaluation.heldout",
    "evaluate_pairs": "adapters.evaluation.heldout",
    "EvalResult": "adapters.evaluation.heldout",
    "read_pairs": "adapters.training.preferences",
    "get_objective": "adapters.training.objectives",
    "list_objectives": "adapters.training.objectives",
    "QUANTIZATIONS": "adapters.training.quantize",
    "AdapterStack": "adapters.runtime.stack",
    "load_stack": "adapters.runtime.stack",
    "merge_to_dir": "adapters.runtime.merge",
    "MergeResult": "adapters.runtime.merge",
    "combine_adapters": "adapters.composition.combine",
    "Candidate": "adapters.composition.from_examples",
    "score_candidates": "adapters.composition.from_examples",
    "compose": "adapters.composition.from_examples",
    "read_examples": "adapters.composition.few_shot",
    "evaluate_matrix": "adapters.evaluation.matrix",
}

__all__ = sorted([*_EXPORTS, "AdaptersNameClash"])


__getattr__ = lazy_getattr(__name__, _EXPORTS)
