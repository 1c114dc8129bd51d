"""One hook per module, however many adapters: LoRA-family updates fused into one low-rank pair.

Each adapted Linear gets a ``ModuleFuser`` holding the adapters' contributions in stack order, and ONE
hook: its ``forward`` is replaced (on the instance) by the fuser's, which scales the input, runs the
original forward, then the compiled steps. Replacing ``forward`` rather than registering forward hooks
keeps PyTorch's fast call path (registered hooks cost about three times the low-rank matmuls themselves on
a decode step). Before
the next forward after any change (an adapter added, removed, merged, unmerged or re-weighted) the fuser
compiles them into steps:

* consecutive low-rank updates become ONE pair: the A's concatenated along the rank, the B's concatenated
  and each scaled by its adapter's weight times its scale, so ``k`` adapters cost two matmuls, not ``2k``;
* consecutive output rescalings (IA3) are multiplied into one vector;
* anything that needs the output so far (DoRA's row rescaling) stays its own step, in its place, so the
  result equals the separate-hook one in any stack order;
* input rescalings (IA3 on feed-forward inputs) are multiplied into one vector, applied before the layer.

``separate_steps()`` compiles one step per contribution instead: the reference the fused result is
compared with in tests and benches. A module with no live contribution carries no hook at all (its
original ``forward`` is put back).
"""

from __future__ import annotations

import contextlib
import itertools
import types
import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LowRank", "OutputScale", "InputScale", "OutputStep", "ModuleFuser", "fuser_for", "separate_steps",
           "Slot", "is_fused"]

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
    """The contributions on one Linear and the one ``forward`` that runs them."""

    def __init__(self, module: nn.Module) -> None:
        self.module = weakref.ref(module)
        self.items: list = []
        self._steps: list | None = None
        self._input: torch.Tensor | None = None
        self._installed = False
        self._own_forward = None  # an instance-level forward someone set before us (put back on removal)

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
        self._steps = None

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
    def run(self, module: nn.Module, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        if self._steps is None:
            self._compile()
        if self._input is not None:
            x = x * self._input.to(x.dtype)
        if self._own_forward is not None:
            output = self._own_forward(x, *args, **kwargs)
        else:
            output = type(module).forward(module, x, *args, **kwargs)
        for step in self._steps:
            output = step(module, x, output)
        return output


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
