"""Policies: what acts in the environment. A policy acts; an algorithm (trainer) updates it.

`Policy` is a protocol: anything with `act(obs, ...) -> PolicyStep` can be rolled out by
`agents.acting.collector.RolloutCollector` and evaluated by `agents.acting.refine` — the graph network below, the
expert, their mixtures, a uniformly random policy, or a wrapped third-party model.

The expert is privileged: it reads `expert_actions`, which only the collector hands over, taken
from `info["expert_action"]` of an environment made with `expert_labels=True` (off by default).
An agent that is evaluated never gets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
import torch

from ..nn.batching import to_tensors
from ..nn.distribution import MaskedFlatCategorical, MaskedNodeCategorical, edit_mask, edit_scores
from ..nn.network import RefineNet

ACTION_MODES = ("rewrite", "edit")


class PolicyStep(NamedTuple):
    """What a policy did for a batch of B observations.

    Shapes: actions [B, N] (`rewrite`) or [B] (`edit`); log_prob [B] (None for policies without a
    distribution); value [B] (None for policies without a value head).
    """

    actions: np.ndarray
    log_prob: torch.Tensor | None = None
    value: torch.Tensor | None = None


@runtime_checkable
class Policy(Protocol):
    """Acts on a batch of observations (dict of arrays with a leading batch axis)."""

    def act(
        self,
        obs: Mapping[str, np.ndarray],
        *,
        deterministic: bool = False,
        generator: torch.Generator | None = None,
        expert_actions: np.ndarray | None = None,
    ) -> PolicyStep: ...


def action_distribution(
    logits: torch.Tensor, obs: Mapping[str, torch.Tensor], action_mode: str, temperature: float = 1.0
) -> MaskedNodeCategorical | MaskedFlatCategorical:
    """The masked distribution of an action mode: per-node tokens (`rewrite`) or one (node, token)
    pair that changes the program (`edit`: `edit_mask`, the env's `action_masks()`, scored by
    `edit_scores`), from the observation's `grammar_mask`, `node_mask` and (`edit`) `tokens`."""
    if action_mode == "rewrite":
        return MaskedNodeCategorical(logits, obs["grammar_mask"], obs["node_mask"], temperature)
    if action_mode == "edit":
        grammar, tokens, nodes = obs["grammar_mask"], obs["tokens"], obs["node_mask"]
        scores = edit_scores(logits, grammar, tokens, nodes)
        return MaskedFlatCategorical(scores, edit_mask(grammar, tokens, nodes), temperature)
    raise ValueError(f"action_mode={action_mode!r} is not one of {ACTION_MODES}")


class GraphPolicy:
    """The graph network as a policy: masked per-node tokens, or one masked edit.

    Args:
        model: the network (raw logits and a value).
        action_mode: "rewrite" or "edit", as the environment was made.
        device: where the network runs.
        temperature: sampling temperature (`deterministic=True` takes the mode regardless).
    """

    def __init__(self, model: RefineNet, action_mode: str = "rewrite", device="cpu", temperature: float = 1.0):
        if action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode={action_mode!r} is not one of {ACTION_MODES}")
        self.model, self.action_mode, self.temperature = model, action_mode, temperature
        self.device = torch.device(device)

    def distribution(self, obs: Mapping[str, torch.Tensor], temperature: float | None = None):
        """(distribution, value [B]) for a batch of observation tensors, with gradients."""
        out = self.model(obs)
        t = self.temperature if temperature is None else temperature
        return action_distribution(out.logits, obs, self.action_mode, t), out.value

    def evaluate_actions(self, obs: Mapping[str, torch.Tensor], actions: torch.Tensor):
        """(log_prob [B], entropy [B], value [B]) of given actions, with gradients (policy gradient)."""
        dist, value = self.distribution(obs, temperature=1.0)
        return dist.log_prob(actions), dist.entropy(), value

    @torch.no_grad()
    def predict_values(self, obs: Mapping[str, np.ndarray]) -> torch.Tensor:
        self.model.eval()
        return self.model(to_tensors(obs, self.device)).value

    @torch.no_grad()
    def act(self, obs, *, deterministic=False, generator=None, expert_actions=None) -> PolicyStep:
        self.model.eval()
        dist, value = self.distribution(to_tensors(obs, self.device))
        actions = dist.mode() if deterministic else dist.sample(generator)
        return PolicyStep(actions.cpu().numpy(), dist.log_prob(actions).cpu(), value.cpu())


class ExpertPolicy:
    """The expert: the action named in `expert_actions` (privileged; see the module docstring)."""

    def act(self, obs, *, deterministic=False, generator=None, expert_actions=None) -> PolicyStep:
        if expert_actions is None:
            raise ValueError("the expert needs expert_actions: make the env with expert_labels=True")
        return PolicyStep(np.asarray(expert_actions).copy())


class UniformPolicy:
    """A uniformly random allowed token at every node (`rewrite`), or a uniformly random allowed
    edit (`edit`): the prototype's random-trajectory policy."""

    def __init__(self, action_mode: str = "rewrite") -> None:
        self.action_mode = action_mode

    def act(self, obs, *, deterministic=False, generator=None, expert_actions=None) -> PolicyStep:
        tensors = {k: torch.as_tensor(obs[k]) for k in ("grammar_mask", "node_mask", "tokens")}
        logits = torch.zeros(tensors["grammar_mask"].shape)
        actions = action_distribution(logits, tensors, self.action_mode).sample(generator)
        return PolicyStep(actions.numpy())


class MixturePolicy:
    """The expert with probability `beta`, the learner otherwise.

    `per="step"` (DAgger, Ross et al. 2011): each environment's whole action comes from the expert
    with probability beta. `per="node"` (scheduled sampling, Bengio et al. 2015; `rewrite` only):
    each node's token independently. Log-probabilities and values are the learner's.

    Args:
        learner: the policy being trained.
        beta: probability of the expert.
        per: "step" or "node".
    """

    def __init__(self, learner: Policy, beta: float, per: str = "step") -> None:
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must lie in [0, 1], got {beta}")
        if per not in ("step", "node"):
            raise ValueError(f"per={per!r} is not one of ('step', 'node')")
        self.learner, self.expert, self.beta, self.per = learner, ExpertPolicy(), beta, per

    def act(self, obs, *, deterministic=False, generator=None, expert_actions=None) -> PolicyStep:
        expert = self.expert.act(obs, expert_actions=expert_actions).actions
        if self.beta >= 1.0:
            return PolicyStep(expert)
        step = self.learner.act(obs, deterministic=deterministic, generator=generator)
        shape = expert.shape if self.per == "node" else expert.shape[:1]
        use_expert = (torch.rand(shape, generator=generator) < self.beta).numpy()
        if self.per == "step" and expert.ndim > 1:
            use_expert = use_expert.reshape(-1, *([1] * (expert.ndim - 1)))
        return PolicyStep(np.where(use_expert, expert, step.actions), step.log_prob, step.value)
