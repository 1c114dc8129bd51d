"""Many adapters in one forward pass on one frozen base: each row of the batch runs its own adapter.

Why: a model server answers requests on different adapters together (the Punica / S-LoRA idea in plain
torch). Nothing is merged and nothing is copied per request: each adapter's tensors are read once and
kept beside the base, and a forward pass is told which adapter each row uses (``rows``). What each adapted
module does for those rows is decided once per assignment (``row_plan.RowPlan``): plain LoRAs run as one
gathered low-rank product for all rows (modules reading the same input share its first half), DoRA, IA3 and
bottleneck layers as a loop over the distinct adapters on their rows only. Prompt and prefix
adapters act on a row's inputs at prefill (``prepare``); their virtual tokens then live in that row's cache.

Adapters are read through the same attachments ``hub run`` uses (attached, read, detached again), so the
numbers served are the ones ``hub run`` folds into the weights; the base is left exactly as loaded.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AdapterError
from .row_plan import RowPlan

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
            raise AdapterError(
                f"{name}: it replaces whole base modules (e.g. a trained head), so it cannot "
                "share a batch with other adapters"
            )
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
                row.lora[module_name] = (
                    layer.a.to(layer.module.weight.dtype),
                    (layer.b * layer.scale).to(layer.module.weight.dtype),
                    None if dora is None else dora.clone(),
                )
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

    Each adapted module's ``forward`` is replaced on the instance (registered hooks would put every call, base
    rows included, on PyTorch's slow call path); it runs the step the current ``RowPlan`` gives it, or just
    the base when no row is adapted there. Plans are built once per assignment of adapters to rows and kept
    (a few, least recently used first out) so decode steps of an unchanged batch reuse them."""

    MIXED_PLANS = 8  # gathered factor stacks kept for multi-adapter batches (each holds rows x factors)
    SINGLE_PLANS = 64  # plans of one adapter on every row (hold only concatenated A factors)

    def __init__(self, model: nn.Module):
        self.model = model
        self.adapters: dict[str, RowAdapter] = {}
        self._handles: dict[str, Any] = {}  # module name -> the instance forward it had before (or None)
        self._plan: dict[str, Any] | None = None  # module -> step, while ``rows`` runs
        self._plans: OrderedDict[tuple, RowPlan] = OrderedDict()

    # -- adapters ---------------------------------------------------------------------------
    def add(self, name: str, adapter_dir: Path | str) -> RowAdapter:
        if name in self.adapters:
            return self.adapters[name]
        row = read_row_adapter(self.model, adapter_dir, name)
        self.adapters[name] = row
        self._plans.clear()
        for module_name in row.modules | set(row.blocks):
            self._install(module_name)
        return row

    def remove(self, name: str) -> None:
        row = self.adapters.pop(name, None)
        if row is None:
            return
        self._plans.clear()
        still = {m for r in self.adapters.values() for m in r.modules | set(r.blocks)}
        for module_name in (row.modules | set(row.blocks)) - still:
            self._uninstall(module_name)

    def _install(self, module_name: str) -> None:
        if module_name in self._handles:
            return
        module = self.model.get_submodule(module_name)
        own = module.__dict__.get("forward")
        self._handles[module_name] = own
        linear = own is None and type(module) is nn.Linear
        runtime = weakref.ref(self)

        def base(args: tuple, kwargs: dict) -> Any:
            if linear and len(args) == 1 and not kwargs:
                return F.linear(args[0], module.weight, module.bias)
            if own is not None:
                return own(*args, **kwargs)
            return type(module).forward(module, *args, **kwargs)

        def forward(*args: Any, **kwargs: Any) -> Any:
            rt = runtime()
            plan = rt._plan if rt is not None else None
            step = plan.get(module_name) if plan else None
            if step is None:
                return base(args, kwargs)
            return step(module, base, args, kwargs)

        module.forward = forward

    def _uninstall(self, module_name: str) -> None:
        own = self._handles.pop(module_name)
        module = self.model.get_submodule(module_name)
        if own is None:
            module.__dict__.pop("forward", None)
        else:
            module.forward = own

    # -- rows -------------------------------------------------------------------------------
    def plan(self, names: Sequence[str | None]) -> RowPlan:
        """The (cached) plan for rows on ``names``; refuses an adapter that is not loaded."""
        key = tuple(names)
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
            return plan
        for name in key:
            if name is not None and name not in self.adapters:
                raise AdapterError(f"adapter {name} is not loaded")
        plan = RowPlan(self.model, self.adapters, list(self._handles), key)
        self._plans[key] = plan
        mixed = [k for k in self._plans if len({n for n in k}) > 1]
        single = [k for k in self._plans if len({n for n in k}) <= 1]
        for keys, limit in ((mixed, self.MIXED_PLANS), (single, self.SINGLE_PLANS)):
            for old in keys[: max(0, len(keys) - limit)]:
                del self._plans[old]
        return plan

    @contextmanager
    def rows(self, names: Sequence[str | None]) -> Iterator[None]:
        """Within the block, row ``i`` of every forward runs adapter ``names[i]`` (``None``: the base)."""
        plan = self.plan(names)
        self._plan = plan.steps
        try:
            yield
        finally:
            self._plan = None
            plan.release()

    def prepare(self, name: str | None, inputs: dict) -> dict:
        """Forward kwargs for one new sequence on adapter ``name`` (virtual tokens, a prefix cache)."""
        row = self.adapters.get(name) if name is not None else None
        if row is None or row.preparer is None:
            return dict(inputs)
        return row.preparer.prepare_inputs(self.model, inputs)
