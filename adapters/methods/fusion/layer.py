"""One AdapterFusion layer (Pfeiffer et al. 2021): per token, attention over the members' outputs.

The query comes from the block's own output, keys and values from each member's output; a softmax over the
N members weighs the values. With ``value=True`` (AdapterHub's "dynamic" fusion) a value projection, started as
the identity, maps each member's output first; with ``value=False`` (its "static" fusion) the fused output is
always a convex mix of the members' outputs, so a high learning rate cannot pull the block's output away from
every member (an unregularised 576x576 value matrix drifts far from the identity within tens of steps); but
its attention, with query and key both starting small, learns slowly, so it may stay near the uniform mix.
With one member either form IS that member's output (a softmax
over one score is exactly 1). Query and key start small, so the first mix is close to uniform.
"""

from __future__ import annotations

import torch
from torch import nn


class FusionLayer(nn.Module):
    """``softmax_n(q(h) . k(o_n)) @ v(o_n)``; ``scale`` (a stack weight) moves the result toward ``h``."""

    def __init__(self, hidden_size: int, value: bool = True) -> None:
        super().__init__()
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size) if value else None
        self.scale = 1.0
        for proj in (self.query, self.key):
            nn.init.normal_(proj.weight, std=0.02)
            nn.init.zeros_(proj.bias)
        if self.value is not None:
            with torch.no_grad():
                self.value.weight.copy_(torch.eye(hidden_size))
            nn.init.zeros_(self.value.bias)

    def weights(self, hidden: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        """Attention over the members, ``[..., N]``: ``hidden`` is ``[..., H]``, ``outputs`` ``[..., N, H]``."""
        query = self.query(hidden).unsqueeze(-2)
        keys = self.key(outputs)
        return torch.softmax((query * keys).sum(-1), dim=-1)

    def forward(self, hidden: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        dtype = self.query.weight.dtype
        hidden_in, outputs = hidden.to(dtype), outputs.to(dtype)
        probs = self.weights(hidden_in, outputs)
        values = self.value(outputs) if self.value is not None else outputs
        fused = (probs.unsqueeze(-1) * values).sum(-2).to(hidden.dtype)
        if self.scale == 1.0:
            return fused
        return hidden + self.scale * (fused - hidden)
