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


NODE_AXIS_KEYS = (
    "tokens", "prev_tokens", "node_mask", "masked", "arity", "depth", "position", "expected_type",
    "type_conflict", "node_failure", "node_suspicion", "node_values", "grammar_mask",
)  # fmt: skip
TEST_AXIS_KEYS = ("test_mask", "test_outcome", "expected_output", "test_inputs")


def crop_padding(obs: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], int]:
    """The observation without the node and test slots that no batch element uses, and the number
    of node slots kept.

    The env pads nodes and tests at the end (`node_mask`, `test_mask` are prefixes), and a median
    program has 11 of 64 node slots and 5 of 8 test slots real, so most of a padded batch's
    per-(node, test) work was padding (issue 27). Cropping to the batch's longest real prefix keeps
    every real slot in place, so nothing else changes; a batch whose masks are not prefixes is
    returned whole.

    Shapes: node keys [B, N, ...] -> [B, n, ...]; test keys [B, T, ...] -> [B, t, ...];
    `node_values` [B, N, T, F] -> [B, n, t, F]; other keys unchanged.
    """
    n, t = _prefix_length(obs["node_mask"]), _prefix_length(obs["test_mask"])
    if n is None or t is None:
        return dict(obs), obs["tokens"].shape[1]
    out = dict(obs)
    for key in NODE_AXIS_KEYS:
        if key in out:
            out[key] = out[key][:, :n]
    for key in TEST_AXIS_KEYS:
        if key in out:
            out[key] = out[key][:, :t]
    if "node_values" in out:
        out["node_values"] = out["node_values"][:, :, :t]
    return out, n


def _prefix_length(mask: torch.Tensor) -> int | None:
    """The longest real prefix over the batch (at least 1), or None if some row's real slots are
    not a prefix."""
    counts = mask.bool().sum(1)
    slots = torch.arange(mask.shape[1], device=mask.device)
    if not bool((mask.bool() == (slots < counts.unsqueeze(1))).all()):
        return None
    return max(int(counts.max()), 1) if counts.numel() else 1


def flatten_observation(obs: Mapping[str, torch.Tensor]) -> FlatEdges:
    """The disjoint-graph edges of a batched observation (`edge_index` [B, 2, E], ...)."""
    edge_index, edge_type, edge_mask = obs["edge_index"].long(), obs["edge_type"].long(), obs["edge_mask"]
    batch_size, num_nodes = obs["tokens"].shape
    offsets = torch.arange(batch_size, device=edge_index.device).view(batch_size, 1, 1) * num_nodes
    keep = edge_mask.bool()
    flat_index = (edge_index + offsets).permute(1, 0, 2)[:, keep]
    batch = torch.arange(batch_size, device=edge_index.device).repeat_interleave(num_nodes)
    return FlatEdges(flat_index, edge_type[keep], batch)
