"""RLlib (Ray 2.x, new API stack): an RLModule around our graph network, for PPO and the like.

    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from agents.integrations.rllib_module import RefineRLModule

    config.rl_module(rl_module_spec=RLModuleSpec(
        module_class=RefineRLModule,
        model_config={"network": {"hidden": 64}},  # or {"checkpoint": "checkpoints/scheduled_sampling.pt"}
    ))

The env is ProgramRefine-v0 with its own Dict observation: no wrapper, no flattening. RLlib's
connectors batch the Dict into a dict of tensors, which is what `RefineNet.backbone` reads; the
grammar masks come from the same observation (`grammar_mask`, `node_mask`), exactly as
`agents.acting.policy.action_distribution` applies them for our own trainers.

RLlib hands an action distribution one tensor, `ACTION_DIST_INPUTS`. This module puts the masked
log-probabilities there (flattened to `[B, N * V]`, disallowed entries about `MASK_FILL`), and the
distributions below rebuild the mask from them, so sampling, `logp`, entropy and KL on the env
runners and in the learner all see the grammar masks. Masked actions have probability exactly 0.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.distribution import Distribution
from ray.rllib.core.distribution.torch.torch_distribution import TorchDeterministic
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule

from agents.acting.policy import action_distribution
from agents.nn.checkpoint import load_checkpoint
from agents.nn.distribution import MASK_FILL, MaskedFlatCategorical, MaskedNodeCategorical, probabilities
from agents.nn.network import ModelConfig, RefineNet
from progrefine_env.lang import VOCAB_SIZE

_MASKED_BELOW = MASK_FILL / 2
"""Inputs below this are disallowed entries (network logits never come near `MASK_FILL`)."""


class _MaskedDistribution(Distribution):
    """An RLlib `Distribution` over one of `agents.nn.distribution`'s masked categoricals, built from
    the module's `ACTION_DIST_INPUTS` (masked log-probabilities, `[B, N * V]`)."""

    def __init__(self, inputs: torch.Tensor) -> None:
        super().__init__()
        self.inputs = inputs
        self.dist = self._build(inputs, inputs > _MASKED_BELOW)

    @staticmethod
    def _build(inputs: torch.Tensor, mask: torch.Tensor):
        raise NotImplementedError

    @classmethod
    def from_logits(cls, logits: torch.Tensor, **kwargs) -> _MaskedDistribution:
        return cls(logits)

    def sample(self, *, sample_shape=None, **kwargs) -> torch.Tensor:
        if sample_shape:
            raise NotImplementedError("sample_shape is not supported; RLlib's PPO never asks for one")
        return self.dist.sample()

    def rsample(self, *, sample_shape=None, **kwargs):
        raise NotImplementedError("a categorical has no reparameterised sample")

    def logp(self, value: torch.Tensor, **kwargs) -> torch.Tensor:
        return self.dist.log_prob(value)

    def entropy(self, **kwargs) -> torch.Tensor:
        return self.dist.entropy()

    def kl(self, other: _MaskedDistribution, **kwargs) -> torch.Tensor:
        """KL(self || other); both come from the same observations, hence the same masks, and a
        masked entry has probability exactly 0, so it adds 0 (never 0 * inf)."""
        p = self.dist.log_probs
        terms = probabilities(p) * (p - other.dist.log_probs)
        return terms.flatten(1).sum(-1)

    def to_deterministic(self) -> TorchDeterministic:
        return TorchDeterministic(loc=self.dist.mode())


class MaskedNodeDistribution(_MaskedDistribution):
    """`rewrite` mode (`MultiDiscrete([V] * N)`): one token per node, actions `[B, N]`."""

    @staticmethod
    def _build(inputs: torch.Tensor, mask: torch.Tensor) -> MaskedNodeCategorical:
        shape = (inputs.shape[0], -1, VOCAB_SIZE)
        # Padded nodes allow only <pad>: log-probability and entropy 0, so no node_mask is needed.
        return MaskedNodeCategorical(inputs.reshape(shape), mask.reshape(shape))

    @staticmethod
    def required_input_dim(space: gym.Space, **kwargs) -> int:
        return int(space.nvec.sum())


class MaskedFlatDistribution(_MaskedDistribution):
    """`edit` mode (`Discrete(N * V)`): one `(node, token)` pair, actions `[B]`."""

    @staticmethod
    def _build(inputs: torch.Tensor, mask: torch.Tensor) -> MaskedFlatCategorical:
        return MaskedFlatCategorical(inputs, mask)

    @staticmethod
    def required_input_dim(space: gym.Space, **kwargs) -> int:
        return int(space.n)


class RefineRLModule(TorchRLModule, ValueFunctionAPI):
    """`RefineNet` as an RLModule: backbone (RLlib's encoder), per-node masked token logits (pi
    head) and a value head on the pooled embedding (vf head, for PPO's `ValueFunctionAPI`).

    `model_config` keys (all optional):
        network: a dict of `agents.nn.network.ModelConfig` fields (a fresh network).
        checkpoint: the path of a supervised checkpoint to start from (e.g.
            `checkpoints/scheduled_sampling.pt`; its architecture wins over `network`). Every
            Ray worker reads the file: on several machines, give a path they all see.

    The action mode follows the action space: `MultiDiscrete` is `rewrite`, `Discrete` is `edit`.
    """

    def setup(self) -> None:
        config: dict[str, Any] = dict(self.model_config or {})
        if config.get("checkpoint"):
            self.net, _ = load_checkpoint(config["checkpoint"])
        else:
            self.net = RefineNet(ModelConfig(**config.get("network", {})))
        if isinstance(self.action_space, gym.spaces.MultiDiscrete):
            self.action_mode, self.action_dist_cls = "rewrite", MaskedNodeDistribution
        elif isinstance(self.action_space, gym.spaces.Discrete):
            self.action_mode, self.action_dist_cls = "edit", MaskedFlatDistribution
        else:
            raise ValueError(f"RefineRLModule needs ProgramRefine-v0's action space, got {self.action_space}")

    def _forward(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        inputs, _ = self._inputs_and_pooled(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: inputs}

    def _forward_train(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        inputs, pooled = self._inputs_and_pooled(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: inputs, Columns.EMBEDDINGS: pooled}

    def compute_values(self, batch: dict[str, Any], embeddings: torch.Tensor | None = None) -> torch.Tensor:
        if embeddings is None:
            embeddings = self.net.backbone(batch[Columns.OBS]).pooled
        return self.net.value_head(embeddings).squeeze(-1)

    def _inputs_and_pooled(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked log-probabilities `[B, N * V]` and the pooled embedding `[B, H]`."""
        features = self.net.backbone(obs)
        dist = action_distribution(self.net.token_head(features.nodes), obs, self.action_mode)
        return dist.log_probs.flatten(1), features.pooled
