"""Group-relative policy gradient on the states the search kept (GRPO: Shao et al. 2024).

For each state, K programs are drawn from the policy at temperature 1 (in mask mode only the holes
change; in noise mode every node), each rewarded by the share of the *visible* tests it passes. A
draw's advantage is its reward minus its group's mean, over the group's standard deviation
(floored, so that a group with a lone success does not explode); a group whose rewards are all
equal says nothing about what to prefer and is skipped. No value network. The loss is the
advantage-weighted negative log-likelihood of the draws over the nodes that were drawn, minus an
entropy bonus, plus an optional exact KL to the warm-start policy (`agents.training.losses.distribution_kl`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from progrefine_env.lang import Program
from progrefine_env.tasks.task import Test, passes

from ..nn.batching import stack_observations, to_tensors
from ..nn.distribution import MaskedNodeCategorical
from ..nn.network import RefineNet
from .losses import distribution_kl


def group_advantages(rewards: torch.Tensor, std_floor: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """(advantages [G, K], kept [G]) from rewards [G, K]: `(r - mean) / max(std, std_floor)` per
    group, zero for groups whose rewards are all equal (not kept)."""
    mean = rewards.mean(-1, keepdim=True)
    std = rewards.std(-1, unbiased=False, keepdim=True).clamp(min=std_floor)
    kept = rewards.amax(-1) > rewards.amin(-1)
    return torch.where(kept.unsqueeze(-1), (rewards - mean) / std, torch.zeros_like(rewards)), kept


def visible_reward(tokens: Sequence[int], arities: Sequence[int], input_types: dict, tests: Sequence[Test]) -> float:
    """Share of the visible tests a program passes (0 for one that cannot run)."""
    return float(np.mean(passes(Program(tuple(tokens), tuple(arities)), input_types, tuple(tests))))


class GroupUpdate:
    """One GRPO step on a batch of kept states.

    Args:
        model: the policy's network, updated in place.
        optimizer: its optimizer (shared with the expert-iteration steps).
        group_size: K, draws per state.
        entropy_coef, kl_coef, std_floor, grad_clip: as in the module docstring.
        reference: the warm-start network for the KL term (None: no KL).
    """

    def __init__(
        self, model: RefineNet, optimizer: torch.optim.Optimizer, group_size: int = 8, entropy_coef: float = 0.01,
        kl_coef: float = 0.0, std_floor: float = 0.1, grad_clip: float = 1.0, reference: RefineNet | None = None,
    ) -> None:  # fmt: skip
        self.model, self.optimizer, self.group_size, self.reference = model, optimizer, group_size, reference
        self.entropy_coef, self.kl_coef, self.std_floor, self.grad_clip = entropy_coef, kl_coef, std_floor, grad_clip

    def __call__(self, states: Sequence[tuple[Mapping[str, np.ndarray], dict, tuple]], generator: torch.Generator):
        """`states`: (observation, input types, visible tests) each. Returns (loss, share of groups kept)."""
        obs = to_tensors(stack_observations([s[0] for s in states]))
        k = self.group_size
        repeated = {key: v.repeat_interleave(k, 0) for key, v in obs.items()}
        self.model.train()
        logits = self.model(repeated).logits
        dist = MaskedNodeCategorical(logits, repeated["grammar_mask"], repeated["node_mask"])
        drawn = torch.where(repeated["masked"].bool().any(-1, keepdim=True), repeated["masked"].bool(),
                            repeated["node_mask"].bool())  # fmt: skip
        with torch.no_grad():
            draws = torch.where(drawn, dist.sample(generator), repeated["tokens"].long())
        rewards = torch.tensor([self._reward(states[row // k], draws[row], repeated, row) for row in range(len(draws))])
        advantages, kept = group_advantages(rewards.view(-1, k), self.std_floor)
        log_prob = (dist.node_log_prob(draws) * drawn).sum(-1)
        loss = -(advantages.flatten() * log_prob).mean() - self.entropy_coef * dist.entropy().mean()
        if self.reference is not None and self.kl_coef:
            with torch.no_grad():
                reference = MaskedNodeCategorical(self.reference(repeated).logits, repeated["grammar_mask"],
                                                  repeated["node_mask"]).log_probs  # fmt: skip
            loss = loss + self.kl_coef * distribution_kl(dist, reference).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.model.eval()
        return float(loss.detach()), float(kept.float().mean())

    @staticmethod
    def _reward(state, draw: torch.Tensor, obs: Mapping[str, torch.Tensor], row: int) -> float:
        n = int(obs["node_mask"][row].sum())
        arities = obs["arity"][row][:n].tolist()
        return visible_reward(draw[:n].tolist(), arities, state[1], state[2])
