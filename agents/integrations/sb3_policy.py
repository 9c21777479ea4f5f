"""The graph network as a Stable-Baselines3 / sb3-contrib policy, for both action modes.

    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO
    from agents.integrations.sb3_policy import GraphActorCriticPolicy, MaskableGraphPolicy, warm_start

    model = MaskablePPO(MaskableGraphPolicy, env)                # masks from env.action_masks() too
    model = PPO(GraphActorCriticPolicy, env)                     # masks from the observation only
    warm_start(model.policy, "checkpoints/scheduled_sampling.pt")  # a supervised checkpoint's weights

SB3's policy split (NOTES.md) maps one to one onto `agents.nn.network.RefineNet`:

- features extractor (`GraphFeaturesExtractor`): the `GraphBackbone`. SB3 hands it float tensors
  (it casts integer `Box`es to float); the integer keys are cast back with `.long()` here. Its
  output is one flat row per observation: per-node embeddings, the node mask (in `edit` mode the
  current tokens instead) and the grammar mask, so that the action head can mask as the env does
  (`edit` mode: `agents.nn.distribution.edit_mask`, no node's current token, and `edit_scores`), and
  the pooled embedding.
- `mlp_extractor` (`GraphLatents`): the per-node part to the actor, the pooled one through the
  value head's hidden layer to the critic.
- `action_net` (`PerNodeActionHead`): `RefineNet.token_head` applied to every node, disallowed
  tokens filled with `MASK_FILL`; `value_net`: the value head's last layer.
- the action distribution (`GraphDistribution`): `agents.nn.distribution`'s masked categoricals,
  tensor ops on `[B, N, V]` (sb3-contrib's own MultiDiscrete distribution builds one Categorical
  per node and ran 5x slower at this size). The grammar mask comes from the observation, so plain
  `PPO` samples only allowed actions too; MaskablePPO's `action_masks` are intersected with it.

Weights therefore load exactly from our checkpoints (`warm_start`) and go back to a `RefineNet`
(`to_refinenet`) for `agents.acting.refine`'s report. Orthogonal initialisation is off by default (the
network's own initialisation is what supervised training used).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from stable_baselines3.common.distributions import CategoricalDistribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from progrefine_env.lang import PAD

from ..nn.checkpoint import load_checkpoint
from ..nn.distribution import MASK_FILL, MaskedFlatCategorical, MaskedNodeCategorical, edit_mask, edit_scores
from ..nn.network import GraphBackbone, ModelConfig, RefineNet, pad_nodes


def _sizes(observation_space: spaces.Dict) -> tuple[int, int]:
    """(N nodes, V tokens) of the env's observation space."""
    return observation_space["grammar_mask"].shape


