"""DAgger for refinement (Ross, Gordon and Bagnell 2011, "A Reduction of Imitation Learning and
Structured Prediction to No-Regret Online Learning"), on the shared agent core.

Iteration i rolls out the mixture `beta_i * expert + (1 - beta_i) * policy` (per step: each
environment's whole action is the expert's with probability `beta_i = beta0 * beta_decay ** i`),
labels every visited state with the expert's action (`info["expert_action"]`: in `rewrite` mode the
correction of every node, in `edit` mode the expert's next single edit, which is where an expert
*path* differs from a target), adds the labelled states to a bounded aggregate, and trains the
policy on minibatches drawn from the whole aggregate.

Optional relabelling (`relabel_solved`, `rewrite` mode): where the policy's own rollout reaches a
program that passes all of a training task's tests, visible and held-out, the states of that episode
are labelled with the program it found instead of the target: several programs are right, and the
one the policy already reaches is the easier one to learn (Break-It-Fix-It, Yasunaga and Liang 2021).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..acting.buffers import Rollout
from ..acting.collector import RolloutCollector
from ..acting.policy import ACTION_MODES, GraphPolicy, MixturePolicy
from ..nn.network import RefineNet
from .dataset import EVICTIONS, AggregateDataset
from .imitation import ImitationUpdate


@dataclass(frozen=True)
class DaggerConfig:
    """Hyper-parameters of DAgger training.

    Attributes:
        seed: seeds the model's initialisation, every episode, mixture draw and minibatch.
        iterations: rollouts (each followed by `gradient_steps` updates on the aggregate).
        num_envs: environments rolled out together.
        rollout_steps: steps of each environment per iteration (`rewrite`: one step is a round;
            `edit`: one step is one node edit).
        action_mode: "rewrite" or "edit".
        corruption_low, corruption_high: corruption level drawn per episode from this range.
        corruption_mode: "mask" (holes to fill) or "noise" (wrong tokens to change).
        max_steps: steps per episode (0: the env's default, 5 rounds or 2 x nodes edits).
        beta0: probability of the expert at iteration 0.
        beta_decay: `beta_i = beta0 * beta_decay ** i`.
        capacity: the most labelled states the aggregate keeps.
        eviction: "random" or "oldest" state replaced once the aggregate is full.
        gradient_steps: updates per iteration, each on `minibatch` states drawn from the aggregate.
        minibatch: states per update.
        lr: Adam learning rate.
        failure_weight: per-node loss weight `1 + failure_weight * node_failure` (`rewrite`).
        grad_clip: gradient norm clipping.
        relabel_solved: label the states of episodes the policy solved itself with the program it
            found (`rewrite` mode; see the module docstring).
        vectorization: "sync" or "async" (environments stepped in worker processes).
    """

    seed: int = 0
    iterations: int = 400
    num_envs: int = 64
    rollout_steps: int = 5
    action_mode: str = "rewrite"
    corruption_low: float = 0.5
    corruption_high: float = 1.0
    corruption_mode: str = "mask"
    max_steps: int = 0
    beta0: float = 1.0
    beta_decay: float = 0.98
    capacity: int = 8192
    eviction: str = "random"
    gradient_steps: int = 5
    minibatch: int = 64
    lr: float = 1e-3
    failure_weight: float = 9.0
    grad_clip: float = 1.0
    relabel_solved: bool = False
    vectorization: str = "sync"

    def __post_init__(self) -> None:
        if self.action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode={self.action_mode!r} is not one of {ACTION_MODES}")
        if self.eviction not in EVICTIONS:
            raise ValueError(f"eviction={self.eviction!r} is not one of {EVICTIONS}")
        if not 0 <= self.corruption_low <= self.corruption_high <= 1:
            raise ValueError("need 0 <= corruption_low <= corruption_high <= 1")
        if not (0 <= self.beta0 <= 1 and 0 <= self.beta_decay <= 1):
            raise ValueError("beta0 and beta_decay must lie in [0, 1]")
        counts = (self.iterations, self.num_envs, self.rollout_steps, self.capacity, self.minibatch)
        if min(counts) < 1 or self.gradient_steps < 0 or self.max_steps < 0:
            raise ValueError("iterations, num_envs, rollout_steps, capacity and minibatch must be positive")
        if self.relabel_solved and self.action_mode != "rewrite":
            raise ValueError("relabel_solved applies to rewrite mode only")

    def beta(self, iteration: int) -> float:
        return self.beta0 * self.beta_decay**iteration

    def env_kwargs(self) -> dict:
        """The environment options this configuration trains with (labels on)."""
        return {
            "corruption": (self.corruption_low, self.corruption_high),
            "corruption_mode": self.corruption_mode,
            "action_mode": self.action_mode,
            "max_steps": self.max_steps or None,
            "expert_labels": True,
        }

    def to_dict(self) -> dict:
        return asdict(self)


class DaggerTrainer:
    """Runs DAgger iterations, updating `model` in place and growing `dataset`.

    Args:
        model: the network.
        envs: a vector env of `config.num_envs` environments made with `config.env_kwargs()`
            (see `agents.acting.collector.make_vector_env`).
        config: the hyper-parameters.
        device: where the network runs.
        train_model: what runs forward and backward when not `model` (a DDP wrapper; see
            `train.distributed`).
    """

    def __init__(self, model: RefineNet, envs, config: DaggerConfig, device="cpu", train_model=None) -> None:
        self.model, self.config = model, config
        self.update = ImitationUpdate(model, config.action_mode, config.lr, config.grad_clip, config.failure_weight,
                                      device, train_model)  # fmt: skip
        self.mixture = MixturePolicy(GraphPolicy(model, config.action_mode, device), beta=config.beta0, per="step")
        self.collector = RolloutCollector(envs, self.mixture)
        self.num_envs = envs.num_envs
        self.dataset = AggregateDataset(config.capacity, config.eviction)
        self.iteration = 0

    def state_dict(self) -> dict:
        """Optimizer and iteration (the aggregate is saved beside the checkpoint: `dataset.save`)."""
        return {"optimizer": self.update.optimizer.state_dict(), "iteration": self.iteration}

    def load_state_dict(self, state: dict) -> None:
        self.update.optimizer.load_state_dict(state["optimizer"])
        self.iteration = int(state["iteration"])

    def run_iteration(self) -> dict[str, float]:
        """Roll out the mixture, aggregate the labelled states, train; returns namespaced metrics."""
        cfg, it = self.config, self.iteration
        seed = cfg.seed * 1_000_003 + it
        generator, rng = torch.Generator().manual_seed(seed), np.random.default_rng(seed)
        self.mixture.beta = cfg.beta(it)
        start = time.perf_counter()
        self.collector.reset([seed * 4099 + k for k in range(self.num_envs)])
        rollout = self.collector.collect(cfg.rollout_steps, generator)
        labels = self._labels(rollout)
        flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in rollout.observations.items()}
        self.dataset.add(flat, labels.reshape(-1, *labels.shape[2:]), rng)
        losses = [self._train_step(rng) for _ in range(cfg.gradient_steps)]
        self.iteration += 1
        return {
            "train/loss": float(np.mean(losses)) if losses else float("nan"),
            "train/beta": self.mixture.beta,
            "rollout/success_rate": rollout.episodes.success_rate(),
            "rollout/ep_rew_mean": rollout.episodes.mean_return(),
            "dataset/size": float(len(self.dataset)),
            "time/sps": cfg.rollout_steps * self.num_envs / (time.perf_counter() - start),
        }

    def _train_step(self, rng: np.random.Generator) -> float:
        indices = rng.integers(len(self.dataset), size=min(self.config.minibatch, len(self.dataset)))
        obs, labels = self.dataset.batch(indices)
        return self.update(obs, labels)[0]

    def _labels(self, rollout: Rollout) -> np.ndarray:
        if rollout.expert_actions is None:
            raise ValueError("DAgger needs environments made with expert_labels=True")
        labels = rollout.expert_actions.copy()
        if self.config.relabel_solved:
            relabel_with_solutions(labels, rollout)
        return labels


def relabel_with_solutions(labels: np.ndarray, rollout: Rollout) -> int:
    """Label the states of every episode that ended passing all of its task's tests (visible and
    held-out) with the program it ended with; returns the number of episodes relabelled.

    `labels` is [T, E, N] (`rewrite` mode), changed in place."""
    episodes, count = rollout.episodes, 0
    for k in range(len(episodes.solved)):
        if episodes.solved[k] and episodes.held_out_passed[k] == episodes.num_held_out[k]:
            end, env = int(episodes.end_step[k]), int(episodes.env_index[k])
            first = max(0, end - int(episodes.lengths[k]) + 1)
            labels[first : end + 1, env] = episodes.final_tokens[k]
            count += 1
    return count
