"""One hook per module, however many adapters: LoRA-family updates fused into one low-rank pair.

Each adapted Linear gets a ``ModuleFuser`` holding the adapters' contributions in stack order. Before
the next forward after any change (an adapter added, removed, merged, unmerged or re-weighted) the fuser
compiles them into steps:

* consecutive low-rank updates become ONE pair: the A's concatenated along the rank, the B's concatenated
  and each scaled by its adapter's weight times its scale, so ``k`` adapters cost two matmuls, not ``2k``;
* consecutive output rescalings (IA3) are multiplied into one vector;
* anything that needs the output so far (DoRA's row rescaling) stays its own step, in its place, so the
  result equals the separate-hook one in any stack order;
* input rescalings (IA3 on feed-forward inputs) are multiplied into one vector in one pre-hook.

``separate_steps()`` compiles one step per contribution instead: the reference the fused result is
compared with in tests and benches. A module with no live contribution carries no hook at all.
"""

from __future__ import annotations

import contextlib
import itertools
import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LowRank", "OutputScale", "InputScale", "OutputStep", "ModuleFuser", "fuser_for", "separate_steps",
           "Slot"]

_order = itertools.count()
_fuse = [True]
_fusers: "weakref.WeakKeyDictionary[nn.Module, ModuleFuser]" = weakref.WeakKeyDictionary()


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


def _low_rank_step(a: torch.Tensor, b: torch.Tensor):
    def step(module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        return output + F.linear(F.linear(x, a.to(x.dtype)), b.to(x.dtype))

    return step


def _scale_step(v: torch.Tensor):
    def step(module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        return output * v.to(output.dtype)

    return step


class ModuleFuser:
    """The contributions on one Linear and the (at most) two hooks that run them."""

    def __init__(self, module: nn.Module) -> None:
        self.module = weakref.ref(module)
        self.items: list = []
        self._steps: list | None = None
        self._input: torch.Tensor | None = None
        self._hook = None
        self._pre_hook = None

    # -- membership ---------------------------------------------------------------------------
    def add(self, item) -> None:
        if item not in self.items:
            self.items.append(item)
            self.items.sort(key=lambda i: i.seq)
        self.invalidate()
        self._sync_hooks()

    def remove(self, item) -> None:
        if item in self.items:
            self.items.remove(item)
        self.invalidate()
        self._sync_hooks()

    def invalidate(self) -> None:
        """Re-fuse before the next forward (weights, membership or fusion mode changed)."""
        self._steps = None

    @property
    def hook_count(self) -> int:
        return int(self._hook is not None) + int(self._pre_hook is not None)

    def _sync_hooks(self) -> None:
        module = self.module()
        if module is None:
            return
        wants_out = any(not isinstance(i, InputScale) for i in self.items)
        wants_in = any(isinstance(i, InputScale) for i in self.items)
        if wants_out and self._hook is None:
            self._hook = module.register_forward_hook(self._forward)
        elif not wants_out and self._hook is not None:
            self._hook.remove()
            self._hook = None
        if wants_in and self._pre_hook is None:
            self._pre_hook = module.register_forward_pre_hook(self._pre_forward)
        elif not wants_in and self._pre_hook is not None:
            self._pre_hook.remove()
            self._pre_hook = None

    # -- compiling ----------------------------------------------------------------------------
    def _compile(self) -> None:
        fuse = _fuse[0]
        steps: list = []
        pending: list = []  # a run of items of one fusable kind

        def flush() -> None:
            if not pending:
                return
            if isinstance(pending[0], LowRank):
                a = torch.cat([p.a for p in pending], dim=0)
                b = torch.cat([p.b * p.factor() for p in pending], dim=1)
                steps.append(_low_rank_step(a, b))
            else:
                v = pending[0].vector()
                for p in pending[1:]:
                    v = v * p.vector()
                steps.append(_scale_step(v))
            pending.clear()

        inputs = None
        with torch.no_grad():
            for item in self.items:
                if isinstance(item, InputScale):
                    inputs = item.vector() if inputs is None else inputs * item.vector()
                    continue
                if isinstance(item, OutputStep):
                    flush()
                    steps.append(item.fn)
                    continue
                if pending and (type(pending[0]) is not type(item) or not fuse):
                    flush()
                pending.append(item)
            flush()
        self._steps, self._input = steps, inputs

    # -- running ------------------------------------------------------------------------------
    def _pre_forward(self, module: nn.Module, args: tuple):
        if self._steps is None:
            self._compile()
        if self._input is None:
            return None
        return (args[0] * self._input.to(args[0].dtype),) + tuple(args[1:])

    def _forward(self, module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        if self._steps is None:
            self._compile()
        x = args[0]
        for step in self._steps:
            output = step(module, x, output)
        return output


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
