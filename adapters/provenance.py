"""The provenance record the tools write into an adapter's card (``adapter_hub.provenance``).

Written by ``hub train`` and ``hub combine``, never by hand, so a card says how its weights were
made: the base pin, the exact data (sha256 + row count), the method with every option, seed,
objective, steps, library versions and metrics -- or, for a composition, each parent as
``ns/name@version`` with its commit id and weight. The card is a file of the version, so the
record is covered by the version's signature. Pure Python: no torch import.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["composition_provenance", "data_record", "library_versions", "training_provenance"]


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape the weights."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for dist in ("adapter-hub", "torch", "transformers", "peft", "safetensors", "trl", "bitsandbytes"):
        try:
            found[dist.replace("-", "_")] = version(dist)
        except PackageNotFoundError:
            pass
    return found


def data_record(path: str | Path, rows: int) -> dict[str, Any]:
    """``{"path", "sha256", "rows"}`` of a data file (``rows``: the records read from it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return {"path": str(path), "sha256": "sha256:" + digest.hexdigest(), "rows": int(rows)}


def training_provenance(
    *,
    pin: dict,
    method: str,
    options: dict,
    task: str,
    objective: str | None,
    data: dict,
    eval_data: dict | None,
    settings: dict,
    metrics: dict,
    extra: dict | None = None,
) -> dict[str, Any]:
    """The record of one ``hub train`` run (``settings``: steps, epochs, lr, batch size, seed, ...;
    ``extra``: objective parameters such as dpo's beta, the quantization used while training)."""
    return {
        "tool": "hub train",
        "base": dict(pin),
        "data": data,
        "eval_data": eval_data,
        "method": method,
        "options": dict(options),
        "task": task,
        "objective": objective or task,
        "seed": settings.get("seed"),
        "epochs": settings.get("epochs"),
        "steps": settings.get("steps"),
        "max_steps": settings.get("max_steps"),
        "lr": settings.get("lr"),
        "batch_size": settings.get("batch_size"),
        "max_length": settings.get("max_length"),
        "versions": library_versions(),
        "metrics": {k: round(float(v), 6) for k, v in metrics.items()},
        **{k: v for k, v in (extra or {}).items() if v is not None},
    }


def composition_provenance(
    *, tool: str, pin: dict, how: str, parents: Sequence[dict], weights: Sequence[float], options: dict | None = None
) -> dict[str, Any]:
    """The record of a composition: each parent ``{id, version, commit, weight}`` plus how they were blended."""
    return {
        "tool": tool,
        "base": dict(pin),
        "how": how,
        "options": dict(options or {}),
        "parents": [
            {**{k: p.get(k) for k in ("id", "version", "commit")}, "weight": float(w)}
            for p, w in zip(parents, weights, strict=False)
        ],
        "versions": library_versions(),
    }
