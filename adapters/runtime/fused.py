"""One hook per module, however many adapters: LoRA-family updates fused into one low-rank pair.

Each adapted Linear gets a ``ModuleFuser`` holding the adapters' contributions in stack order, and ONE
hook: its ``forward`` is replaced (on the instance) by the fuser's, which scales the input, runs the
original forward, then the compiled steps. Replacing ``forward`` rather than registering forward hooks
keeps PyTorch's fast call path (registered hooks cost about three times the low-rank matmuls themselves on
a decode step). Before the next forward after any change (an adapter added, removed, merged, unmerged or
re-weighted) the fuser compiles them into steps:

* consecutive low-rank updates become ONE pair: the A's concatenated along the rank, the B's concatenated
  and each scaled by its adapter's weight times its scale, stored transposed and contiguous, so ``k``
  adapters cost one ``mm`` and one in-place ``addmm`` into the layer's output, not ``2k`` matmuls and adds;
  where the total rank ``r`` makes that dearer than the summed delta (``r * (in + out) >= in * out``) they
  become ONE dense ``(B A)^T`` and a single ``addmm``;
* consecutive output rescalings (IA3) are multiplied into one vector;
* anything that needs the output so far (DoRA's row rescaling) stays its own step, in its place, so the
  result equals the separate-hook one in any stack order;
* input rescalings (IA3 on feed-forward inputs) are multiplied into one vector, applied before the layer;
* Linears that read the same hidden state (``q/k/v``, ``gate/up``: ``link_siblings``) and each run exactly one
  low-rank pair share ONE ``x A^T`` product: their A's are concatenated along the rank, the first of them
  called computes it and the others read their columns, as long as it is the very same unmodified input.

The steps and the base call are compiled into one plan per module, so a call runs no checks, casts or
loops beyond the steps themselves; how each step computes (factor layouts, dtype caches, the fast forward of
a plain Linear) lives in ``fused_steps.py``.

``separate_steps()`` compiles one step per contribution, in the plainest form, instead: the reference the
fused result is compared with in tests and benches. A module with no live contribution carries no hook at all (its
original ``forward`` is put back).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import types
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .fused_steps import SharedProduct, compile_plan, factor_cache, pair_step, scale_step, shared_step
from .row_plan import SIBLINGS  # Linears under one parent that read the same input: one rule for both paths

__all__ = [
    "InputScale",
    "LowRank",
    "ModuleFuser",
    "OutputScale",
    "OutputStep",
    "Slot",
    "fuser_for",
    "is_fused",
    "link_siblings",
    "separate_steps",
]

_order = itertools.count()
_fuse = [True]
_fusers: weakref.WeakKeyDictionary[nn.Module, ModuleFuser] = weakref.WeakKeyDictionary()


@dataclass(eq=False)
class LowRank:
    """``output += factor() * B (A x)``; ``factor`` is read at compile time (weight x scale)."""

    a: torch.Tensor  # (r, in)
    b: torch.Tensor  # (out, r)
    factor: Callable[[], float]
    seq: int = field(default_factory=lambda: next(_order))


@dataclass(eq=False)
class OutputScale:
    """``output *= vector()`` (IA3 on a layer's output)."""

    vector: Callable[[], torch.Tensor]
    seq: int = field(default_factory=lambda: next(_order))


@dataclass(eq=False)
class InputScale:
    """``x *= vector()`` before the layer (IA3 on feed-forward inputs)."""

    vector: Callable[[], torch.Tensor]
    seq: int = field(default_factory=lambda: next(_order))


@dataclass(eq=False)
class OutputStep:
    """An update that needs the output so far (DoRA): never fused, run in its place."""

    fn: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]  # (module, x, output) -> output
    seq: int = field(default_factory=lambda: next(_order))


@contextlib.contextmanager
def separate_steps() -> Iterator[None]:
    """Compile one step per contribution (the unfused reference) while the block runs."""
    _fuse[0] = False
    for fuser in list(_fusers.values()):
        fuser.invalidate()
    try:
        yield
    finally:
        _fuse[0] = True
        for fuser in list(_fusers.values()):
            fuser.invalidate()


