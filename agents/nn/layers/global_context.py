"""A graph-wide context added back to every node (a "virtual node", Gilmer et al. 2017)."""

from __future__ import annotations

import torch
from torch import nn


class GlobalContext(nn.Module):
    """`x + MLP(mean of the graph's real nodes)`, then LayerNorm.

    Message passing over a few layers reaches only a few hops, while a program's tests speak about
    the whole tree (inputs at the leaves, the expected output at the root); the pooled context lets
    every node hear every other in one step.

    Args:
        hidden: node width H.

    Shapes:
        x: [B, N, H]; node_mask: [B, N] -> [B, N, H].
    """

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor, node_mask: torch.Tensor) -> torch.Tensor:
        mask = node_mask.float().unsqueeze(-1)
        pooled = (x * mask).sum(1, keepdim=True) / mask.sum(1, keepdim=True).clamp(min=1.0)
        return self.norm(x + self.mlp(pooled))