class GraphFeaturesExtractor(BaseFeaturesExtractor):
    """The graph backbone as SB3's features extractor.

    Args:
        observation_space: the env's `Dict` observation space.
        model_config: the backbone's architecture (a `ModelConfig` or its dict).
        action_mode: "rewrite" or "edit" (the policies set it from the action space): whether the
            output carries the node mask or the current tokens.

    Shapes:
        input: observation dict of float tensors (SB3's preprocessing), batch B.
        output: [B, N*H + N + N*V + H]: node embeddings, node mask (`edit`: current tokens), grammar
            mask, pooled embedding.
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        model_config: ModelConfig | dict | None = None,
        action_mode: str = "rewrite",
    ) -> None:
        if action_mode not in ("rewrite", "edit"):
            raise ValueError(f"action_mode={action_mode!r} is not one of ('rewrite', 'edit')")
        self.action_mode = action_mode
        config = ModelConfig(**model_config) if isinstance(model_config, dict) else model_config or ModelConfig()
        num_nodes, vocab = _sizes(observation_space)
        super().__init__(observation_space, num_nodes * (config.hidden + 1 + vocab) + config.hidden)
        self.config, self.num_nodes, self.vocab = config, num_nodes, vocab
        self.backbone = GraphBackbone(config)
        self._integer_keys = [k for k, s in observation_space.spaces.items() if np.issubdtype(s.dtype, np.integer)]

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        obs = {k: v.long() if k in self._integer_keys else v for k, v in observations.items()}
        nodes, pooled = self.backbone(obs)
        per_node = observations["tokens" if self.action_mode == "edit" else "node_mask"].float()
        masks = (per_node, observations["grammar_mask"].float().flatten(1))
        return torch.cat([nodes.flatten(1), *masks, pooled], dim=1)


class GraphLatents(nn.Module):
    """SB3's `mlp_extractor`: the per-node features (and masks) to the actor unchanged, the pooled
    embedding through the value head's hidden layer to the critic.

    Shapes: features [B, N*H + N + N*V + H]; actor latent [B, N*H + N + N*V]; critic latent [B, H].
    """

    def __init__(self, num_nodes: int, hidden: int, vocab: int) -> None:
        super().__init__()
        self.latent_dim_pi = num_nodes * (hidden + 1 + vocab)
        self.latent_dim_vf = hidden
        self.critic = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return features[:, : self.latent_dim_pi]

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self.critic(features[:, self.latent_dim_pi :])


class PerNodeActionHead(nn.Module):
    """`RefineNet.token_head` on every node, disallowed tokens filled with `MASK_FILL`, as the env's
    masks: in `rewrite` mode the grammar mask (padded nodes: only `<pad>`); in `edit` mode
    `edit_mask` (padded nodes and current tokens allow nothing) over `edit_scores`, exactly as
    `agents.acting.policy.action_distribution` (padded slots hold `<pad>`, token 0: the node mask).

    Shapes: input [B, N*H + N + N*V] (`GraphLatents`' actor latent); output [B, N*V] logits.
    """

    def __init__(self, num_nodes: int, hidden: int, vocab: int, action_mode: str) -> None:
        super().__init__()
        self.num_nodes, self.hidden, self.vocab, self.action_mode = num_nodes, hidden, vocab, action_mode
        self.token_head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, vocab))

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        n, h, v = self.num_nodes, self.hidden, self.vocab
        nodes, per_node, grammar = latent.split([n * h, n, n * v], dim=1)
        grammar = grammar.view(-1, n, v) > 0.5
        logits = self._token_logits(nodes.view(-1, n, h), per_node)
        if self.action_mode == "edit":
            tokens = per_node.round().long()
            real = tokens != PAD
            allowed = edit_mask(grammar, tokens, real)
            logits = edit_scores(logits, grammar, tokens, real)
        else:
            allowed = grammar
        return logits.masked_fill(~allowed, MASK_FILL).flatten(1)

    def _token_logits(self, nodes: torch.Tensor, per_node: torch.Tensor) -> torch.Tensor:
        """The token head on the batch's real node slots only (issue 27: a median program fills 11 of
        64); a padded slot's logits are zeros, which the masks make irrelevant (it allows nothing in
        `edit` mode, only `<pad>` in `rewrite` mode)."""
        real = per_node != PAD if self.action_mode == "edit" else per_node > 0.5
        positions = torch.arange(1, real.shape[1] + 1, device=real.device)
        kept = max(int((real * positions).max()), 1) if real.numel() else 1  # up to the last real slot
        logits = self.token_head(nodes[:, :kept]).float()
        return pad_nodes(logits, nodes.shape[1]) if kept < nodes.shape[1] else logits


class GraphDistribution(CategoricalDistribution):
    """SB3's distribution interface (and sb3-contrib's `apply_masking`) over
    `MaskedNodeCategorical` (`rewrite`, actions [B, N]) or `MaskedFlatCategorical` (`edit`, [B]).

    The logits come already masked (`PerNodeActionHead`): a padded `rewrite` node allows only
    `<pad>`, so its log-probability and entropy are exactly 0 and sums over all nodes equal sums
    over the real ones.
    """

    def __init__(self, action_mode: str, num_nodes: int, vocab: int, hidden: int) -> None:
        super().__init__(num_nodes * vocab)
        self.action_mode, self.num_nodes, self.vocab, self.hidden = action_mode, num_nodes, vocab, hidden
        self.logits: torch.Tensor | None = None
        self.distribution: Any = None

    def proba_distribution_net(self, latent_dim: int) -> nn.Module:
        return PerNodeActionHead(self.num_nodes, self.hidden, self.vocab, self.action_mode)

    def proba_distribution(self, action_logits: torch.Tensor) -> GraphDistribution:
        self.logits = action_logits.view(-1, self.num_nodes, self.vocab)
        self.distribution = self._build(torch.ones_like(self.logits, dtype=torch.bool))
        return self

    def apply_masking(self, masks: np.ndarray | torch.Tensor | None) -> None:
        """Intersect with sb3-contrib's masks (`[B, N*V]`, the env's `action_masks()` layout)."""
        if masks is not None:
            allowed = torch.as_tensor(masks, device=self.logits.device).reshape(self.logits.shape).bool()
            self.distribution = self._build(allowed)

    def _build(self, allowed: torch.Tensor):
        if self.action_mode == "rewrite":
            return MaskedNodeCategorical(self.logits, allowed)
        return MaskedFlatCategorical(self.logits, allowed)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        if self.action_mode == "rewrite":
            return self.distribution.log_prob(actions.reshape(-1, self.num_nodes))
        return self.distribution.log_prob(actions.reshape(-1))

    def entropy(self) -> torch.Tensor:
        return self.distribution.entropy()

    def sample(self) -> torch.Tensor:
        return self.distribution.sample()

    def mode(self) -> torch.Tensor:
        return self.distribution.mode()

    def actions_from_params(self, action_logits: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        self.proba_distribution(action_logits)
        return self.get_actions(deterministic=deterministic)

    def log_prob_from_params(self, action_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        actions = self.actions_from_params(action_logits)
        return actions, self.log_prob(actions)


class _GraphPolicyParts:
    """What both policies change in SB3's `ActorCriticPolicy`: the mlp_extractor and the
    distribution (set before the parent's `_build`, so that the optimizer sees the action head)."""

    def _build_mlp_extractor(self) -> None:
        extractor: GraphFeaturesExtractor = self.features_extractor
        self.mlp_extractor = GraphLatents(extractor.num_nodes, extractor.config.hidden, extractor.vocab)

    def _build(self, lr_schedule) -> None:
        extractor: GraphFeaturesExtractor = self.features_extractor
        mode = "edit" if isinstance(self.action_space, spaces.Discrete) else "rewrite"
        self.action_dist = GraphDistribution(mode, extractor.num_nodes, extractor.vocab, extractor.config.hidden)
        super()._build(lr_schedule)


def _graph_kwargs(kwargs: dict, model_config: ModelConfig | dict | None, action_space: spaces.Space) -> dict:
    kwargs.setdefault("features_extractor_class", GraphFeaturesExtractor)
    extra: dict[str, Any] = {}
    if model_config is not None:
        extra["model_config"] = model_config.to_dict() if isinstance(model_config, ModelConfig) else dict(model_config)
    if issubclass(kwargs["features_extractor_class"], GraphFeaturesExtractor):
        extra["action_mode"] = "edit" if isinstance(action_space, spaces.Discrete) else "rewrite"
    kwargs["features_extractor_kwargs"] = {**kwargs.get("features_extractor_kwargs", {}), **extra}
    kwargs.setdefault("ortho_init", False)
    return kwargs


class GraphActorCriticPolicy(_GraphPolicyParts, ActorCriticPolicy):
    """The graph policy for SB3's `PPO` / `A2C`: `PPO(GraphActorCriticPolicy, env,
    policy_kwargs={"model_config": ModelConfig(hidden=64)})`. Masks from the observation."""

    def __init__(self, observation_space, action_space, lr_schedule, model_config=None, **kwargs) -> None:
        kwargs = _graph_kwargs(kwargs, model_config, action_space)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)


