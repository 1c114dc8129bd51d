"""How IA3 adapters blend into one (``MethodSpec.combine``), kept apart from training and loading.

IA3 offers one way, ``stack``: the child's vector on every module is the product of the parents' weighted
vectors, ``v = prod_i (1 + w_i * (l_i - 1))``. A stacking weight ``w`` interpolates an IA3 vector towards
identity (``adapters.methods.ia3.hooks``) and stacked IA3 rescalings of one module multiply, so the child at
weight 1 computes exactly what the parents stacked with weights ``w_i`` compute, hooked or merged. A
linear blend of the vectors (PEFT's ``add_weighted_adapter`` for IA3) is only a first-order approximation
of that and is not offered. The parents must rescale the same modules the same way (same targets,
same feed-forward modules) and carry no trained heads, which cannot be blended exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

from ...errors import AdapterError
from ...registry import CombineRequest

__all__ = ["IA3_COMBINATIONS", "combine_ia3"]

IA3_COMBINATIONS = ("stack",)
_WEIGHTS = "adapter_model.safetensors"


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
        for tensors, weight in zip(parts, request.weights, strict=False):
            product *= 1.0 + weight * (tensors[key].to(torch.float64) - 1.0)
        child[key] = product.to(parts[0][key].dtype).contiguous()
    (request.out / "adapter_config.json").write_text(json.dumps(configs[0], indent=2, sort_keys=True) + "\n")
    save_file(child, str(request.out / _WEIGHTS), metadata={"format": "pt"})
    return {}
