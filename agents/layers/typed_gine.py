"""GINE message passing over typed edges, with a residual connection."""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import GINEConv


class TypedGINELayer(nn.Module):
    """One round of message passing: `h + GINE(h, edges, embed(edge_type))`, then LayerNorm.

    GINE (Hu et al. 2020, "Strategies for Pre-training GNNs") adds an edge embedding to each
    message; here the embedding is that of the edge's type (child, parent, sibling, binder), so
    one layer serves all edge types. NOTES.md: GINE was the fastest typed layer on CPU.

    Args:
        hidden: node width H.
        num_edge_types: number of edge types.

    Shapes:
        x: [num_nodes, H]; edge_index: [2, E]; edge_type: [E] -> [num_nodes, H].
    """

    def __init__(self, hidden: int, num_edge_types: int) -> None:
        super().__init__()
        self.edge_embedding = nn.Embedding(num_edge_types, hidden)
        mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.conv = GINEConv(mlp, train_eps=True)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_type: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.conv(x, edge_index, self.edge_embedding(edge_type)))
