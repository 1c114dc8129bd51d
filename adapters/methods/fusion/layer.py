"""One AdapterFusion layer (Pfeiffer et al. 2021): per token, attention over the members' outputs.

The query comes from the block's own output, keys and values from each member's output; a softmax over the
N members weighs the values. The value projection starts as the identity, so at the start the fused output
is a convex mix of the members' outputs, and with one member it IS that member's output (a softmax over one
score is exactly 1). Query and key start small, so the first mix is close to uniform.
"""

from __future__ import annotations

import torch
from torch import nn


class FusionLayer(nn.Module):
    """``softmax_n(q(h) . k(o_n)) @ v(o_n)``; ``scale`` (a stack weight) moves the result toward ``h``."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.scale = 1.0
        for proj in (self.query, self.key):
            nn.init.normal_(proj.weight, std=0.02)
            nn.init.zeros_(proj.bias)
        with torch.no_grad():
            self.value.weight.copy_(torch.eye(hidden_size))
        nn.init.zeros_(self.value.bias)

    def weights(self, hidden: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        """Attention over the members, ``[..., N]``: ``hidden`` is ``[..., H]``, ``outputs`` ``[..., N, H]``."""
        query = self.query(hidden).unsqueeze(-2)
        keys = self.key(outputs)
        return torch.softmax((query * keys).sum(-1), dim=-1)

    def forward(self, hidden: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        dtype = self.value.weight.dtype
        hidden_in, outputs = hidden.to(dtype), outputs.to(dtype)
        probs = self.weights(hidden_in, outputs)
        fused = (probs.unsqueeze(-1) * self.value(outputs)).sum(-2).to(hidden.dtype)
        if self.scale == 1.0:
            return fused
        return hidden + self.scale * (fused - hidden)
