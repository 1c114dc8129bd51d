"""What every adapted module does for one assignment of adapters to batch rows, decided once per assignment.

Why: a decode step of a small model is dominated by per-module overhead, not by the low-rank arithmetic.
Looking up each row's adapter, indexing rows out and adding them back on every module of every step cost
more than the products themselves. A ``RowPlan`` is built when a set of rows first runs and reused by every
decode step until a row joins or leaves (the runtime caches plans by the rows' adapters):

* plain LoRA on a module, every row on one adapter: one ``mm`` for ``x A^T`` and one in-place ``addmm`` into
  the layer's output (``A`` row-major, read through its transposed view; ``B^T`` contiguous);
* plain LoRA, rows on different adapters (or some on the base): the rows' factors gathered once into
  ``(rows, in, r)`` / ``(rows, r, out)`` stacks (zeros for a row without one, ranks zero-padded), so all rows
  run as one ``bmm`` and one in-place ``baddbmm`` (Punica's gathered product) with no row indexing per step;
* modules that read the same hidden state (``q/k/v``, ``gate/up``) share ONE ``x A^T`` product: their A
  factors are concatenated along the rank, the first of them called computes it, the others read their
  columns (only while it is the very same, unmodified input tensor; otherwise each computes its own);
* anything else on a module (DoRA, IA3, a bottleneck layer) runs the per-adapter loop on its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["SIBLINGS", "RowPlan"]

# Names of modules under one parent that read the same input (attention projections, gated MLP inputs).
SIBLINGS = (
    frozenset({"q_proj", "k_proj", "v_proj"}),
    frozenset({"gate_proj", "up_proj"}),
    frozenset({"query", "key", "value"}),
    frozenset({"q_lin", "k_lin", "v_lin"}),
)

Base = Callable[[tuple, dict], Any]
Step = Callable[[nn.Module, Base, tuple, dict], Any]


class SharedInput:
    """``x A^T`` for modules that read the same ``x``: computed by the first of them, read by the rest."""

    __slots__ = ("a", "version", "x", "xa")

    def __init__(self, a: torch.Tensor):
        self.a = a  # (in, R) for one adapter on every row, (rows, in, R) gathered
        self.x: torch.Tensor | None = None
        self.version = -1
        self.xa: torch.Tensor | None = None

    def product(self, x: torch.Tensor) -> torch.Tensor:
        if x is self.x and x._version == self.version:
            return self.xa  # type: ignore[return-value]
        a = self.a if self.a.dtype is x.dtype else self.a.to(x.dtype)
        if a.dim() == 2:
            xa = torch.mm(x.reshape(-1, x.shape[-1]), a)
        else:
            xa = torch.bmm(x.reshape(a.shape[0], -1, x.shape[-1]), a)
        self.x, self.version, self.xa = x, x._version, xa
        return xa

    def release(self) -> None:
        self.x = self.xa = None


def _low_rank_step(shared: SharedInput, lo: int, hi: int, b: torch.Tensor) -> Step:
    """``output += (x A^T)[lo:hi] B^T`` in place: ``addmm`` (one adapter) or ``baddbmm`` (gathered rows)."""
    whole = lo == 0 and hi == shared.a.shape[-1]

    def step(module: nn.Module, base: Base, args: tuple, kwargs: dict) -> Any:
        x = args[0]
        output = base(args, kwargs)
        xa = shared.product(x)
        if not whole:
            xa = xa[..., lo:hi]
        bb = b if b.dtype is output.dtype else b.to(output.dtype)
        in_place = not output.requires_grad and output.is_contiguous() and xa.dtype is output.dtype
        if bb.dim() == 2:
            if in_place:
                output.view(-1, output.shape[-1]).addmm_(xa, bb)
                return output
            return output + (xa @ bb).view(output.shape).to(output.dtype)
        if in_place:
            output.view(bb.shape[0], -1, output.shape[-1]).baddbmm_(xa, bb)
            return output
        return output + torch.bmm(xa, bb).view(output.shape).to(output.dtype)

    step.kind = "gathered" if b.dim() == 3 else "low-rank"  # type: ignore[attr-defined]
    return step


def _general_step(module_name: str, groups: list[tuple[Any, torch.Tensor | None]]) -> Step:
    """The per-adapter loop for a module some rows adapt by more than a plain LoRA (DoRA, IA3, bottleneck)."""

    def step(module: nn.Module, base: Base, args: tuple, kwargs: dict) -> Any:
        x = args[0] if args else None
        changed = False
        for row, idx in groups:
            vec = row.scale_in.get(module_name)
            if vec is None or x is None:
                continue
            if not changed:
                x, changed = x.clone(), True
            if idx is None:
                x = x * vec
            else:
                x[idx] = x[idx] * vec
        if changed:
            args = (x, *args[1:])
        output = base(args, kwargs)
        hidden = output[0] if isinstance(output, tuple) else output
        new = hidden
        for row, idx in groups:
            lora = row.lora.get(module_name)
            scale = row.scale_out.get(module_name)
            block = row.blocks.get(module_name)
            if lora is None and scale is None and block is None:
                continue
            ys = new if idx is None else new.index_select(0, idx)
            if lora is not None:
                a, b, dora = lora
                xs = x if idx is None else x.index_select(0, idx)
                delta = (xs @ a.T) @ b.T
                if dora is None:
                    ys = ys + delta
                else:
                    bias = getattr(module, "bias", None)
                    plain = ys if bias is None else ys - bias
                    ys = ys + (dora - 1) * plain + dora * delta
            if scale is not None:
                ys = ys * scale
            if block is not None:
                ys = block(ys)
            new = ys if idx is None else new.index_copy(0, idx, ys)
        if new is hidden:
            return output
        return (new, *output[1:]) if isinstance(output, tuple) else new

    step.kind = "general"  # type: ignore[attr-defined]
    return step


def _sibling_key(model: nn.Module, module_name: str) -> tuple | None:
    parent, _, leaf = module_name.rpartition(".")
    for group in SIBLINGS:
        if leaf in group:
            module = model.get_submodule(module_name)
            return (parent, group, getattr(module, "in_features", None))
    return None


class RowPlan:
    """Each adapted module's step for the rows' adapters ``names`` (``None``: the base); ``steps`` holds only
    modules that do something for these rows."""

    def __init__(self, model: nn.Module, adapters: dict[str, Any], modules: Sequence[str], names: Sequence[str | None]):
        self.names = tuple(names)
        self.steps: dict[str, Step] = {}
        self._shared: list[SharedInput] = []
        device = next(model.parameters()).device
        distinct: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            if name is not None:
                distinct.setdefault(name, []).append(i)
        groups = [
            (adapters[name], None if len(idx) == len(names) else torch.tensor(idx, dtype=torch.long, device=device))
            for name, idx in distinct.items()
        ]
        plain: list[str] = []
        for module_name in modules:
            used = [(row, idx) for row, idx in groups if module_name in row.modules or module_name in row.blocks]
            if not used:
                continue
            if all(
                module_name in row.lora
                and row.lora[module_name][2] is None
                and module_name not in row.blocks
                and module_name not in row.scale_out
                and module_name not in row.scale_in
                for row, _ in used
            ):
                plain.append(module_name)
            else:
                self.steps[module_name] = _general_step(module_name, used)
        one = groups[0][0] if len(groups) == 1 and groups[0][1] is None else None
        siblings: dict[Any, list[str]] = {}
        for module_name in plain:
            key = _sibling_key(model, module_name) or module_name
            siblings.setdefault(key, []).append(module_name)
        with torch.no_grad():
            for members in siblings.values():
                self._low_rank(members, one, [adapters[n] if n is not None else None for n in names])

    def _low_rank(self, members: list[str], one: Any, rows: list[Any]) -> None:
        """One shared ``A`` for ``members`` (they read the same input) and each member's ``B``."""
        if one is not None:  # every row on one adapter: plain 2-D factors
            # A row-major (R, in) like the layer's weight, read through its transposed view: a single-row
            # product reads it from memory faster than a contiguous A^T (in, R)
            a = torch.cat([one.lora[m][0] for m in members], dim=0).t()
            bs = [one.lora[m][1].t().contiguous() for m in members]
        else:  # rows gathered: zeros where a row has no factor, ranks padded to the largest
            ranks = [max(row.lora[m][0].shape[0] for row in rows if row is not None and m in row.lora) for m in members]
            some = next(row.lora[members[0]] for row in rows if row is not None and members[0] in row.lora)
            dtype, device, n_in = some[0].dtype, some[0].device, some[0].shape[1]
            a = torch.zeros(len(rows), n_in, sum(ranks), dtype=dtype, device=device)
            bs = []
            offset = 0
            for m, rank in zip(members, ranks, strict=True):
                n_out = next(row.lora[m][1].shape[0] for row in rows if row is not None and m in row.lora)
                b = torch.zeros(len(rows), rank, n_out, dtype=dtype, device=device)
                for i, row in enumerate(rows):
                    if row is not None and m in row.lora:
                        fa, fb, _ = row.lora[m]
                        a[i, :, offset : offset + fa.shape[0]] = fa.t()
                        b[i, : fb.shape[1]] = fb.t()
                bs.append(b)
                offset += rank
        shared = SharedInput(a)
        self._shared.append(shared)
        offset = 0
        for m, b in zip(members, bs, strict=True):
            rank = b.shape[-2]
            self.steps[m] = _low_rank_step(shared, offset, offset + rank, b)
            offset += rank

    @property
    def kinds(self) -> dict[str, str]:
        """Module -> how it runs for these rows (``low-rank``, ``gathered``, ``general``)."""
        return {m: getattr(s, "kind", "?") for m, s in self.steps.items()}

    @property
    def shared_groups(self) -> int:
        """How many ``x A^T`` products serve more than one module."""
        counts: dict[int, int] = {}
        for step in self.steps.values():
            for cell in getattr(step, "__closure__", None) or ():
                if isinstance(cell.cell_contents, SharedInput):
                    counts[id(cell.cell_contents)] = counts.get(id(cell.cell_contents), 0) + 1
        return sum(1 for c in counts.values() if c > 1)

    def nbytes(self) -> int:
        seen = {id(s.a): s.a for s in self._shared}
        return sum(t.numel() * t.element_size() for t in seen.values())

    def release(self) -> None:
        """Drop the inputs held for sharing (between forwards nothing is kept alive)."""
        for shared in self._shared:
            shared.release()
