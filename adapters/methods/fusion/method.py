"""Train, save and attach AdapterFusion: frozen bottleneck members and one trained fusion layer per adapted block.

At each block the members' placement names (``adapters.methods.bottleneck.placement``), ONE forward hook runs
every member on the block's output and hands their outputs to that block's ``FusionLayer``. Only the fusion
layers (and a seq-cls head) train. The saved adapter carries its members' files under ``members/<i>/`` with
their digests, so it is self-contained when pushed and ``attach`` refuses a member that was changed.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...errors import AdapterError
from ..bottleneck.config import BottleneckConfig
from ..bottleneck.layer import BottleneckLayer
from ..bottleneck.method import HEAD_PREFIX, load_head, remove_blocks
from ..bottleneck.placement import adapter_sites, classifier_head, output_hook
from .config import MEMBERS_DIR, FusionConfig
from .layer import FusionLayer
from .members import Member, files_digest, member_files, resolve_members

WEIGHTS_NAME = "adapter_model.safetensors"
LATENCY_NOTE = (
    "AdapterFusion runs every member adapter and an attention over their outputs at each adapted block; "
    "it cannot be merged into the base weights"
)
_ids = itertools.count()


class FusionSite(nn.Module):
    """What sits at one adapted block: the frozen members and the fusion layer over their outputs."""

    def __init__(self, members: list[BottleneckLayer], fusion: FusionLayer) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.fusion = fusion

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        outputs = torch.stack([member(hidden) for member in self.members], dim=-2)
        return self.fusion(hidden, outputs)


@dataclass
class FusionAttachment:
    """Live fusion sites on a model; ``detach`` removes hooks and sites and restores a seq-cls head."""

    name: str
    model: nn.Module
    sites: dict[str, FusionSite]
    slot: str
    handles: list = field(default_factory=list)
    head_backup: dict[str, torch.Tensor] = field(default_factory=dict)
    head_attr: str | None = None
    mergeable: bool = False
    merged: bool = False
    latency_note: str = LATENCY_NOTE

    @property
    def layers(self) -> dict[str, FusionSite]:
        """Each site keyed by the block it follows: what the batched runtime runs on a row's hidden states."""
        return self.sites

    def merge(self) -> None:
        raise AdapterError(
            f"{self.name}: AdapterFusion cannot be merged into the base weights "
            "(it attends over its members' outputs token by token)"
        )

    def unmerge(self) -> None:
        return None

    def detach(self) -> None:
        remove_blocks(self, self.sites)
        self.sites = {}


def _base_hidden(model: nn.Module) -> int:
    hidden = getattr(getattr(model, "config", None), "hidden_size", None)
    if not hidden:
        raise AdapterError(f"fusion: {type(model).__name__} has no config.hidden_size")
    return int(hidden)


def _member_tensors(folder: Path, label: str) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(folder / WEIGHTS_NAME))
    except (OSError, SafetensorError) as exc:  # a truncated or foreign file: one line, not a traceback
        raise AdapterError(f"fusion member {label}: cannot read {WEIGHTS_NAME} ({type(exc).__name__})") from None
    return {k: v for k, v in tensors.items() if not k.startswith(HEAD_PREFIX)}  # a member's own head is not used


def _fill(layer: nn.Module, path: str, tensors: dict[str, torch.Tensor], label: str) -> set[str]:
    used = set()
    with torch.no_grad():
        for key, param in layer.state_dict().items():
            full = f"{path}.{key}"
            if full not in tensors:
                raise AdapterError(f"{label}: missing tensor {full}; made for another architecture or variant")
            if tuple(tensors[full].shape) != tuple(param.shape):
                raise AdapterError(
                    f"{label}: tensor {full} has shape {tuple(tensors[full].shape)} but this base needs "
                    f"{tuple(param.shape)}"
                )
            param.copy_(tensors[full])
            used.add(full)
    return used


def _insert(
    model: nn.Module,
    variant: str,
    configs: list[BottleneckConfig],
    folders: list[Path],
    labels: list[str],
    name: str,
    value: bool,
) -> FusionAttachment:
    """One site per adapted block, members loaded from their folders and frozen; the fusion layers fresh."""
    slot = f"fusion_{next(_ids)}"
    attachment = FusionAttachment(name=name, model=model, sites={}, slot=slot)
    hidden = _base_hidden(model)
    ref = next(model.parameters())
    member_tensors = [_member_tensors(folder, label) for folder, label in zip(folders, labels, strict=True)]
    used: list[set[str]] = [set() for _ in folders]
    try:
        for path in adapter_sites(model, variant):
            layers = []
            for i, config in enumerate(configs):
                layer = BottleneckLayer(hidden, config.bottleneck_size, config.non_linearity, config.residual)
                used[i] |= _fill(layer, path, member_tensors[i], f"fusion member {labels[i]}")
                layers.append(layer)
            site = FusionSite(layers, FusionLayer(hidden, value=value))
            site.to(device=ref.device, dtype=ref.dtype)
            site.members.requires_grad_(False)
            module = model.get_submodule(path)
            module.add_module(slot, site)
            attachment.sites[path] = site
            attachment.handles.append(module.register_forward_hook(output_hook(site)))
        for i, tensors in enumerate(member_tensors):
            extra = set(tensors) - used[i]
            if extra:
                raise AdapterError(
                    f"fusion member {labels[i]}: {len(extra)} tensors do not fit this base (e.g. {min(extra)})"
                )
    except Exception:
        attachment.detach()
        raise
    return attachment


