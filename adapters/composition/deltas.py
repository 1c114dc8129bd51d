"""Many LoRA-style deltas on one base as ONE hook per layer, with weights that can change between calls.

Why: ``hub compose`` evaluates the examples under dozens of weightings. Reloading or re-merging per step
would dominate; here each adapted Linear gets a single forward hook computing
``y += ((x @ A_cat.T) * w[owner]) @ B_cat.T``, where ``A_cat``/``B_cat`` stack every candidate's factors
(ranks side by side) and ``owner`` says which candidate each rank column belongs to. Setting the weights
is one in-place copy. The same concatenation, with the weights folded into B, is written out as a plain
PEFT LoRA, so the saved adapter computes exactly what was scored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import AdapterError

__all__ = ["FusedDeltas"]

Factors = dict[str, tuple[torch.Tensor, torch.Tensor]]


@dataclass
class _Layer:
    module: nn.Linear
    a: torch.Tensor  # (R, in)
    b: torch.Tensor  # (out, R)
    owner: torch.Tensor  # (R,) candidate index of each rank column


class FusedDeltas:
    """Hooks ``sum_i w_i * B_i @ A_i`` onto ``model`` for the candidates' ``factors``; ``set_weights`` per step."""

    def __init__(self, model: nn.Module, factors: Sequence[Factors]):
        self.model = model
        self.weights = torch.zeros(len(factors))
        self.layers: dict[str, _Layer] = {}
        for path in sorted({p for f in factors for p in f}):
            try:
                module = model.get_submodule(path)
            except AttributeError:
                raise AdapterError(f"the base has no module {path!r}; wrong base?") from None
            if not isinstance(module, nn.Linear):
                raise AdapterError(f"{path}: deltas need a Linear layer, found {type(module).__name__}")
            parts = [(i, *f[path]) for i, f in enumerate(factors) if path in f]
            for _, a, b in parts:
                if a.shape[1] != module.in_features or b.shape[0] != module.out_features:
                    raise AdapterError(f"{path}: delta shapes do not fit the base layer; wrong base?")
            device = module.weight.device
            self.layers[path] = _Layer(
                module,
                torch.cat([a for _, a, _ in parts]).to(device),
                torch.cat([b for _, _, b in parts], dim=1).to(device),
                torch.cat([torch.full((a.shape[0],), i) for i, a, _ in parts]).to(device),
            )
        self._handles = [layer.module.register_forward_hook(self._hook(layer)) for layer in self.layers.values()]

    def _hook(self, layer: _Layer):
        def add_delta(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
            x = args[0]
            cols = self.weights.to(x.device, x.dtype)[layer.owner]
            return output + ((x @ layer.a.to(x.dtype).T) * cols) @ layer.b.to(x.dtype).T

        return add_delta

    def set_weights(self, weights: Sequence[float]) -> None:
        if len(weights) != len(self.weights):
            raise AdapterError(f"{len(weights)} weights for {len(self.weights)} candidates")
        self.weights.copy_(torch.as_tensor(list(weights), dtype=self.weights.dtype))

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def save_peft(self, out: Path, weights: Sequence[float], base_id: str) -> dict:
        """Write the weighted sum as a PEFT LoRA (``adapter_config.json`` + ``adapter_model.safetensors``).

        Every layer gets the full concatenated rank ``R`` (layers with fewer columns are zero-padded, which
        adds nothing) and ``lora_alpha = R`` so PEFT's scale is 1: the file holds exactly ``B_cat w A_cat``."""
        from peft import LoraConfig
        from safetensors.torch import save_file

        w = torch.as_tensor(list(weights), dtype=torch.float32)
        rank = max(layer.a.shape[0] for layer in self.layers.values())
        tensors: dict[str, torch.Tensor] = {}
        for path, layer in self.layers.items():
            a = torch.zeros(rank, layer.a.shape[1])
            b = torch.zeros(layer.b.shape[0], rank)
            r = layer.a.shape[0]
            a[:r] = layer.a.float().cpu()
            b[:, :r] = layer.b.float().cpu() * w[layer.owner.cpu()]
            tensors[f"base_model.model.{path}.lora_A.weight"] = a.contiguous()
            tensors[f"base_model.model.{path}.lora_B.weight"] = b.contiguous()
        config = LoraConfig(
            task_type="CAUSAL_LM",
            r=rank,
            lora_alpha=rank,
            lora_dropout=0.0,
            bias="none",
            target_modules=sorted(self.layers),
            base_model_name_or_path=base_id,
        )
        out.mkdir(parents=True, exist_ok=True)
        config.save_pretrained(str(out))
        save_file(tensors, str(out / "adapter_model.safetensors"), metadata={"format": "pt"})
        return json.loads((out / "adapter_config.json").read_text())
