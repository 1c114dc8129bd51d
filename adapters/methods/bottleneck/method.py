"""Train, save and attach bottleneck adapters with forward hooks on a frozen base.

The adapter layers are registered as child modules of the block they follow (so an
optimizer sees them) and applied through forward hooks (so the base code is untouched).
They cannot be folded into the weights because of the non-linearity: ``mergeable=False``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...errors import AdapterError
from .config import BottleneckConfig
from .layer import BottleneckLayer
from .placement import adapter_sites, classifier_head, output_hook

WEIGHTS_NAME = "adapter_model.safetensors"
HEAD_PREFIX = "head."
LATENCY_NOTE = (
    "bottleneck adapters add two small matmuls and a non-linearity per adapted block; "
    "they cannot be merged into the base weights"
)
_ids = itertools.count()


@dataclass
class BottleneckAttachment:
    """Live bottleneck adapters on a model; ``detach`` removes hooks, layers and restores the head."""

    name: str
    model: nn.Module
    layers: dict[str, BottleneckLayer]
    slot: str
    handles: list = field(default_factory=list)
    head_backup: dict[str, torch.Tensor] = field(default_factory=dict)
    head_attr: str | None = None
    mergeable: bool = False
    merged: bool = False
    latency_note: str = LATENCY_NOTE

    def merge(self) -> None:
        raise AdapterError(f"{self.name}: bottleneck adapters cannot be merged into the base weights")

    def unmerge(self) -> None:
        return None

    def detach(self) -> None:
        remove_blocks(self, self.layers)
        self.layers = {}


def remove_blocks(attachment: Any, paths: Any) -> None:
    """Undo what an attachment added after each block (its hooks and the module in its slot) and put a
    seq-cls head it replaced back: the detach of bottleneck and fusion attachments alike."""
    for handle in attachment.handles:
        handle.remove()
    attachment.handles.clear()
    for path in paths:
        module = attachment.model.get_submodule(path)
        if hasattr(module, attachment.slot):
            delattr(module, attachment.slot)
    if attachment.head_attr and attachment.head_backup:
        head = getattr(attachment.model, attachment.head_attr)
        with torch.no_grad():
            for key, value in head.state_dict().items():
                value.copy_(attachment.head_backup[key])


def _insert(model: nn.Module, config: BottleneckConfig, weight: float, name: str) -> BottleneckAttachment:
    slot = f"bottleneck_{next(_ids)}"
    attachment = BottleneckAttachment(name=name, model=model, layers={}, slot=slot)
    for path in adapter_sites(model, config.variant):
        module = model.get_submodule(path)
        layer = BottleneckLayer(config.hidden_size, config.bottleneck_size, config.non_linearity, config.residual)
        ref = next(model.parameters())
        layer.to(device=ref.device, dtype=ref.dtype)
        layer.scale = float(weight)
        module.add_module(slot, layer)
        attachment.layers[path] = layer
        attachment.handles.append(module.register_forward_hook(output_hook(layer)))
    return attachment


def _config_from(model: nn.Module, options: dict, task: str) -> BottleneckConfig:
    hidden = getattr(getattr(model, "config", None), "hidden_size", None)
    if not hidden:
        raise AdapterError(f"bottleneck: {type(model).__name__} has no config.hidden_size")
    return BottleneckConfig(
        variant=options.get("variant", "pfeiffer"),
        reduction_factor=options.get("reduction_factor", 16),
        non_linearity=options.get("non_linearity", "relu"),
        residual=bool(options.get("residual", True)),
        hidden_size=int(hidden),
        task=task,
        model_type=str(getattr(model.config, "model_type", "")),
    )


def prepare(model: nn.Module, options: dict, task: str) -> nn.Module:
    """Freeze the base, insert fresh (identity) adapters; a seq-cls head is trained as well."""
    for param in model.parameters():
        param.requires_grad_(False)
    config = _config_from(model, options, task)
    attachment = _insert(model, config, 1.0, "bottleneck")
    for layer in attachment.layers.values():
        layer.requires_grad_(True)
    head = classifier_head(model) if task == "seq-cls" else None
    if head is not None:
        head[1].requires_grad_(True)
    model._bottleneck = (config, attachment, head[0] if head else None)  # read by save()
    return model


def save(trained: nn.Module, out_dir: str | Path, options: dict) -> None:
    """``adapter_config.json`` (peft_type BOTTLENECK) + ``adapter_model.safetensors``."""
    from safetensors.torch import save_file

    state = getattr(trained, "_bottleneck", None)
    if state is None:
        raise AdapterError("bottleneck: this model was not prepared with the bottleneck method")
    config, attachment, head_attr = state
    tensors: dict[str, torch.Tensor] = {}
    for path, layer in attachment.layers.items():
        for key, value in layer.state_dict().items():
            tensors[f"{path}.{key}"] = value.detach().to(torch.float32).contiguous().cpu()
    if head_attr:
        for key, value in getattr(trained, head_attr).state_dict().items():
            tensors[f"{HEAD_PREFIX}{head_attr}.{key}"] = value.detach().to(torch.float32).contiguous().cpu()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config.save(out_dir)
    save_file(tensors, str(out_dir / WEIGHTS_NAME), metadata={"format": "pt"})


def _check_shape(adapter_dir: Path, key: str, have: torch.Size, want: torch.Size) -> None:
    if tuple(have) != tuple(want):
        raise AdapterError(
            f"{adapter_dir}: tensor {key} has shape {tuple(have)} but this base needs {tuple(want)}; "
            "the adapter was made for another architecture"
        )


def attach(
    model: nn.Module, adapter_dir: str | Path, weight: float = 1.0, name: str | None = None
) -> BottleneckAttachment:
    """Hook a saved bottleneck adapter onto ``model``; refuses any shape mismatch."""
    from safetensors.torch import load_file

    adapter_dir = Path(adapter_dir)
    config = BottleneckConfig.load(adapter_dir)
    hidden = getattr(getattr(model, "config", None), "hidden_size", None)
    if hidden != config.hidden_size:
        raise AdapterError(
            f"{adapter_dir}: adapter hidden size {config.hidden_size} does not match the base's {hidden}"
        )
    tensors = load_file(str(adapter_dir / WEIGHTS_NAME))
    attachment = _insert(model, config, weight, name or adapter_dir.name)
    try:
        expected = set()
        with torch.no_grad():
            for path, layer in attachment.layers.items():
                for key, param in layer.state_dict().items():
                    full = f"{path}.{key}"
                    expected.add(full)
                    if full not in tensors:
                        raise AdapterError(
                            f"{adapter_dir}: missing tensor {full}; the adapter was made for another "
                            "architecture or variant"
                        )
                    _check_shape(adapter_dir, full, tensors[full].shape, param.shape)
                    param.copy_(tensors[full])
            load_head(model, adapter_dir, tensors, attachment)
            head_keys = {k for k in tensors if k.startswith(HEAD_PREFIX)}
            extra = set(tensors) - expected - head_keys
            if extra:
                raise AdapterError(f"{adapter_dir}: {len(extra)} tensors do not fit this base (e.g. {min(extra)})")
    except Exception:
        attachment.detach()
        raise
    return attachment


def load_head(model: nn.Module, adapter_dir: Path, tensors: dict[str, Any], attachment: Any) -> None:
    """A saved seq-cls head copied into the base's, the original kept on ``attachment`` for ``detach``
    (bottleneck and fusion attachments alike)."""
    head_tensors = {k[len(HEAD_PREFIX) :]: v for k, v in tensors.items() if k.startswith(HEAD_PREFIX)}
    if not head_tensors:
        return
    attr = next(iter(head_tensors)).split(".", 1)[0]
    head = getattr(model, attr, None)
    if not isinstance(head, nn.Module):
        raise AdapterError(
            f"{adapter_dir}: the adapter carries a {attr!r} head but the base has none (load it with task seq-cls)"
        )
    current = head.state_dict()
    for key, value in head_tensors.items():
        sub = key.split(".", 1)[1]
        if sub not in current:
            raise AdapterError(f"{adapter_dir}: head tensor {key} does not fit this base")
        _check_shape(adapter_dir, key, value.shape, current[sub].shape)
    attachment.head_attr = attr
    attachment.head_backup = {k: v.detach().clone() for k, v in current.items()}
    for key, value in head_tensors.items():
        current[key.split(".", 1)[1]].copy_(value)


def load_trainable(trained: nn.Module, adapter_dir: str | Path, options: dict) -> None:
    """``hub train --from``: a saved bottleneck adapter's tensors (and seq-cls head) copied into the layers
    ``prepare`` just inserted, so training continues from them; any other shape or placement is refused."""
    from safetensors.torch import load_file

    state = getattr(trained, "_bottleneck", None)
    if state is None:
        raise AdapterError("bottleneck: this model was not prepared with the bottleneck method")
    config, attachment, head_attr = state
    adapter_dir = Path(adapter_dir)
    saved = BottleneckConfig.load(adapter_dir)
    shape = ("variant", "reduction_factor", "non_linearity", "residual", "hidden_size")
    differ = [k for k in shape if getattr(saved, k) != getattr(config, k)]
    if differ:
        raise AdapterError(f"{adapter_dir}: saved with other {', '.join(differ)} than this run's bottleneck")
    tensors = load_file(str(adapter_dir / WEIGHTS_NAME))
    wanted: dict[str, torch.Tensor] = {}
    for path, layer in attachment.layers.items():
        wanted.update({f"{path}.{key}": value for key, value in layer.state_dict().items()})
    if head_attr:
        head = getattr(trained, head_attr).state_dict()
        wanted.update({f"{HEAD_PREFIX}{head_attr}.{key}": value for key, value in head.items()})
    missing, extra = sorted(set(wanted) - set(tensors)), sorted(set(tensors) - set(wanted))
    if missing or extra:
        first = (missing or extra)[0]
        raise AdapterError(f"{adapter_dir}: its tensors do not fit this run's adapter (e.g. {first})")
    with torch.no_grad():
        for key, value in wanted.items():
            _check_shape(adapter_dir, key, tensors[key].shape, value.shape)
            value.copy_(tensors[key])
