"""How LoRA and IA3 adapters blend into one (``MethodSpec.combine``), kept apart from training and loading.

LoRA uses PEFT's own ``add_weighted_adapter`` (linear, TIES, DARE, SVD, cat) so results match PEFT exactly.

IA3 offers one way, ``stack``: the child's vector on every module is the product of the parents' weighted
vectors, ``v = prod_i (1 + w_i * (l_i - 1))``. A stacking weight ``w`` interpolates an IA3 vector towards
identity (``adapters.runtime.ia3``) and stacked IA3 rescalings of one module multiply, so the child at
weight 1 computes exactly what the parents stacked with weights ``w_i`` compute, hooked or merged. A
linear blend of the vectors (PEFT's ``add_weighted_adapter`` for IA3) is only a first-order approximation
of that and is not offered. The parents must rescale the same modules the same way (same targets,
same feed-forward modules) and carry no trained heads, which cannot be blended exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import AdapterError
from ..registry import CombineRequest

__all__ = ["LORA_COMBINATIONS", "IA3_COMBINATIONS", "combine_lora", "combine_ia3"]

LORA_COMBINATIONS = ("linear", "ties", "dare_linear", "dare_ties", "svd", "cat")
IA3_COMBINATIONS = ("stack",)
_NEEDS_DENSITY = ("ties", "dare_linear", "dare_ties")
_WEIGHTS = "adapter_model.safetensors"


def combine_lora(request: CombineRequest) -> dict:
    """PEFT's ``add_weighted_adapter`` on the parents loaded onto the pinned base; writes PEFT's layout."""
    import shutil
    import tempfile

    from peft import PeftModel

    density = request.density
    if request.how in _NEEDS_DENSITY and density is None:
        density = 0.5
    names = [f"parent{i}" for i in range(len(request.parents))]
    peft_model = PeftModel.from_pretrained(request.load_base(), str(request.parents[0]), adapter_name=names[0])
    request.step()
    for name, d in zip(names[1:], request.parents[1:]):
        peft_model.load_adapter(str(d), adapter_name=name)
        request.step()
    kwargs: dict = {"combination_type": request.how}
    if request.how in _NEEDS_DENSITY:
        kwargs["density"] = float(density)
    if request.svd_rank is not None and request.how == "svd":
        kwargs["svd_rank"] = int(request.svd_rank)
    peft_model.add_weighted_adapter(names, list(request.weights), "default", **kwargs)
    peft_model.set_adapter("default")
    for name in names:
        peft_model.delete_adapter(name)
    with tempfile.TemporaryDirectory(dir=request.out) as tmp:
        peft_model.save_pretrained(tmp, selected_adapters=["default"], safe_serialization=True)
        for f in Path(tmp).iterdir():
            if f.is_file() and f.suffix in (".json", ".safetensors"):
                shutil.copy2(f, request.out / f.name)
    return {"density": density if request.how in _NEEDS_DENSITY else None,
            "svd_rank": request.svd_rank if request.how == "svd" else None}


def _read_ia3(adapter_dir: Path) -> tuple[dict, dict]:
    from safetensors.torch import load_file

    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    tensors = load_file(str(adapter_dir / _WEIGHTS))
    heads = sorted(k for k in tensors if not k.endswith(".ia3_l"))
    if heads:
        raise AdapterError(f"{adapter_dir}: ia3 combine cannot blend trained heads exactly (e.g. {heads[0]})")
    return config, tensors


def _same(key: str, configs: list[dict]) -> bool:
    values = [c.get(key) for c in configs]
    norm = [sorted(v) if isinstance(v, list) else v for v in values]
    return all(v == norm[0] for v in norm)


def combine_ia3(request: CombineRequest) -> dict:
    """The product of the parents' weighted vectors (see the module docstring); no base is loaded."""
    import torch
    from safetensors.torch import save_file

    if request.density is not None or request.svd_rank is not None:
        raise AdapterError("ia3 combine (stack) takes no density or svd rank")
    configs, parts = [], []
    for d in request.parents:
        config, tensors = _read_ia3(Path(d))
        configs.append(config)
        parts.append(tensors)
        request.step()
    for key in ("target_modules", "feedforward_modules", "fan_in_fan_out"):
        if not _same(key, configs):
            raise AdapterError(f"ia3 combine needs the same {key} in every parent")
    keys = set(parts[0])
    if any(set(p) != keys for p in parts[1:]):
        raise AdapterError("ia3 combine needs every parent to rescale the same modules")
    child = {}
    for key in sorted(keys):
        product = torch.ones_like(parts[0][key], dtype=torch.float64)
        for tensors, weight in zip(parts, request.weights):
            product *= 1.0 + weight * (tensors[key].to(torch.float64) - 1.0)
        child[key] = product.to(parts[0][key].dtype).contiguous()
    (request.out / "adapter_config.json").write_text(json.dumps(configs[0], indent=2, sort_keys=True) + "\n")
    save_file(child, str(request.out / _WEIGHTS), metadata={"format": "pt"})
    return {}
