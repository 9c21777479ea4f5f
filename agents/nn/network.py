"""The graph network shared by every trainer: a backbone (node encoder, typed message passing,
pooled context), a per-node token head giving raw logits, and a pooled value head."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn

from progrefine_env.graph import EDGE_TYPES
from progrefine_env.lang import VOCAB_SIZE

from .batching import crop_padding, flatten_observation
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
        round_input: add an embedding of the round number (an observation key `round` that no env
            produces: the caller adds it) to every node. Off by default: the prototype, fed the
            round, grew confident after round 0 without being right; see benchmarks/README.md, "Round
            number in the input", for the measurement behind the default.
    """

    hidden: int = 128
    layers: int = 4
    global_context: bool = True
    round_input: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


class BackboneOutput(NamedTuple):
    """Shapes: nodes [B, N, H] (per-node embeddings); pooled [B, H] (mean over real nodes)."""

    nodes: torch.Tensor
    pooled: torch.Tensor


class NetOutput(NamedTuple):
    """Shapes: logits [B, N, V] (raw: the grammar mask is applied by `agents.nn.distribution`); value
    [B]; nodes [B, N, H]."""

    logits: torch.Tensor
    value: torch.Tensor
    nodes: torch.Tensor


class GraphBackbone(nn.Module):
    """Observation to node embeddings: node encoder, typed message passing, pooled global context.

    The part of the policy that Stable-Baselines3 calls a features extractor and RLlib an encoder.

    Args:
        config: the architecture.

    Shapes:
        input: an observation dict of tensors with batch axis B (N nodes).
        output: `BackboneOutput` (nodes [B, N, H], pooled [B, H]).
    """

    def __init__(self, config: ModelConfig = ModelConfig()) -> None:
        super().__init__()
        h = config.hidden
        self.encoder = NodeEncoder(h)
        self.round_embedding = nn.Embedding(MAX_ROUND_EMBEDDED + 1, h) if config.round_input else None
        self.layers = nn.ModuleList(TypedGINELayer(h, len(EDGE_TYPES)) for _ in range(config.layers))
        count = config.layers if config.global_context else 0
        self.contexts = nn.ModuleList(GlobalContext(h) for _ in range(count))

    @property
    def packed(self) -> bool:
        """True (the default): skip padding, cropping the batch to its real node and test slots and
        encoding only real (node, test) pairs; False: the padded reference path. Both give the same
        outputs at real nodes up to float rounding (tested to 1e-5); padded nodes' outputs, which
        every mask ignores, are unspecified (zeros past the batch's longest program)."""
        return self.encoder.packed

    @packed.setter
    def packed(self, value: bool) -> None:
        self.encoder.packed = value

    def forward(self, obs: dict[str, torch.Tensor]) -> BackboneOutput:
        slots = obs["tokens"].shape[1]
        cropped, kept = self.crop(obs)
        out = self.encode(cropped)
        return out if kept == slots else BackboneOutput(pad_nodes(out.nodes, slots), out.pooled)

    def crop(self, obs: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], int]:
        """`crop_padding(obs)` on the packed path; the whole observation on the padded one."""
        return crop_padding(obs) if self.packed else (dict(obs), obs["tokens"].shape[1])

    def encode(self, obs: dict[str, torch.Tensor]) -> BackboneOutput:
        """The backbone on `obs` as given (already cropped, or padded): nodes [B, n, H]."""
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
        node_mask = obs["node_mask"].float().unsqueeze(-1)
        pooled = (nodes * node_mask).sum(1) / node_mask.sum(1).clamp(min=1.0)
        return BackboneOutput(nodes, pooled)


class RefineNet(nn.Module):
    """Per-node token logits and a state value for a batch of observations.

    Three parts, one to one with a Stable-Baselines3 policy (features extractor, `action_net`,
    `value_net`) and an RLlib RLModule (encoder, pi head, vf head): `backbone`, `token_head` (raw
    per-node logits, one Linear stack shared by all nodes) and `value_head` (on the pooled embedding).

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
        self.backbone = GraphBackbone(config)
        self.token_head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, VOCAB_SIZE))
        self.value_head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))
        self._register_load_state_dict_pre_hook(_rename_unsplit_keys)

    def forward(self, obs: dict[str, torch.Tensor]) -> NetOutput:
        slots = obs["tokens"].shape[1]
        cropped, kept = self.backbone.crop(obs)
        features = self.backbone.encode(cropped)  # cropped once: the heads run on the real slots only too
        nodes, logits = features.nodes, self.token_head(features.nodes)
        if kept < slots:
            nodes, logits = pad_nodes(nodes, slots), pad_nodes(logits, slots)
        return NetOutput(logits, self.value_head(features.pooled).squeeze(-1), nodes)


def pad_nodes(per_node: torch.Tensor, slots: int) -> torch.Tensor:
    """`[B, n, ...]` zero-padded to `[B, slots, ...]` along the node axis."""
    pad = [0, 0] * (per_node.dim() - 2) + [0, slots - per_node.shape[1]]
    return nn.functional.pad(per_node, pad)


_BACKBONE_PREFIXES = ("encoder.", "round_embedding.", "layers.", "contexts.")


def _rename_unsplit_keys(state_dict, prefix, *args) -> None:
    """Checkpoints written before the backbone split (format 2, shipped until 2026-12) name the
    backbone's parameters without `backbone.`: rename them in place so they load unchanged."""
    for key in list(state_dict):
        rest = key[len(prefix) :]
        if key.startswith(prefix) and rest.startswith(_BACKBONE_PREFIXES):
            state_dict[f"{prefix}backbone.{rest}"] = state_dict.pop(key)
