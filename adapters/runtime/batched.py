"""Many adapters in one forward pass on one frozen base: each row of the batch runs its own adapter.

Why: a model server answers requests on different adapters together (the Punica / S-LoRA idea in plain
torch). Nothing is merged and nothing is copied per request: each adapter's tensors are read once and
kept beside the base, and a forward pass is told which adapter each row uses (``rows``). On every adapted
module the rows are grouped by adapter and each distinct adapter costs one low-rank product on its rows
only (LoRA, DoRA), one per-row scale (IA3), or its bottleneck layer on its rows only. Prompt and prefix
adapters act on a row's inputs at prefill (``prepare``); their virtual tokens then live in that row's cache.

Adapters are read through the same attachments ``hub run`` uses (attached, read, detached again), so the
numbers served are the ones ``hub run`` folds into the weights; the base is left exactly as loaded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import AdapterError

__all__ = ["BatchedRuntime", "RowAdapter", "read_row_adapter"]


@dataclass
class RowAdapter:
    """One adapter's tensors keyed by the base module they act on (no hooks of its own)."""

    name: str
    method: str
    lora: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]] = field(default_factory=dict)
    scale_out: dict[str, torch.Tensor] = field(default_factory=dict)  # IA3 on outputs (bias included)
    scale_in: dict[str, torch.Tensor] = field(default_factory=dict)  # IA3 on inputs (feedforward modules)
    blocks: dict[str, nn.Module] = field(default_factory=dict)  # bottleneck layers after these blocks
    preparer: Any = None  # prompt/prefix attachment: ``prepare_inputs(model, inputs)``

    @property
    def modules(self) -> set[str]:
        return set(self.lora) | set(self.scale_out) | set(self.scale_in)

    def nbytes(self) -> int:
        tensors = [t for v in self.lora.values() for t in v if t is not None]
        tensors += [*self.scale_out.values(), *self.scale_in.values()]
        tensors += [p for m in self.blocks.values() for p in m.parameters()]
        for name in ("embeddings", "key_values"):
            value = getattr(self.preparer, name, None)
            if isinstance(value, torch.Tensor):
                tensors.append(value)
            elif isinstance(value, list):
                tensors += [t for kv in value for t in kv]
        return sum(t.numel() * t.element_size() for t in tensors)


def _method_spec(adapter_dir: Path):
    from ..registry import method_for_dir

    return method_for_dir(adapter_dir)


def _saves_modules(attachment: Any) -> bool:
    saved = getattr(attachment, "saved_modules", None)
    return bool(getattr(saved, "_originals", None)) or bool(getattr(attachment, "head_backup", None))


def read_row_adapter(model: nn.Module, adapter_dir: Path | str, name: str) -> RowAdapter:
    """Read a saved adapter for per-row use; refuses (one line) what cannot share a batch."""
    adapter_dir = Path(adapter_dir)
    spec = _method_spec(adapter_dir)
    names = {id(m): n for n, m in model.named_modules()}
    attachment = spec.attach(model, adapter_dir, weight=1.0, name=name)
    row = RowAdapter(name, spec.name)
    try:
        if _saves_modules(attachment):
            raise AdapterError(f"{name}: it replaces whole base modules (e.g. a trained head), so it cannot "
                               "share a batch with other adapters")
        if spec.prepares_inputs:
            row.preparer = attachment
            return row
        layers = getattr(attachment, "layers", None)
        if isinstance(layers, dict):  # bottleneck layers keyed by the block they follow
            row.blocks = dict(layers)
            return row
        for layer in layers or []:
            module_name = names[id(layer.module)]
            if hasattr(layer, "a"):
                dora = getattr(layer, "dora_scale", None)
                row.lora[module_name] = (layer.a.to(layer.module.weight.dtype),
                                         (layer.b * layer.scale).to(layer.module.weight.dtype),
                                         None if dora is None else dora.clone())
            elif hasattr(layer, "vector"):
                target = row.scale_in if layer.feedforward else row.scale_out
                target[module_name] = layer.vector.to(layer.module.weight.dtype)
            else:
                raise AdapterError(f"{name}: method {spec.name} cannot run per row in a shared batch")
        if not row.modules:
            raise AdapterError(f"{name}: method {spec.name} cannot run per row in a shared batch")
        return row
    finally:
        if row.preparer is None:
            attachment.detach()


