"""IA3 from PEFT's saved files as hooks: learned vectors rescale a layer's output, or for PEFT's
``feedforward_modules`` its input.

A stacking weight ``w`` interpolates each vector towards identity (``1 + w * (l - 1)``), so ``w = 1``
is the adapter as trained and ``w = 0`` the base. Merging multiplies rows (outputs) or columns (inputs)
of the weight in place; unmerging divides them back. Each vector is a contribution to its module's
fuser (``runtime.fused``): several IA3 adapters on one module run as one multiplied vector in one hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ...errors import AdapterError
from ...runtime.fused import InputScale, OutputScale, Slot
from ...runtime.lifecycle import HookedLayers
from ...runtime.saved_files import SavedModules, get_module, module_path, pattern_value, read_adapter


@dataclass
class _Ia3Layer:
    module: nn.Linear
    vector: torch.Tensor  # already weighted, 1-D
    feedforward: bool
    hook: Slot | None = None
    raw: torch.Tensor | None = None  # as trained (weight 1)


@dataclass
class Ia3Attachment(HookedLayers):
    """A live IA3 adapter on a base model (see ``adapters.registry.Attachment``)."""

    name: str
    layers: list[_Ia3Layer]
    weight: float
    saved_modules: SavedModules
    mergeable: bool = True
    merged: bool = False
    latency_note: str = ""
    config: dict = field(default_factory=dict)

    def _install(self) -> None:
        for layer in self.layers:
            kind = InputScale if layer.feedforward else OutputScale
            layer.hook = Slot(layer.module, kind(lambda layer=layer: layer.vector))

    def set_weight(self, weight: float) -> None:
        """Re-weight in place: a hooked adapter is re-fused, a merged one re-folded."""
        merged = self.merged
        self.unmerge()
        self.weight = float(weight)
        for layer in self.layers:
            layer.vector = (1.0 + self.weight * (layer.raw - 1.0)).to(layer.vector.dtype)
            layer.hook.refresh()
        if merged:
            self.merge()

    def merge(self) -> None:
        if self.merged:
            return
        with torch.no_grad():
            for layer in self.layers:
                w, v = layer.module.weight, layer.vector.to(layer.module.weight.dtype)
                if layer.feedforward:
                    w.mul_(v[None, :])
                else:
                    w.mul_(v[:, None])
                    if layer.module.bias is not None:
                        layer.module.bias.mul_(v)
        self.merged = True
        for layer in self.layers:  # a merged adapter costs no time at all
            layer.hook.suspend()

    def unmerge(self) -> None:
        if not self.merged:
            return
        with torch.no_grad():
            for layer in self.layers:
                w, v = layer.module.weight, layer.vector.to(layer.module.weight.dtype)
                if layer.feedforward:
                    w.div_(v[None, :])
                else:
                    w.div_(v[:, None])
                    if layer.module.bias is not None:
                        layer.module.bias.div_(v)
        self.merged = False
        for layer in self.layers:
            layer.hook.resume()


def attach(model: nn.Module, adapter_dir: Path | str, weight: float = 1.0, name: str | None = None) -> Ia3Attachment:
    """Hook a saved PEFT IA3 adapter onto ``model`` (a plain transformers model)."""
    adapter_dir = Path(adapter_dir)
    config, tensors = read_adapter(adapter_dir)
    if config.get("fan_in_fan_out"):
        raise AdapterError(f"{adapter_dir}: fan_in_fan_out (Conv1D bases such as GPT-2) is not supported")
    feedforward = {m: True for m in (config.get("feedforward_modules") or [])}
    layers: list[_Ia3Layer] = []
    saved: dict[str, torch.Tensor] = {}
    for key, value in sorted(tensors.items()):
        if not key.endswith(".ia3_l"):
            saved[key] = value
            continue
        path = module_path(key[: -len(".ia3_l")])
        module = get_module(model, path, adapter_dir)
        if not isinstance(module, nn.Linear):
            raise AdapterError(f"{adapter_dir}: IA3 on {path} ({type(module).__name__}) is not supported")
        is_ff = bool(pattern_value(feedforward, path, False))
        vector = value.flatten()
        expected = module.in_features if is_ff else module.out_features
        if vector.numel() != expected:
            raise AdapterError(f"{adapter_dir}: IA3 vector for {path} does not fit the base layer; wrong base?")
        raw = vector.to(module.weight.device)
        layers.append(_Ia3Layer(module, 1.0 + float(weight) * (raw - 1.0), is_ff, raw=raw))
    if not layers:
        raise AdapterError(f"{adapter_dir}: no IA3 weights found")
    attachment = Ia3Attachment(
        name or adapter_dir.name, layers, float(weight), SavedModules(model, saved, adapter_dir), config=config
    )
    attachment._install()
    return attachment
