"""Scheduled sampling for refinement (Bengio et al. 2015, "Scheduled Sampling for Sequence
Prediction with Recurrent Neural Networks"), on the shared agent core.

Each iteration resets `batch_size` environments (seeded by the iteration, so a resumed run
continues exactly) and collects `rounds` steps with a per-node `MixturePolicy`: each node's next
token is the model's own sample with probability `model_prob` (growing over training) and the
target's otherwise (`beta = 1 - model_prob`), so the network learns to repair the states it
produces itself. Each collected round is then one gradient step of cross-entropy against the
expert's labels (the target tokens), weighted `1 + failure_weight * signal` per node (the
prototype's test-guided weighting). With `trajectories="random"` the model's sample is replaced by a
uniformly random allowed token: the prototype's random-policy trajectories, kept as a baseline on
the same data and budget.

Finished episodes are reset within the step (the collector's vector env), so every gradient step
sees a full batch.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..acting.collector import RolloutCollector
from ..acting.policy import GraphPolicy, MixturePolicy, UniformPolicy
from ..nn.network import RefineNet
from .imitation import ImitationUpdate, masked_node_accuracy

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
        vectorization: "sync" or "async" (environments stepped in worker processes).
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
    vectorization: str = "sync"

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


class ScheduledSamplingTrainer:
    """Runs scheduled-sampling iterations, updating `model` in place.

    Args:
        model: the network.
        envs: a vector env of `config.batch_size` rewrite-mode environments made with
            `expert_labels=True` and `max_steps=config.rounds` (see `agents.acting.collector.make_vector_env`).
        config: the hyper-parameters.
        device: where the network runs.
        train_model: what runs forward and backward when not `model` (a DDP wrapper; see
            `train.distributed`).
    """

    def __init__(self, model: RefineNet, envs, config: ScheduledSamplingConfig, device="cpu", train_model=None):
        self.model, self.config, self.device = model, config, torch.device(device)
        self.update = ImitationUpdate(model, "rewrite", config.lr, config.grad_clip, config.failure_weight, device,
                                      train_model)  # fmt: skip
        self.optimizer = self.update.optimizer
        learner = GraphPolicy(model, "rewrite", device) if config.trajectories == "model" else UniformPolicy("rewrite")
        self.mixture = MixturePolicy(learner, beta=1.0, per="node")
        self.collector = RolloutCollector(envs, self.mixture)
        self.num_envs = envs.num_envs
        self.iteration = 0

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "iteration": self.iteration}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.iteration = int(state["iteration"])

    def run_iteration(self) -> dict[str, float]:
        """One rollout, then a gradient step per round; returns namespaced metrics."""
        cfg, it = self.config, self.iteration
        generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + it)
        self.collector.reset([cfg.seed * 1_000_003 + it * self.num_envs + k for k in range(self.num_envs)])
        model_prob = cfg.model_prob(it)
        self.mixture.beta = 1.0 - model_prob
        start = time.perf_counter()
        rollout = self.collector.collect(cfg.rounds, generator)
        if rollout.expert_actions is None:
            raise ValueError("scheduled sampling needs environments made with expert_labels=True")
        losses = []
        for t in range(cfg.rounds):
            obs = {k: v[t] for k, v in rollout.observations.items()}
            loss, logits = self.update(obs, rollout.expert_actions[t])
            losses.append(loss)
            if t == 0:
                one_shot = masked_node_accuracy(logits, obs, rollout.expert_actions[0])
        self.iteration += 1
        return {
            "train/loss": float(np.mean(losses)),
            "train/one_shot_accuracy": one_shot,
            "train/model_prob": model_prob,
            "rollout/success_rate": rollout.episodes.success_rate(),
            "time/graphs_per_s": cfg.rounds * self.num_envs / (time.perf_counter() - start),
        }