class BatchedRuntime:
    """The base model plus any number of ``RowAdapter``s; ``rows`` says which one each batch row runs.

    One forward hook (and, for IA3 on inputs, one pre-hook) per adapted module, installed once for all
    adapters; with no rows set, or only base rows, the hooks return at once."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.adapters: dict[str, RowAdapter] = {}
        self._groups: list[tuple[RowAdapter, torch.Tensor | None]] = []
        self._handles: dict[str, list] = {}
        self._names: tuple[str | None, ...] = ()
        self._gathered: dict[tuple, dict[str, Any]] = {}  # rows' adapters -> module -> gathered LoRA factors

    # -- adapters ---------------------------------------------------------------------------
    def add(self, name: str, adapter_dir: Path | str) -> RowAdapter:
        if name in self.adapters:
            return self.adapters[name]
        row = read_row_adapter(self.model, adapter_dir, name)
        self.adapters[name] = row
        self._gathered.clear()
        for module_name in row.modules | set(row.blocks):
            self._hook(module_name)
        return row

    def remove(self, name: str) -> None:
        row = self.adapters.pop(name, None)
        if row is None:
            return
        self._gathered.clear()
        still = {m for r in self.adapters.values() for m in r.modules | set(r.blocks)}
        for module_name in (row.modules | set(row.blocks)) - still:
            for handle in self._handles.pop(module_name, []):
                handle.remove()

    def _hook(self, module_name: str) -> None:
        if module_name in self._handles:
            return
        module = self.model.get_submodule(module_name)
        self._handles[module_name] = [module.register_forward_pre_hook(self._pre_hook(module_name)),
                                      module.register_forward_hook(self._post_hook(module_name))]

    # -- rows -------------------------------------------------------------------------------
    @contextmanager
    def rows(self, names: Sequence[str | None]) -> Iterator[None]:
        """Within the block, row ``i`` of every forward runs adapter ``names[i]`` (``None``: the base)."""
        groups: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            if name is not None:
                if name not in self.adapters:
                    raise AdapterError(f"adapter {name} is not loaded")
                groups.setdefault(name, []).append(i)
        device = next(self.model.parameters()).device
        self._groups = [(self.adapters[name], None if len(idx) == len(names) else
                         torch.tensor(idx, dtype=torch.long, device=device)) for name, idx in groups.items()]
        self._names = tuple(names)
        try:
            yield
        finally:
            self._groups, self._names = [], ()

    def prepare(self, name: str | None, inputs: dict) -> dict:
        """Forward kwargs for one new sequence on adapter ``name`` (virtual tokens, a prefix cache)."""
        row = self.adapters.get(name) if name is not None else None
        if row is None or row.preparer is None:
            return dict(inputs)
        return row.preparer.prepare_inputs(self.model, inputs)

    GATHER_FROM = 3  # distinct plain-LoRA adapters on a module from which one batched product beats a loop

    def _gather(self, module_name: str) -> Any:
        """Every plain-LoRA row's factors on this module stacked (ranks zero-padded to the largest), so all of
        them run as one ``bmm`` pair (Punica's gathered product); ``False`` when a per-adapter loop is cheaper.
        Built once per set of rows' adapters, reused by every decode step until a row joins or leaves."""
        per_module = self._gathered.setdefault(self._names, {})
        if module_name in per_module:
            return per_module[module_name]
        rows = [(i, self.adapters[n].lora[module_name]) for i, n in enumerate(self._names)
                if n is not None and module_name in self.adapters[n].lora and self.adapters[n].lora[module_name][2] is None]
        plan: Any = False
        if len({id(f) for _, f in rows}) >= self.GATHER_FROM:
            rank = max(f[0].shape[0] for _, f in rows)
            a = torch.stack([torch.nn.functional.pad(f[0], (0, 0, 0, rank - f[0].shape[0])) for _, f in rows])
            b = torch.stack([torch.nn.functional.pad(f[1], (0, rank - f[1].shape[1])) for _, f in rows])
            idx = torch.tensor([i for i, _ in rows], dtype=torch.long, device=a.device)
            plan = (idx, a.transpose(1, 2).contiguous(), b.transpose(1, 2).contiguous())
        if len(self._gathered) > 64:
            self._gathered.clear()
            per_module = self._gathered.setdefault(self._names, {})
        per_module[module_name] = plan
        return plan

    # -- hooks ------------------------------------------------------------------------------
    def _pre_hook(self, module_name: str):
        def hook(_module: nn.Module, args: tuple):
            if not self._groups or not args:
                return None
            x = args[0]
            changed = False
            for row, idx in self._groups:
                vec = row.scale_in.get(module_name)
                if vec is None:
                    continue
                if not changed:
                    x, changed = x.clone(), True
                if idx is None:
                    x = x * vec
                else:
                    x[idx] = x[idx] * vec
            return (x, *args[1:]) if changed else None

        return hook

    def _post_hook(self, module_name: str):
        def hook(module: nn.Module, args: tuple, output: Any):
            if not self._groups:
                return None
            x = args[0] if args else None
            hidden = output[0] if isinstance(output, tuple) else output
            new = hidden
            gathered = self._gather(module_name) if x is not None and len(self._groups) >= self.GATHER_FROM else False
            if gathered:
                idx, a_t, b_t = gathered
                xs = x.index_select(0, idx).reshape(idx.numel(), -1, x.shape[-1])
                delta = torch.bmm(torch.bmm(xs, a_t), b_t).reshape(idx.numel(), *hidden.shape[1:])
                new = hidden.index_add(0, idx, delta)
            for row, idx in self._groups:
                lora = row.lora.get(module_name)
                if gathered and lora is not None and lora[2] is None:
                    lora = None  # already added by the gathered product
                scale = row.scale_out.get(module_name)
                block = row.blocks.get(module_name)
                if lora is None and scale is None and block is None:
                    continue
                if lora is not None and lora[2] is None and scale is None and block is None:
                    a, b, _ = lora
                    xs = x if idx is None else x.index_select(0, idx)
                    delta = (xs @ a.T) @ b.T
                    new = new + delta if idx is None else new.index_add(0, idx, delta)
                    continue
                ys = new if idx is None else new.index_select(0, idx)
                if lora is not None:
                    a, b, dora = lora
                    xs = x if idx is None else x.index_select(0, idx)
                    delta = (xs @ a.T) @ b.T
                    if dora is None:
                        ys = ys + delta
                    else:
                        base = ys if getattr(module, "bias", None) is None else ys - module.bias
                        ys = ys + (dora - 1) * base + dora * delta
                if scale is not None:
                    ys = ys * scale
                if block is not None:
                    ys = block(ys)
                new = ys if idx is None else new.index_copy(0, idx, ys)
            if new is hidden:
                return None
            return (new, *output[1:]) if isinstance(output, tuple) else new

        return hook
