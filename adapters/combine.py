"""Blend several adapters of one method family into ONE new adapter artifact with recorded lineage.

The arithmetic is PEFT's own ``add_weighted_adapter`` (linear, TIES, DARE, SVD, cat), so results match
PEFT exactly; this module only checks that the parents belong together (same base pin, same method),
and writes the child in PEFT's layout with a card naming its parents.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

from .errors import AdapterError
from .resolver import Resolver, resolve_adapter

HOW = ("linear", "ties", "dare_linear", "dare_ties", "svd", "cat")
NEEDS_DENSITY = ("ties", "dare_linear", "dare_ties")


def _peft_type(adapter_dir: Path) -> str:
    cfg = adapter_dir / "adapter_config.json"
    if not cfg.is_file():
        raise AdapterError(f"{adapter_dir}: no adapter_config.json")
    return str(json.loads(cfg.read_text()).get("peft_type", "")).upper()


def _check_parents(dirs: list[Path], fronts: list[dict]) -> None:
    types = {_peft_type(d) for d in dirs}
    if len(types) != 1:
        raise AdapterError(f"combine needs adapters of one method family, got {', '.join(sorted(types))}")
    if types != {"LORA"}:
        raise AdapterError(f"combine supports LoRA adapters; got {types.pop()}")
    fps = {((f.get("adapter_hub") or {}).get("base") or {}).get("fingerprint") for f in fronts}
    fps.discard(None)
    if len(fps) > 1:
        raise AdapterError("combine needs adapters pinned to the same base; got fingerprints " + ", ".join(sorted(fps)))


def combine_adapters(adapters: Sequence[str | Path], out: str | Path, how: str = "linear",
                     weights: Sequence[float] | None = None, density: float | None = None,
                     base: str | Path | None = None, svd_rank: int | None = None,
                     allow_base_mismatch: bool = False, progress: bool = True,
                     resolver: Resolver | None = None, parents: Sequence[dict] | None = None) -> Path:
    """Write the combined adapter to ``out`` (PEFT layout + a card with lineage); returns ``out``.

    ``base=None``: the base the adapters are pinned to, found by fingerprint; ``resolver`` as in ``load_stack``.
    ``parents``: who each adapter is, ``{"id": "ns/name", "version", "commit"}`` (the hub client
    fills it in when it resolves references), recorded in the card's provenance."""
    from peft import PeftModel
    from tqdm.auto import tqdm

    from .base import base_dir_for, check_pin, load_base, pin_for
    from .card import write_card
    from .merge import _lineage_entry
    from .stack import _adapter_task, adapter_front

    if how not in HOW:
        raise AdapterError(f"unknown combination {how!r}; choose one of {', '.join(HOW)}")
    if len(adapters) < 2:
        raise AdapterError("combine needs at least two adapters")
    weights = [float(w) for w in weights] if weights is not None else [1.0 / len(adapters)] * len(adapters)
    if len(weights) != len(adapters):
        raise AdapterError(f"{len(weights)} weights for {len(adapters)} adapters")
    if how in NEEDS_DENSITY and density is None:
        density = 0.5
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise AdapterError(f"{out}: output directory is not empty")
    dirs = [resolve_adapter(a, resolver) for a in adapters]
    fronts = [adapter_front(d) for d in dirs]
    _check_parents(dirs, fronts)
    base_dir = base_dir_for(base, fronts, [str(d) for d in dirs], resolver)
    pin = pin_for(base_dir)
    for d, front in zip(dirs, fronts):
        check_pin(front, pin, allow_mismatch=allow_base_mismatch, adapter_name=str(d))
    task = _adapter_task(dirs[0], fronts[0]) or "causal-lm"
    from .stack import _num_labels

    labels = (fronts[0].get("adapter_hub") or {}).get("label_names")
    bar = tqdm(total=len(dirs) + 3, desc=f"combine ({how})", unit="step", disable=not progress)
    model, _ = load_base(base_dir, task=task, num_labels=len(labels) if labels else _num_labels(dirs[0]),
                         label_names=labels, with_tokenizer=False)
    bar.update(1)
    names = [f"parent{i}" for i in range(len(dirs))]
    peft_model = PeftModel.from_pretrained(model, str(dirs[0]), adapter_name=names[0])
    bar.update(1)
    for name, d in zip(names[1:], dirs[1:]):
        peft_model.load_adapter(str(d), adapter_name=name)
        bar.update(1)
    kwargs = {"combination_type": how}
    if density is not None and how in NEEDS_DENSITY:
        kwargs["density"] = float(density)
    if svd_rank is not None and how == "svd":
        kwargs["svd_rank"] = int(svd_rank)
    peft_model.add_weighted_adapter(names, weights, "default", **kwargs)
    bar.update(1)
    peft_model.set_adapter("default")
    for name in names:
        peft_model.delete_adapter(name)
    with tempfile.TemporaryDirectory(dir=out.parent if out.parent.exists() else None) as tmp:
        peft_model.save_pretrained(tmp, selected_adapters=["default"], safe_serialization=True)
        out.mkdir(parents=True, exist_ok=True)
        for f in Path(tmp).iterdir():
            if f.is_file() and f.suffix in (".json", ".safetensors"):
                shutil.copy2(f, out / f.name)
    bar.update(1)
    bar.close()
    config = json.loads((out / "adapter_config.json").read_text())
    lineage = [_lineage_entry(ref, d, front, w, "lora") | {"combination": how}
               for ref, d, front, w in zip(adapters, dirs, fronts, weights)]
    if parents is not None:
        if len(parents) != len(lineage):
            raise AdapterError(f"{len(parents)} parent records for {len(lineage)} adapters")
        lineage = [entry | {k: p[k] for k in ("id", "version", "commit") if p.get(k) is not None}
                   for entry, p in zip(lineage, parents)]
    from .provenance import composition_provenance

    record = composition_provenance(tool="hub combine", pin=pin.to_dict(), how=how, parents=lineage, weights=weights,
                                    options={"density": density, "svd_rank": svd_rank})
    front = {
        "library_name": "peft",
        "base_model": pin.id,
        "base_model_relation": "adapter",
        "tags": ["adapter-hub", "lora", task, "combined"],
        "adapter_hub": {"kind": "adapter", "method": "lora", "task": task, "base": pin.to_dict(),
                        "method_options": {"r": config.get("r"), "lora_alpha": config.get("lora_alpha"),
                                           "target_modules": config.get("target_modules")},
                        "lineage": lineage, "combination": {"how": how, "weights": weights, "density": density},
                        "provenance": record},
    }
    if labels:
        front["adapter_hub"]["label_names"] = labels
    body = f"# Combined adapter\n\n{how} combination of {len(dirs)} LoRA adapters (weights {weights}).\n"
    write_card(out, front, body)
    return out
