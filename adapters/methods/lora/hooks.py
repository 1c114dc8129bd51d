"""LoRA from PEFT's saved files as forward hooks: ``y += weight * scale * B(A(x))`` per target Linear.

Hooks (not module replacement) keep the base untouched, so LoRA composes with any other method in a
stack. ``merge`` folds ``weight * scale * B @ A`` into each weight in place (never a second copy of
the model); ``unmerge`` subtracts it again.

DoRA (``use_dora``) rescales each output row of ``W + scale * B @ A`` to a learned magnitude ``m``:
with ``k = m / ||W + scale * B @ A||`` per row (taken once, from the weights at attach time, as PEFT
treats it as a constant) the layer computes ``k * (W x + scale * B A x)``. The hook adds
``weight * ((k - 1) * y + k * scale * B A x)``, ``y`` being the layer's output so far without bias (``W x``
alone, or with the adapters stacked before this one); merging scales each row of the current ``W`` by
``1 - weight + weight * k`` and adds ``weight * k * scale * B @ A``, so merged equals hooked in any
stack order, and ``unmerge`` undoes it exactly.

Every plain LoRA layer is a ``LowRank`` contribution to its module's fuser (``runtime.fused``): all the
LoRAs on one module run as one concatenated low-rank pair in one hook. DoRA layers stay separate steps
(they rescale the output so far, which a concatenated pair cannot express), in their stack position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ...errors import AdapterError
from ...runtime.fused import LowRank, OutputStep, Slot
from ...runtime.lifecycle import HookedLayers
from ...runtime.saved_files import SavedModules, get_module, module_path, pattern_value, read_adapter


@dataclass
class _LoraLayer:
    module: nn.Linear
    a: torch.Tensor  # (r, in)
    b: torch.Tensor  # (out, r)
    scale: float
    hook: Slot | None = None
    dora_scale: torch.Tensor | None = None  # (out,) m / ||W + scale * B @ A|| for DoRA layers


@dataclass
class LoraAttachment(HookedLayers):
    """A live LoRA adapter on a base model (see ``adapters.registry.Attachment``)."""

    name: str
    layers: list[_LoraLayer]
    weight: float
    saved_modules: SavedModules
    mergeable: bool = True
    merged: bool = False
    latency_note: str = ""
    config: dict = field(default_factory=dict)

    def _dora_step(self, layer: _LoraLayer):
        def add_delta(module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
            a, b = layer.a.to(x.dtype), layer.b.to(x.dtype)
            k = layer.dora_scale.to(x.dtype)
            # what the layer computes so far, bias excluded: for DoRA alone PEFT's ``W x``; in a stack it
            # includes the adapters before this one, exactly what folding in order scales
            base = output if module.bias is None else output - module.bias
            return output + self.weight * ((k - 1) * base + k * (x @ a.T @ b.T) * layer.scale)

        return add_delta

    def _install(self) -> None:
        for layer in self.layers:
            if layer.dora_scale is None:
                item = LowRank(layer.a, layer.b, lambda layer=layer: self.weight * layer.scale)
            else:
                item = OutputStep(self._dora_step(layer))
            layer.hook = Slot(layer.module, item)

    def set_weight(self, weight: float) -> None:
        """Re-weight in place: a hooked adapter is re-fused, a merged one re-folded."""
        merged = self.merged
        self.unmerge()
        self.weight = float(weight)
        for layer in self.layers:
            layer.hook.refresh()
        if merged:
            self.merge()

    def _fold(self, sign: float) -> None:
        with torch.no_grad():
            for layer in self.layers:
                w = layer.module.weight
                a, b = layer.a.to(w.dtype), layer.b.to(w.dtype)
                if layer.dora_scale is None:
                    w.addmm_(b, a, alpha=sign * self.weight * layer.scale)
                    continue
                k = layer.dora_scale.to(w.dtype)
                rows = (1 - self.weight + self.weight * k).unsqueeze(1)
                scaled_b = b * (self.weight * layer.scale * k).unsqueeze(1)
                if sign > 0:
                    w.mul_(rows).addmm_(scaled_b, a)
                else:
                    w.addmm_(scaled_b, a, alpha=-1.0).div_(rows)

    def merge(self) -> None:
        """Fold into the weights and drop the hooks: a merged adapter costs no time at all."""
        if not self.merged:
            self._fold(+1.0)
            self.merged = True
            for layer in self.layers:
                layer.hook.suspend()

    def unmerge(self) -> None:
        if self.merged:
            self._fold(-1.0)
            self.merged = False
            for layer in self.layers:
                layer.hook.resume()


def refuse_unsupported(config: dict, adapter_dir: Path) -> None:
    if config.get("bias", "none") != "none" or config.get("lora_bias"):
        raise AdapterError(f"{adapter_dir}: LoRA with trained biases (bias={config.get('bias')!r}) is not supported")
    if config.get("fan_in_fan_out"):
        raise AdapterError(f"{adapter_dir}: fan_in_fan_out (Conv1D bases such as GPT-2) is not supported")


def attach(model: nn.Module, adapter_dir: Path | str, weight: float = 1.0, name: str | None = None) -> LoraAttachment:
    """Hook a saved PEFT LoRA adapter onto ``model`` (a plain transformers model)."""
    adapter_dir = Path(adapter_dir)
    config, tensors = read_adapter(adapter_dir)
    refuse_unsupported(config, adapter_dir)
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    saved: dict[str, torch.Tensor] = {}
    for key, value in tensors.items():
        if ".lora_A." in key or ".lora_B." in key:
            path, part = key.rsplit(".lora_", 1)
            pairs.setdefault(module_path(path), {})[part.split(".")[0]] = value
        elif ".lora_magnitude_vector" in key and config.get("use_dora"):
            path = key.split(".lora_magnitude_vector", 1)[0]
            pairs.setdefault(module_path(path), {})["m"] = value
        elif "lora_embedding" in key or "lora_magnitude" in key:
            raise AdapterError(f"{adapter_dir}: {key.rsplit('.', 2)[-2]} layers are not supported")
        else:
            saved[key] = value
    layers: list[_LoraLayer] = []
    for path, ab in sorted(pairs.items()):
        module = get_module(model, path, adapter_dir)
        if not isinstance(module, nn.Linear):
            raise AdapterError(
                f"{adapter_dir}: LoRA on {path} ({type(module).__name__}) is not supported; only Linear layers"
            )
        a, b = ab["A"], ab["B"]
        r = a.shape[0]
        alpha = pattern_value(config.get("alpha_pattern"), path, config.get("lora_alpha", 8))
        scale = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
        if b.shape[0] != module.out_features or a.shape[1] != module.in_features:
            raise AdapterError(f"{adapter_dir}: LoRA shapes for {path} do not fit the base layer; wrong base?")
        device = module.weight.device
        layer = _LoraLayer(module, a.to(device), b.to(device), float(scale))
        if config.get("use_dora"):
            if module.weight.dtype in (torch.uint8, torch.int8):
                raise AdapterError(
                    f"{adapter_dir}: DoRA needs the full-precision weights of {path}; run it on the "
                    "full-precision base (drop --quantize)"
                )
            if "m" not in ab:
                raise AdapterError(f"{adapter_dir}: DoRA adapter without a magnitude vector for {path}")
            with torch.no_grad():
                norm = torch.linalg.norm(module.weight.float() + scale * (layer.b @ layer.a).float(), dim=1)
            layer.dora_scale = (ab["m"].to(device).float().reshape(-1) / norm).to(module.weight.dtype)
        layers.append(layer)
    if not layers:
        raise AdapterError(f"{adapter_dir}: no LoRA weights found")
    attachment = LoraAttachment(
        name or adapter_dir.name, layers, float(weight), SavedModules(model, saved, adapter_dir), config=config
    )
    attachment._install()
    return attachment
