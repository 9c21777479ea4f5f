"""The graph network shared by every trainer: node encoder, typed message passing, a per-node token
head restricted to the grammar mask, and a pooled value head (for PPO)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn

from progrefine_env.graph import EDGE_TYPES
from progrefine_env.lang import VOCAB_SIZE

from .batching import flatten_observation
from .encoder import NodeEncoder
from .layers import GlobalContext, TypedGINELayer

MAX_ROUND_EMBEDDED = 7  # later rounds share the last embedding


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of `RefineNet`.

    Attributes:
        hidden: width of node embeddings.
        layers: rounds of message passing.
        global_context: after each round, add a pooled graph context to every node.
        round_input: add an embedding of the round number (the observation's `round` key, which
            `agents.rollout.EnvBatch` adds) to every node. Off by default: the prototype, fed the
            round, grew confident after round 0 without being right; see benchmarks/README.md, "Round
            number in the input", for the measurement behind the default.
    """

    hidden: int = 128
    layers: int = 4
    global_context: bool = True
    round_input: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


class NetOutput(NamedTuple):
    """Shapes: logits [B, N, V] (-inf outside the grammar mask); value [B]; nodes [B, N, H]."""

    logits: torch.Tensor
    value: torch.Tensor
    nodes: torch.Tensor


class RefineNet(nn.Module):
    """Per-node token logits and a state value for a batch of observations.

    Args:
        config: the architecture.

    Shapes:
        input: an observation dict of tensors with batch axis B (N nodes, V tokens).
        output: `NetOutput`.
    """

    def __init__(self, config: ModelConfig = ModelConfig()) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.encoder = NodeEncoder(h)
        self.round_embedding = nn.Embedding(MAX_ROUND_EMBEDDED + 1, h) if config.round_input else None
        self.layers = nn.ModuleList(TypedGINELayer(h, len(EDGE_TYPES)) for _ in range(config.layers))
        count = config.layers if config.global_context else 0
        self.contexts = nn.ModuleList(GlobalContext(h) for _ in range(count))
        self.token_head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, VOCAB_SIZE))
        self.value_head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))

    def forward(self, obs: dict[str, torch.Tensor], extra_allowed: torch.Tensor | None = None) -> NetOutput:
        """`extra_allowed` ([B, N] token ids) is added to the mask: training uses it so the target
        token always has finite log-probability, even where the current program's types exclude it."""
        batch_size, num_nodes = obs["tokens"].shape
        h = self.encoder(obs)
        if self.round_embedding is not None:
            if "round" not in obs:
                raise KeyError("this network was built with round_input=True: the observation needs a 'round' key")
            h = h + self.round_embedding(obs["round"].long().clamp(max=MAX_ROUND_EMBEDDED)).unsqueeze(1)
        edges = flatten_observation(obs)
        x = h.reshape(batch_size * num_nodes, -1)
        for k, layer in enumerate(self.layers):
            x = layer(x, edges.edge_index, edges.edge_type)
            if self.contexts:
                x = self.contexts[k](x.reshape(batch_size, num_nodes, -1), obs["node_mask"]).flatten(0, 1)
        nodes = x.reshape(batch_size, num_nodes, -1)
        allowed = obs["grammar_mask"].bool()
        if extra_allowed is not None:
            allowed = allowed.scatter(-1, extra_allowed.long().unsqueeze(-1), True)
        logits = self.token_head(nodes).masked_fill(~allowed, float("-inf"))
        node_mask = obs["node_mask"].float().unsqueeze(-1)
        pooled = (nodes * node_mask).sum(1) / node_mask.sum(1).clamp(min=1.0)
        return NetOutput(logits, self.value_head(pooled).squeeze(-1), nodes)
