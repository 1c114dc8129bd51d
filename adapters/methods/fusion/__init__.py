"""AdapterFusion (Pfeiffer et al. 2021): several trained bottleneck adapters combined by a learned attention.

``hub train --method fusion --adapters REF,REF,...`` trains only the fusion layers on a target task; the members
(local directories or ``ns/name@version``, pulled through the caller's resolver) stay frozen and are saved
inside the adapter. Registered like any plugin.
"""

from __future__ import annotations

from ...registry import MethodOption, MethodSpec

__all__ = ["FUSION"]


def _detect(config: dict) -> bool:
    return str(config.get("peft_type", "")).upper() == "FUSION"


def _prepare(model, options, task):
    from .method import prepare

    return prepare(model, options, task)


def _save(trained, out_dir, options):
    from .method import save

    return save(trained, out_dir, options)


def _attach(model, adapter_dir, weight=1.0, name=None):
    from .method import attach

    return attach(model, adapter_dir, weight=weight, name=name)


def _resolve_options(options, pin=None, resolver=None, allow_base_mismatch=False):
    from .method import resolve_options

    return resolve_options(options, pin=pin, resolver=resolver, allow_base_mismatch=allow_base_mismatch)


def _lineage(adapter_dir):
    from .method import lineage

    return lineage(adapter_dir)


FUSION = MethodSpec(
    name="fusion",
    summary="AdapterFusion: a learned per-token attention over several trained bottleneck adapters "
    "(frozen, saved inside it); not mergeable.",
    prepare=_prepare,
    save=_save,
    detect=_detect,
    attach=_attach,
    options=(
        MethodOption(
            "adapters",
            list,
            (),
            "the members: bottleneck adapters on this base, comma-separated (directories or ns/name@version)",
        ),
        MethodOption(
            "value",
            bool,
            True,
            "true (default): a value projection (identity at the start) per fusion layer, AdapterHub's dynamic "
            "fusion; false: static fusion, always a convex mix of the members' outputs",
        ),
    ),
    mergeable=False,
    # supervised only, full precision only, like its bottleneck members
    objectives=("causal-lm", "seq-cls"),
    quantizable=False,
    resolve_options=_resolve_options,
    lineage=_lineage,
    extra={
        "latency_note": "every member and an attention over their outputs per adapted block; cannot be merged",
        "members": {"method": "bottleneck", "option": "adapters"},
    },
)