class ModuleFuser:
    """The contributions on one Linear and the one ``forward`` that runs them."""

    def __init__(self, module: nn.Module) -> None:
        self.module = weakref.ref(module)
        self.items: list = []
        self._steps: list | None = None
        self._inputs: list = []  # input rescalings (IA3 on feed-forward inputs), as dtype caches
        self._plan: Callable | None = None
        self._installed = False
        self._own_forward = None  # an instance-level forward someone set before us (put back on removal)
        self.group: _InputGroup | None = None  # Linears reading the same input (one shared x A^T)

    # -- membership ---------------------------------------------------------------------------
    def add(self, item) -> None:
        if item not in self.items:
            self.items.append(item)
            self.items.sort(key=lambda i: i.seq)
        self.invalidate()
        self._sync_hook()

    def remove(self, item) -> None:
        if item in self.items:
            self.items.remove(item)
        self.invalidate()
        self._sync_hook()

    def invalidate(self) -> None:
        """Re-fuse before the next forward (weights, membership or fusion mode changed)."""
        self._steps = self._plan = None
        if self.group is not None:
            self.group.invalidate()

    @property
    def hook_count(self) -> int:
        return int(self._installed)

    def _sync_hook(self) -> None:
        module = self.module()
        if module is None:
            return
        if self.items and not self._installed:
            self._own_forward = module.__dict__.get("forward")
            module.forward = types.MethodType(_fused_forward, module)
            self._installed = True
        elif not self.items and self._installed:
            if self._own_forward is None:
                del module.__dict__["forward"]
            else:
                module.forward = self._own_forward
            self._own_forward = None
            self._installed = False

    # -- compiling ----------------------------------------------------------------------------
    def _compile(self) -> Callable:
        """Fuse the items into steps and the steps into one plan ``(module, x, args, kwargs) -> output``."""
        fuse = _fuse[0]
        steps: list = []
        pending: list = []  # a run of items of one fusable kind

        def flush() -> None:
            if not pending:
                return
            if not fuse:
                steps.extend(_reference_step(p) for p in pending)
            elif isinstance(pending[0], LowRank):
                a = torch.cat([p.a for p in pending], dim=0)
                b = torch.cat([p.b * p.factor() for p in pending], dim=1)
                steps.append(pair_step(a, b))
            else:
                v = pending[0].vector()
                for p in pending[1:]:
                    v = v * p.vector()
                steps.append(scale_step(v))
            pending.clear()

        inputs: list[torch.Tensor] = []
        with torch.no_grad():
            for item in self.items:
                if isinstance(item, InputScale):
                    inputs.append(item.vector())
                    continue
                if isinstance(item, OutputStep):
                    flush()
                    steps.append(item.fn)
                    continue
                if pending and type(pending[0]) is not type(item):
                    flush()
                pending.append(item)
            flush()
            if inputs and fuse:
                inputs = [functools.reduce(torch.mul, inputs)]
        self._steps, self._inputs = steps, [factor_cache(v) for v in inputs]
        if fuse and self.group is not None and not inputs and len(steps) == 1:
            shared = self.group.step_for(self)
            if shared is not None:
                self._steps = [shared]
        module = self.module()
        plain = module is not None and type(module) is nn.Linear
        self._plan = compile_plan(self._own_forward, self._steps, self._inputs, plain)
        return self._plan

    def low_rank_pair(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(A, B)`` (weights folded into B) when this module's whole update is one low-rank pair, else None."""
        if not self.items or not all(isinstance(i, LowRank) for i in self.items):
            return None
        with torch.no_grad():
            a = torch.cat([p.a for p in self.items], dim=0)
            b = torch.cat([p.b * p.factor() for p in self.items], dim=1)
        r, n_in = a.shape
        if r * (n_in + b.shape[0]) >= n_in * b.shape[0]:
            return None  # runs as a dense delta: nothing to share
        return a, b

    # -- running ------------------------------------------------------------------------------
    def run(self, module: nn.Module, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        plan = self._plan
        if plan is None:
            plan = self._compile()
        return plan(module, x, args, kwargs)


class _InputGroup:
    """Fusers of Linears that read the same input; built lazily from the members that run one low-rank pair."""

    def __init__(self, fusers: list[ModuleFuser]) -> None:
        self.fusers = fusers
        self._steps: dict[int, Callable] | None = None
        self._shared: SharedProduct | None = None

    def invalidate(self) -> None:
        if self._steps is None:
            return
        self._steps = None
        if self._shared is not None:
            self._shared.x = self._shared.xa = None
        self._shared = None
        for fuser in self.fusers:
            fuser._steps = fuser._plan = None

    def step_for(self, fuser: ModuleFuser) -> Callable | None:
        if self._steps is None:
            pairs = [(f, f.low_rank_pair()) for f in self.fusers]
            pairs = [(f, p) for f, p in pairs if p is not None]
            self._steps = {}
            if len(pairs) > 1:
                shared = self._shared = SharedProduct(torch.cat([p[0] for _, p in pairs], dim=0))
                offset = 0
                for f, (a, b) in pairs:
                    self._steps[id(f)] = shared_step(shared, offset, offset + a.shape[0], b)
                    offset += a.shape[0]
        return self._steps.get(id(fuser))


def link_siblings(model: nn.Module) -> int:
    """Group the fusers of ``model``'s sibling Linears (``SIBLINGS``) so they share one ``x A^T``; returns
    how many groups have more than one adapted member. Cheap and idempotent: call after attaching."""
    found: dict[tuple, list[ModuleFuser]] = {}
    for name, module in model.named_modules():
        fuser = _fusers.get(module)
        if fuser is None or not isinstance(module, nn.Linear):
            continue
        parent, _, leaf = name.rpartition(".")
        for group in SIBLINGS:
            if leaf in group:
                found.setdefault((parent, group, module.in_features), []).append(fuser)
    linked = 0
    for fusers in found.values():
        if fusers[0].group is not None and fusers[0].group.fusers == fusers:
            linked += len(fusers) > 1
            continue
        for fuser in fusers:
            if fuser.group is not None:
                fuser.group.invalidate()
        group = _InputGroup(fusers) if len(fusers) > 1 else None
        for fuser in fusers:
            fuser.group = group
            fuser._steps = fuser._plan = None
        linked += group is not None
    return linked


def _reference_step(item):
    """One contribution on its own, in the plainest form (the unfused reference of ``separate_steps``)."""
    if isinstance(item, LowRank):
        a, b, factor = item.a, item.b, item.factor()

        def step(module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
            return output + factor * F.linear(F.linear(x, a.to(x.dtype)), b.to(x.dtype))
    else:
        v = item.vector()

        def step(module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
            return output * v.to(output.dtype)

    step.kind = "reference"
    return step


def _fused_forward(module: nn.Module, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    fuser = _fusers.get(module)
    if fuser is None:  # a copy of an adapted module: its adapters belong to the original
        return type(module).forward(module, x, *args, **kwargs)
    return fuser.run(module, x, *args, **kwargs)


def is_fused(module: nn.Module) -> bool:
    """True while ``module`` runs adapters through its fuser (one hook, whatever their number)."""
    fuser = _fusers.get(module)
    return bool(fuser and fuser.hook_count)


def fuser_for(module: nn.Module) -> ModuleFuser:
    """The one fuser of ``module`` (created on first use)."""
    fuser = _fusers.get(module)
    if fuser is None:
        fuser = _fusers[module] = ModuleFuser(module)
    return fuser


class Slot:
    """One adapter's contribution on one module, with the suspend/resume/remove of a hook.

    Merging suspends it (the update is in the weights, the module runs without it), unmerging resumes
    it in its original place in the stack order, re-weighting calls ``refresh``."""

    def __init__(self, module: nn.Module, item) -> None:
        self.fuser = fuser_for(module)
        self.item = item
        self.active = False
        self.resume()

    def suspend(self) -> None:
        if self.active:
            self.fuser.remove(self.item)
            self.active = False

    def resume(self) -> None:
        if not self.active:
            self.fuser.add(self.item)
            self.active = True

    def refresh(self) -> None:
        self.fuser.invalidate()

    def remove(self) -> None:
        self.suspend()
