"""How one fused update computes: the steps a ``ModuleFuser`` compiles its contributions into, and the plan
that runs a module's base forward and its steps as one call.

Kept apart from ``fused.py`` (which decides *which* steps a module gets, keeps them current as adapters come
and go, and installs the one hook) so that the arithmetic, the factor layouts and their reasons sit in one
place:

* A factors are kept ``A (r, in)``, row-major like the layer's own weight, and multiplied as ``x A^T`` through
  a transposed view: on a single-row decode step that reads the factor at the same rate as the base weight,
  where a pre-transposed ``A^T (in, r)`` ran the small product about 1.5x slower from memory;
* factors are converted to a new activation dtype once, then cached (``factor_cache``);
* a plain ``nn.Linear`` whose whole update is one low-rank pair runs the step's ``fast`` forward: the base
  ``linear`` and the in-place ``addmm`` in one function, with no per-call dispatch between plan, base and step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "SharedProduct",
    "add_product",
    "compile_plan",
    "factor_cache",
    "pair_step",
    "scale_step",
    "shared_step",
]


def factor_cache(*factors: torch.Tensor) -> Callable[[torch.dtype], tuple[torch.Tensor, ...]]:
    """The factors in the activations' dtype: converted once per dtype, never per call."""
    cache = {factors[0].dtype: factors}

    def get(dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        found = cache.get(dtype)
        if found is None:
            found = cache[dtype] = tuple(f.to(dtype) for f in factors)
        return found

    return get


def add_product(output: torch.Tensor, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """``output + left @ right`` with ``output`` seen as rows: one ``addmm``, in place where that is safe."""
    rows = output.shape[-1]
    same = output.dtype is left.dtype and left.dtype is right.dtype  # not so under autocast
    if same and not output.requires_grad and output.is_contiguous():
        output.view(-1, rows).addmm_(left, right)
        return output
    if same:
        return torch.addmm(output.reshape(-1, rows), left, right).view(output.shape)
    return output + (left @ right).view(output.shape).to(output.dtype)


def linear_fast(step: Callable, product: Callable, b_t: Callable[[torch.dtype], torch.Tensor]) -> Callable:
    """A plain Linear's whole forward with one low-rank pair: ``linear`` then ``addmm_`` of ``product(x) B^T``
    into its output; anything unusual (extra arguments, autograd, a dtype change) takes ``step``'s general path."""

    def fast(module: nn.Module, x: torch.Tensor, args: tuple, kwargs: dict) -> torch.Tensor:
        if args or kwargs:
            return step(module, x, type(module).forward(module, x, *args, **kwargs))
        output = F.linear(x, module.weight, module.bias)
        if output.requires_grad or output.dtype is not x.dtype or not output.is_contiguous():
            return step(module, x, output)
        output.view(-1, output.shape[-1]).addmm_(product(x), b_t(x.dtype))
        return output

    return fast


def low_rank_step(a: torch.Tensor, b: torch.Tensor):
    """``output += (x A^T) B^T``: two matmuls on contiguous factors ``A (r, in)`` (read through its transposed
    view) and ``B^T (r, out)``."""
    factors = factor_cache(a.contiguous().t(), b.t().contiguous())  # the transposed view keeps A's layout

    def product(x: torch.Tensor) -> torch.Tensor:
        return torch.mm(x.reshape(-1, x.shape[-1]), factors(x.dtype)[0])

    def b_t(dtype: torch.dtype) -> torch.Tensor:
        return factors(dtype)[1]

    def step(module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        return add_product(output, product(x), b_t(x.dtype))

    step.kind = "low-rank"
    step.fast = linear_fast(step, product, b_t)
    return step


def dense_step(a: torch.Tensor, b: torch.Tensor):
    """``output += x (B A)^T``: one matmul with the summed delta (kept ``(out, in)`` like the weight), for a
    total rank too big to pay off."""
    factors = factor_cache((b @ a).contiguous().t())

    def step(module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        (delta_t,) = factors(x.dtype)
        return add_product(output, x.reshape(-1, x.shape[-1]), delta_t)

    step.kind = "dense"
    return step


def pair_step(a: torch.Tensor, b: torch.Tensor):
    """The cheaper exact form of ``B A``: low-rank while ``r (in + out) < in * out``, else the dense delta."""
    r, n_in = a.shape
    n_out = b.shape[0]
    return dense_step(a, b) if r * (n_in + n_out) >= n_in * n_out else low_rank_step(a, b)


def scale_step(v: torch.Tensor):
    factors = factor_cache(v)

    def step(module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        return output * factors(output.dtype)[0]

    step.kind = "scale"
    return step


class SharedProduct:
    """``x A^T`` for the group's concatenated A: computed once per input tensor, read by every member."""

    __slots__ = ("a_columns", "factors", "version", "x", "xa")

    def __init__(self, a: torch.Tensor) -> None:
        self.factors = factor_cache(a.contiguous().t())  # A (r, in) row-major, read through its transposed view
        self.x: torch.Tensor | None = None
        self.version = -1
        self.xa: torch.Tensor | None = None
        self.a_columns = a.shape[0]

    def product(self, x: torch.Tensor) -> torch.Tensor:
        if x is self.x and x._version == self.version:
            return self.xa  # type: ignore[return-value]
        (a_t,) = self.factors(x.dtype)
        xa = torch.mm(x.reshape(-1, x.shape[-1]), a_t)
        self.x, self.version, self.xa = x, x._version, xa
        return xa


def shared_step(shared: SharedProduct, lo: int, hi: int, b: torch.Tensor):
    """``output += (x A_group^T)[:, lo:hi] B^T``: this member's columns of the group's one product."""
    factors = factor_cache(b.t().contiguous())

    def product(x: torch.Tensor) -> torch.Tensor:
        return shared.product(x)[:, lo:hi]

    def b_t(dtype: torch.dtype) -> torch.Tensor:
        return factors(dtype)[0]

    def step(module: nn.Module, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        return add_product(output, product(x), b_t(x.dtype))

    step.kind = "shared-low-rank"
    step.fast = linear_fast(step, product, b_t)
    return step


def compile_plan(own_forward, steps: list, inputs: list, plain_linear: bool = False) -> Callable:
    """The module's whole forward with everything decided at fuse time: no per-call checks or loops
    beyond the steps themselves (one for any number of LoRAs)."""
    if plain_linear and own_forward is None and not inputs and len(steps) == 1 and hasattr(steps[0], "fast"):
        return steps[0].fast

    def base(module: nn.Module, x: torch.Tensor, args: tuple, kwargs: dict) -> torch.Tensor:
        if own_forward is not None:
            return own_forward(x, *args, **kwargs)
        if type(module) is nn.Linear and not args and not kwargs:
            return F.linear(x, module.weight, module.bias)
        return type(module).forward(module, x, *args, **kwargs)

    if not inputs and len(steps) == 1:
        (only,) = steps

        def plan(module: nn.Module, x: torch.Tensor, args: tuple, kwargs: dict) -> torch.Tensor:
            return only(module, x, base(module, x, args, kwargs))

        return plan

    def plan(module: nn.Module, x: torch.Tensor, args: tuple, kwargs: dict) -> torch.Tensor:
        for vector in inputs:
            x = x * vector(x.dtype)[0]
        output = base(module, x, args, kwargs)
        for step in steps:
            output = step(module, x, output)
        return output

    return plan
