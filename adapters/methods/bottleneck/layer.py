"""One bottleneck adapter: down-project, non-linearity, up-project, added back to its input.

The up-projection starts at zero so an untrained adapter is exactly the identity.
"""

from __future__ import annotations

import torch
from torch import nn

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh}


class BottleneckLayer(nn.Module):
    """``h + scale * up(act(down(h)))`` (or without ``h`` when residual is off)."""

    def __init__(
        self, hidden_size: int, bottleneck_size: int, non_linearity: str = "relu", residual: bool = True
    ) -> None:
        super().__init__()
        self.down = nn.Linear(hidden_size, bottleneck_size)
        self.act = _ACTIVATIONS[non_linearity]()
        self.up = nn.Linear(bottleneck_size, hidden_size)
        self.residual = residual
        self.scale = 1.0
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        delta = self.up(self.act(self.down(hidden.to(self.down.weight.dtype)))).to(hidden.dtype)
        return hidden + self.scale * delta if self.residual else self.scale * delta