def _check_width(model: nn.Module, hidden_size: int, label: str) -> None:
    have = _base_hidden(model)
    if have != hidden_size:
        raise AdapterError(f"{label}: hidden size {hidden_size} does not match the base's {have}")


def prepare(model: nn.Module, options: dict, task: str) -> nn.Module:
    """Freeze the base and the members; only the fusion layers (and a seq-cls head) train.

    ``options["members"]`` comes from ``resolve_options`` (the training run); without it the ``adapters``
    option is read as local directories."""
    members: list[Member] = options.get("members") or resolve_members(options.get("adapters"))
    for param in model.parameters():
        param.requires_grad_(False)
    configs = [m.config for m in members]
    labels = [m.record["ref"] or str(m.folder) for m in members]
    for config, label in zip(configs, labels, strict=True):
        _check_width(model, config.hidden_size, f"fusion member {label}")
    value = bool(options.get("value", True))  # dynamic fusion unless asked for static (layer.py)
    folders = [m.folder for m in members]
    attachment = _insert(model, configs[0].variant, configs, folders, labels, "fusion", value)
    for site in attachment.sites.values():
        site.fusion.requires_grad_(True)
    head = classifier_head(model) if task == "seq-cls" else None
    if head is not None:
        head[1].requires_grad_(True)
    config = FusionConfig(
        variant=configs[0].variant,
        hidden_size=_base_hidden(model),
        task=task,
        model_type=str(getattr(model.config, "model_type", "")),
        value=value,
    )
    model._fusion = (config, attachment, head[0] if head else None, members)  # read by save()
    return model


def save(trained: nn.Module, out_dir: str | Path, options: dict) -> None:
    """``adapter_config.json`` (peft_type FUSION, the members), the fusion tensors, and each member's files."""
    from safetensors.torch import save_file

    state = getattr(trained, "_fusion", None)
    if state is None:
        raise AdapterError("fusion: this model was not prepared with the fusion method")
    config, attachment, head_attr, members = state
    tensors: dict[str, torch.Tensor] = {}
    for path, site in attachment.sites.items():
        for key, value in site.fusion.state_dict().items():
            tensors[f"{path}.{key}"] = value.detach().to(torch.float32).contiguous().cpu()
    if head_attr:
        for key, value in getattr(trained, head_attr).state_dict().items():
            tensors[f"{HEAD_PREFIX}{head_attr}.{key}"] = value.detach().to(torch.float32).contiguous().cpu()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for i, member in enumerate(members):
        rel = f"{MEMBERS_DIR}/{i}"
        (out_dir / rel).mkdir(parents=True)
        for name in member_files(member.folder):
            shutil.copyfile(member.folder / name, out_dir / rel / name)
        digest = files_digest(out_dir / rel)
        if digest != member.record["digest"]:
            raise AdapterError(f"fusion member {member.folder}: its files changed while training")
        records.append({**member.record, "path": rel})
    config.members = records
    config.save(out_dir)
    save_file(tensors, str(out_dir / WEIGHTS_NAME), metadata={"format": "pt"})


def attach(model: nn.Module, adapter_dir: str | Path, weight: float = 1.0, name: str | None = None) -> FusionAttachment:
    """Hook a saved fusion (its members from ``members/``) onto ``model``; a changed member is refused."""
    from safetensors.torch import load_file

    adapter_dir = Path(adapter_dir)
    config = FusionConfig.load(adapter_dir)
    _check_width(model, config.hidden_size, str(adapter_dir))
    folders, configs, labels = [], [], []
    for record in config.members:
        folder = adapter_dir / record["path"]
        label = f"{record.get('id') or record['path']} ({record['path']})"
        if not folder.is_dir() or files_digest(folder) != record["digest"]:
            raise AdapterError(
                f"{adapter_dir}: member {record['path']} is missing or its files differ from the recorded digest"
            )
        member = BottleneckConfig.load(folder)
        if member.variant != config.variant:
            raise AdapterError(f"{adapter_dir}: member {record['path']} is {member.variant}, not {config.variant}")
        folders.append(folder)
        configs.append(member)
        labels.append(label)
    tensors = load_file(str(adapter_dir / WEIGHTS_NAME))
    attachment = _insert(model, config.variant, configs, folders, labels, name or adapter_dir.name, config.value)
    try:
        expected: set[str] = set()
        for path, site in attachment.sites.items():
            site.fusion.scale = float(weight)
            site.fusion.requires_grad_(False)
            expected |= _fill(site.fusion, path, tensors, str(adapter_dir))
        load_head(model, adapter_dir, tensors, attachment)
        extra = set(tensors) - expected - {k for k in tensors if k.startswith(HEAD_PREFIX)}
        if extra:
            raise AdapterError(f"{adapter_dir}: {len(extra)} tensors do not fit this base (e.g. {min(extra)})")
    except Exception:
        attachment.detach()
        raise
    return attachment


def resolve_options(options: dict, pin: Any = None, resolver: Any = None, allow_base_mismatch: bool = False) -> dict:
    """The ``adapters`` option made local (hub references through ``resolver``) and checked against ``pin``."""
    return {**options, "members": resolve_members(options.get("adapters"), pin, resolver, allow_base_mismatch)}


def lineage(adapter_dir: Path) -> list[dict]:
    """The members as the card's lineage: id, exact version (hub members), digest, folder inside the adapter."""
    config = FusionConfig.load(Path(adapter_dir))
    return [
        {
            "id": m.get("id"),
            "version": m.get("version"),
            "digest": m.get("digest"),
            "method": "bottleneck",
            "weight": None,  # mixed by the learned attention, not by a fixed weight
            "path": m.get("path"),
        }
        for m in config.members
    ]
