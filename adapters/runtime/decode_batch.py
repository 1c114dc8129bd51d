"""A running decode batch that sequences join and leave between steps, each row on its own adapter.

Why: continuous batching. A new sequence is prefilled alone, exactly as ``hub run`` starts it (same
input preparation, same positions), then its key/value cache joins the running batch: caches are
left-padded to a common length and the padding is masked, and every row keeps its own positions, so a
row's numbers are those of the sequence run alone. A finished row leaves by index; columns of padding no
row needs any more are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .batched import BatchedRuntime
from .cache_kwarg import cache_argument, output_cache

__all__ = ["DecodeBatch", "Prefilled", "prefill"]


def _layers(cache: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    layers = getattr(cache, "layers", None)
    if layers is not None:
        return [(layer.keys, layer.values) for layer in layers]
    return list(zip(cache.key_cache, cache.value_cache, strict=False))  # transformers before the cache layers


def _make_cache(model: Any, layers: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> Any:
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    for i, (k, v) in enumerate(layers):
        cache.update(k, v, i)
    return cache


@dataclass
class Prefilled:
    """One sequence after its prefill: its cache, its next position and the last position's logits."""

    adapter: str | None
    layers: list[tuple[torch.Tensor, torch.Tensor]]
    length: int  # positions in its cache (virtual tokens included)
    logits: torch.Tensor  # (vocab,)


@torch.no_grad()
def prefill(runtime: BatchedRuntime, adapter: str | None, input_ids: torch.Tensor) -> Prefilled:
    """Run one prompt ``(1, n)`` alone on its adapter, as ``hub run``'s first forward does."""
    model = runtime.model
    inputs = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids), "use_cache": True}
    inputs = runtime.prepare(adapter, inputs)
    with runtime.rows([adapter]):
        out = model(**inputs)
    layers = _layers(output_cache(out))
    return Prefilled(adapter, layers, int(layers[0][0].shape[-2]), out.logits[0, -1])


class DecodeBatch:
    """Rows decoding together: a padded cache, its mask, each row's position and adapter."""

    def __init__(self, runtime: BatchedRuntime):
        self.runtime = runtime
        self.adapters: list[str | None] = []
        self.positions: list[int] = []
        self.layers: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.mask: torch.Tensor | None = None  # (rows, cache length)
        self._cache: Any = None  # the model's cache object between joins and leaves

    def __len__(self) -> int:
        return len(self.adapters)

    def _tensors(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        if self._cache is not None:
            self.layers, self._cache = _layers(self._cache), None
        return self.layers

    def join(self, seq: Prefilled) -> int:
        """Add a prefilled sequence as the last row; returns its row index."""
        self._tensors()
        mask = torch.ones(1, seq.length, dtype=torch.long, device=seq.layers[0][0].device)
        if not self.adapters:
            self.layers, self.mask = list(seq.layers), mask
        else:
            have = self.mask.shape[1]
            width = max(have, seq.length)
            self.layers = [
                (torch.cat([_pad(k, width), _pad(nk, width)]), torch.cat([_pad(v, width), _pad(nv, width)]))
                for (k, v), (nk, nv) in zip(self.layers, seq.layers, strict=False)
            ]
            self.mask = torch.cat([_pad_mask(self.mask, width), _pad_mask(mask, width)])
        self.adapters.append(seq.adapter)
        self.positions.append(seq.length)
        return len(self.adapters) - 1

    def leave(self, rows: Sequence[int]) -> None:
        """Drop rows (indices into the current batch)."""
        self._tensors()
        gone = set(rows)
        keep = [i for i in range(len(self.adapters)) if i not in gone]
        self.adapters = [self.adapters[i] for i in keep]
        self.positions = [self.positions[i] for i in keep]
        if not keep:
            self.layers, self.mask = [], None
            return
        index = torch.tensor(keep, dtype=torch.long, device=self.mask.device)
        mask = self.mask.index_select(0, index)
        used = mask.any(dim=0).nonzero()
        start = int(used[0]) if used.numel() else 0  # leading columns no remaining row attends to
        self.mask = mask[:, start:]
        self.layers = [
            (k.index_select(0, index)[..., start:, :], v.index_select(0, index)[..., start:, :]) for k, v in self.layers
        ]

    @torch.no_grad()
    def step(self, tokens: Sequence[int]) -> torch.Tensor:
        """Feed each row its last token; returns next-token logits ``(rows, vocab)``."""
        model = self.runtime.model
        device = self.mask.device
        ids = torch.tensor([[t] for t in tokens], dtype=torch.long, device=device)
        self.mask = torch.cat([self.mask, torch.ones(len(tokens), 1, dtype=self.mask.dtype, device=device)], dim=1)
        positions = torch.tensor([[p] for p in self.positions], dtype=torch.long, device=device)
        cache = self._cache if self._cache is not None else _make_cache(model, self.layers)
        with self.runtime.rows(self.adapters):
            out = model(
                input_ids=ids,
                attention_mask=self.mask,
                position_ids=positions,
                use_cache=True,
                **{cache_argument(model): cache},
            )
        self._cache, self.layers = output_cache(out), []
        self.positions = [p + 1 for p in self.positions]
        return out.logits[:, -1]


def _pad(t: torch.Tensor, width: int) -> torch.Tensor:
    missing = width - t.shape[-2]
    if missing <= 0:
        return t
    zeros = torch.zeros(*t.shape[:-2], missing, t.shape[-1], dtype=t.dtype, device=t.device)
    return torch.cat([zeros, t], dim=-2)


def _pad_mask(mask: torch.Tensor, width: int) -> torch.Tensor:
    missing = width - mask.shape[1]
    if missing <= 0:
        return mask
    return torch.cat([torch.zeros(mask.shape[0], missing, dtype=mask.dtype, device=mask.device), mask], dim=1)
