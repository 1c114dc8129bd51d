"""How LoRA adapters blend into one (``MethodSpec.combine``), kept apart from training and loading.

LoRA uses PEFT's own ``add_weighted_adapter`` (linear, TIES, DARE, SVD, cat) so results match PEFT exactly.
"""

from __future__ import annotations

from pathlib import Path

from ...registry import CombineRequest

__all__ = ["LORA_COMBINATIONS", "combine_lora"]

LORA_COMBINATIONS = ("linear", "ties", "dare_linear", "dare_ties", "svd", "cat")
_NEEDS_DENSITY = ("ties", "dare_linear", "dare_ties")


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
    for name, d in zip(names[1:], request.parents[1:], strict=False):
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
    return {
        "density": density if request.how in _NEEDS_DENSITY else None,
        "svd_rank": request.svd_rank if request.how == "svd" else None,
    }
