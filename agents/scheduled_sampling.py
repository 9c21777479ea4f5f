"""Scheduled sampling for refinement (Bengio et al. 2015, "Scheduled Sampling for Sequence
Prediction with Recurrent Neural Networks").

Each iteration rolls out `batch_size` episodes of `rounds` refinement rounds. At every round the
network predicts a token for every node and is trained with cross-entropy against the target
tokens, weighted `1 + failure_weight * signal` per node (the prototype's test-guided weighting:
nodes that failing tests reach count more). The next state takes each node's token from the
model's own prediction with probability `model_prob` (growing over training) and from the target
otherwise, so the network learns to repair the states it produces itself. With
`trajectories="random"` the model's prediction is replaced by a uniformly random allowed token: the
prototype's random-policy trajectories, kept as a baseline on the same data and budget.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import torch

from .batching import to_tensors
from .decoding import masked_log_probs, sample, uniform_allowed
from .network import RefineNet
from .rollout import EnvBatch

TRAJECTORIES = ("model", "random")


@dataclass(frozen=True)
class ScheduledSamplingConfig:
    """Hyper-parameters of scheduled-sampling training.

    Attributes:
        seed: seeds the model's initialisation, every episode and every sampling draw.
        iterations: rollouts of `batch_size` episodes; one gradient step per round of each.
        batch_size: episodes per rollout (graphs per gradient step, fewer once some are solved).
        rounds: refinement rounds per episode.
        corruption_low, corruption_high: corruption level drawn per episode from this range.
        lr: Adam learning rate.
        max_model_prob: final probability that a node's next token is the model's own.
        ramp_fraction: share of the iterations over which `model_prob` rises linearly from 0.
        failure_weight: per-node loss weight is `1 + failure_weight * node_failure`.
        trajectories: "model" (scheduled sampling) or "random" (the prototype's baseline).
        grad_clip: gradient norm clipping.
    """

    seed: int = 0
    iterations: int = 400
    batch_size: int = 64
    rounds: int = 5
    corruption_low: float = 0.5
    corruption_high: float = 1.0
    lr: float = 1e-3
    max_model_prob: float = 1.0
    ramp_fraction: float = 0.5
    failure_weight: float = 9.0
    trajectories: str = "model"
    grad_clip: float = 1.0

    def __post_init__(self) -> None:
        if self.trajectories not in TRAJECTORIES:
            raise ValueError(f"trajectories={self.trajectories!r} is not one of {TRAJECTORIES}")
        if not 0 <= self.corruption_low <= self.corruption_high <= 1:
            raise ValueError("need 0 <= corruption_low <= corruption_high <= 1")
        if self.iterations < 1 or self.batch_size < 1 or self.rounds < 1:
            raise ValueError("iterations, batch_size and rounds must be positive")

    def model_prob(self, iteration: int) -> float:
        """Probability that a node's next token is the model's at `iteration` (linear ramp)."""
        ramp = max(1.0, self.ramp_fraction * self.iterations)
        return self.max_model_prob * min(1.0, iteration / ramp)

    def to_dict(self) -> dict:
        return asdict(self)


class RoundBatch(NamedTuple):
    """One round's training batch: observation tensors and target tokens ([B', N])."""

    obs: dict[str, torch.Tensor]
    targets: torch.Tensor


class ScheduledSamplingTrainer:
    """Runs scheduled-sampling iterations on an `EnvBatch`, updating `model` in place."""

    def __init__(self, model: RefineNet, envs: EnvBatch, config: ScheduledSamplingConfig, device="cpu"):
        self.model, self.envs, self.config, self.device = model, envs, config, torch.device(device)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        self.iteration = 0

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "iteration": self.iteration}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.iteration = int(state["iteration"])

    def run_iteration(self) -> dict[str, float]:
        """One rollout with a gradient step per round; returns namespaced metrics."""
        cfg, it = self.config, self.iteration
        generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + it)
        seeds = [cfg.seed * 1_000_003 + it * len(self.envs) + k for k in range(len(self.envs))]
        obs = self.envs.reset(seeds)
        targets = torch.as_tensor(self.envs.targets())
        model_prob = cfg.model_prob(it)
        losses, graphs, start = [], 0, time.perf_counter()
        one_shot = float("nan")
        for round_index in range(cfg.rounds):
            active = np.flatnonzero(~self.envs.done)
            if len(active) == 0:
                break
            batch = RoundBatch(to_tensors({k: v[active] for k, v in obs.items()}, self.device), targets[active])
            loss, log_probs = self._update(batch)
            losses.append(loss)
            graphs += len(active)
            if round_index == 0:
                one_shot = _corrupted_accuracy(log_probs, batch)
            actions = self._next_tokens(log_probs, batch, model_prob, generator)
            full = np.zeros((len(self.envs), obs["tokens"].shape[1]), dtype=np.int64)
            full[active] = actions
            obs, _ = self.envs.step(full)
        self.iteration += 1
        elapsed = time.perf_counter() - start
        return {
            "train/loss": float(np.mean(losses)),
            "train/one_shot_accuracy": one_shot,
            "train/model_prob": model_prob,
            "rollout/solved_share": float(np.mean([env.solved for env in self.envs.envs])),
            "time/graphs_per_s": graphs / elapsed,
        }

    def _update(self, batch: RoundBatch) -> tuple[float, torch.Tensor]:
        cfg = self.config
        self.model.train()
        targets = batch.targets.to(self.device)
        out = self.model(batch.obs, extra_allowed=targets)
        log_probs = torch.log_softmax(out.logits, dim=-1)
        nll = -log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        weight = (1.0 + cfg.failure_weight * batch.obs["node_failure"]) * batch.obs["node_mask"].float()
        loss = (nll * weight).sum() / weight.sum()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        return loss.item(), masked_log_probs(out.logits.detach(), batch.obs["grammar_mask"])

    def _next_tokens(self, log_probs, batch: RoundBatch, model_prob: float, generator) -> np.ndarray:
        """Each node's next token: the model's (or random) with probability `model_prob`, else the target."""
        if self.config.trajectories == "model":
            proposal = sample(log_probs.cpu(), generator)
        else:
            proposal = uniform_allowed(batch.obs["grammar_mask"].cpu(), generator)
        use_proposal = torch.rand(proposal.shape, generator=generator) < model_prob
        return torch.where(use_proposal, proposal, batch.targets.cpu()).numpy()


def _corrupted_accuracy(log_probs: torch.Tensor, batch: RoundBatch) -> float:
    """Greedy token accuracy on the masked nodes of a round-0 batch."""
    masked = batch.obs["masked"].bool()
    if not masked.any():
        return float("nan")
    correct = log_probs.argmax(-1).cpu() == batch.targets
    return float(correct[masked.cpu()].float().mean())