class MaskableGraphPolicy(_GraphPolicyParts, MaskableActorCriticPolicy):
    """The graph policy for sb3-contrib's `MaskablePPO` (`action_masks` intersected with the
    observation's grammar mask)."""

    def __init__(self, observation_space, action_space, lr_schedule, model_config=None, **kwargs) -> None:
        kwargs = _graph_kwargs(kwargs, model_config, action_space)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)


def _parts(policy) -> list[tuple[nn.Module, str]]:
    """(module of the SB3 policy, matching key prefix in `RefineNet.state_dict()`)."""
    return [
        (policy.features_extractor.backbone, "backbone."),
        (policy.action_net.token_head, "token_head."),
        (policy.mlp_extractor.critic[0], "value_head.0."),
        (policy.value_net, "value_head.2."),
    ]


def load_refinenet(policy, model: RefineNet) -> None:
    """Copy a `RefineNet`'s weights into an SB3 graph policy of the same architecture, in place
    (the policy's optimizer keeps pointing at the same parameters)."""
    config = policy.features_extractor.config
    if config != model.config:
        raise ValueError(f"the policy's model config {config} differs from the network's {model.config}")
    state = model.state_dict()
    for module, prefix in _parts(policy):
        module.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})


def warm_start(policy, checkpoint: str | os.PathLike) -> RefineNet:
    """Initialise an SB3 graph policy from a supervised checkpoint; returns the loaded network."""
    model, _ = load_checkpoint(checkpoint, policy.device)
    load_refinenet(policy, model)
    return model


def to_refinenet(policy) -> RefineNet:
    """The SB3 graph policy's weights as a `RefineNet` (for `agents.acting.refine` or `save_checkpoint`)."""
    model = RefineNet(policy.features_extractor.config).to(policy.device)
    state = {}
    for module, prefix in _parts(policy):
        state.update({prefix + k: v for k, v in module.state_dict().items()})
    model.load_state_dict(state)
    return model
