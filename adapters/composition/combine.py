"""Blend several adapters of one method into ONE new adapter artifact with recorded lineage.

The core never knows how a method blends: it checks that the parents belong together (one method, one
base pin), that the method declares ``combinable`` and offers the requested way (``MethodSpec.combinations``),
then hands a ``CombineRequest`` to the method's own ``combine``. It writes the child's card (method name,
tags and options read from the parents' method) and moves the finished directory into place, so a
failure never leaves a half-written adapter behind.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import AdapterError
from ..registry import CombineRequest, MethodSpec
from ..resolver import Resolver, resolve_adapter


def _method_of(dirs: list[Path]) -> MethodSpec:
    """The one method all parents share, refused in one line unless it can combine."""
    from ..registry import method_for_dir

    specs = [method_for_dir(d) for d in dirs]
    names = sorted({s.name for s in specs})
    if len(names) != 1:
        raise AdapterError(f"combine needs adapters of one method family, got {', '.join(names)}")
    spec = specs[0]
    if not spec.combinable:
        raise AdapterError(f"method {spec.name} cannot be combined: its MethodSpec does not declare combinable")
    return spec


def _check_base(fronts: list[dict]) -> None:
    fps = {((f.get("adapter_hub") or {}).get("base") or {}).get("fingerprint") for f in fronts}
    fps.discard(None)
    if len(fps) > 1:
        raise AdapterError("combine needs adapters pinned to the same base; got fingerprints " + ", ".join(sorted(fps)))


def combine_adapters(
    adapters: Sequence[str | Path],
    out: str | Path,
    how: str | None = None,
    weights: Sequence[float] | None = None,
    density: float | None = None,
    base: str | Path | None = None,
    svd_rank: int | None = None,
    allow_base_mismatch: bool = False,
    progress: bool = True,
    resolver: Resolver | None = None,
    parents: Sequence[dict] | None = None,
) -> Path:
    """Write the combined adapter to ``out`` (the method's files + a card with lineage); returns ``out``.

    ``how=None``: the method's first combination (LoRA: ``linear``). ``base=None``: the base the adapters are
    pinned to, found by fingerprint; ``resolver`` as in ``load_stack``. ``parents``: who each adapter is,
    ``{"id": "ns/name", "version", "commit"}`` (the hub client fills it in when it resolves references),
    recorded in the card's provenance."""
    from tqdm.auto import tqdm

    from ..base.load import base_dir_for, check_pin, load_base, pin_for
    from ..card import write_card
    from ..provenance import composition_provenance
    from ..runtime.merge import lineage_entry
    from ..runtime.stack import adapter_front, adapter_num_labels, adapter_task

    if len(adapters) < 2:
        raise AdapterError("combine needs at least two adapters")
    weights = [float(w) for w in weights] if weights is not None else [1.0 / len(adapters)] * len(adapters)
    if len(weights) != len(adapters):
        raise AdapterError(f"{len(weights)} weights for {len(adapters)} adapters")
    if parents is not None and len(parents) != len(adapters):
        raise AdapterError(f"{len(parents)} parent records for {len(adapters)} adapters")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AdapterError(f"{out}: output directory is not empty")
    dirs = [resolve_adapter(a, resolver) for a in adapters]
    spec = _method_of(dirs)
    how = how or spec.combinations[0]
    if how not in spec.combinations:
        raise AdapterError(
            f"unknown combination {how!r} for method {spec.name}; choose one of {', '.join(spec.combinations)}"
        )
    fronts = [adapter_front(d) for d in dirs]
    _check_base(fronts)
    base_dir = base_dir_for(base, fronts, [str(d) for d in dirs], resolver)
    pin = pin_for(base_dir)
    for d, front in zip(dirs, fronts, strict=False):
        check_pin(front, pin, allow_mismatch=allow_base_mismatch, adapter_name=str(d))
    task = adapter_task(dirs[0], fronts[0]) or "causal-lm"
    labels = (fronts[0].get("adapter_hub") or {}).get("label_names")

    def base_model():
        model, _ = load_base(
            base_dir,
            task=task,
            num_labels=len(labels) if labels else adapter_num_labels(dirs[0]),
            label_names=labels,
            with_tokenizer=False,
        )
        return model

    out.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(dirs) + 2, desc=f"combine ({how})", unit="step", disable=not progress)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        child = Path(tmp) / "child"
        child.mkdir()
        settings = spec.combine(
            CombineRequest(
                parents=tuple(dirs),
                weights=tuple(weights),
                how=how,
                out=child,
                task=task,
                density=density,
                svd_rank=svd_rank,
                load_base=base_model,
                step=lambda: bar.update(1),
            )
        )
        bar.n = len(dirs)  # a method that reads its parents in fewer steps still ends the bar exactly
        bar.update(1)
        settings = {k: v for k, v in (settings or {}).items() if v is not None}
        config_path = child / "adapter_config.json"
        config = json.loads(config_path.read_text()) if config_path.is_file() else {}
        lineage = [
            lineage_entry(ref, d, front, w, spec.name) | {"combination": how}
            for ref, d, front, w in zip(adapters, dirs, fronts, weights, strict=False)
        ]
        if parents is not None:
            lineage = [
                entry | {k: p[k] for k in ("id", "version", "commit") if p.get(k) is not None}
                for entry, p in zip(lineage, parents, strict=False)
            ]
        record = composition_provenance(
            tool="hub combine", pin=pin.to_dict(), how=how, parents=lineage, weights=weights, options=settings
        )
        front = {
            "library_name": "peft",
            "base_model": pin.id,
            "base_model_relation": "adapter",
            "tags": ["adapter-hub", spec.name, task, "combined"],
            "adapter_hub": {
                "kind": "adapter",
                "method": spec.name,
                "task": task,
                "base": pin.to_dict(),
                "method_options": spec.options_from_config(config),
                "lineage": lineage,
                "combination": {"how": how, "weights": weights, **settings},
                "provenance": record,
            },
        }
        if labels:
            front["adapter_hub"]["label_names"] = labels
        body = f"# Combined adapter\n\n{how} combination of {len(dirs)} {spec.name} adapters (weights {weights}).\n"
        write_card(child, front, body)
        if out.exists():
            out.rmdir()  # empty, checked above
        shutil.move(str(child), str(out))
        bar.update(1)
    bar.close()
    return out
