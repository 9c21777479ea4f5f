"""Turning a batch of the environment's padded observations into one disjoint graph.

No Python loop per graph (NOTES.md): edge indices are offset by `b * max_nodes`, flattened, and
padded edges dropped with a boolean index; all `B * max_nodes` node slots are kept (padded nodes
have no edges), so node tensors reshape straight back to `[B, N, ...]`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch


class FlatEdges(NamedTuple):
    """Edges of a batch as one disjoint graph.

    Shapes:
        edge_index: [2, E'] node indices into the flattened `B * N` slots.
        edge_type: [E'].
        batch: [B * N] graph index of every node slot.
    """

    edge_index: torch.Tensor
    edge_type: torch.Tensor
    batch: torch.Tensor


def stack_observations(observations: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """A list of single observations as one dict of arrays with a leading batch axis."""
    return {key: np.stack([obs[key] for obs in observations]) for key in observations[0]}


def to_tensors(observations: Mapping[str, np.ndarray | torch.Tensor], device: torch.device | str = "cpu"):
    """A batched observation dict as tensors on `device` (integer arrays as long, floats as float)."""
    out = {}
    for key, value in observations.items():
        tensor = torch.as_tensor(value, device=device)
        out[key] = tensor.float() if tensor.is_floating_point() else tensor.long()
    return out


def flatten_observation(obs: Mapping[str, torch.Tensor]) -> FlatEdges:
    """The disjoint-graph edges of a batched observation (`edge_index` [B, 2, E], ...)."""
    edge_index, edge_type, edge_mask = obs["edge_index"].long(), obs["edge_type"].long(), obs["edge_mask"]
    batch_size, num_nodes = obs["tokens"].shape
    offsets = torch.arange(batch_size, device=edge_index.device).view(batch_size, 1, 1) * num_nodes
    keep = edge_mask.bool()
    flat_index = (edge_index + offsets).permute(1, 0, 2)[:, keep]
    batch = torch.arange(batch_size, device=edge_index.device).repeat_interleave(num_nodes)
    return FlatEdges(flat_index, edge_type[keep], batch)
