"""Policy-gradient fine-tuning on the reward, test passage itself: PPO (Schulman et al. 2017,
"Proximal Policy Optimization Algorithms": clipped surrogate, generalized advantage estimation,
several epochs of minibatches per rollout) and REINFORCE with the value head as a learned baseline
(Williams 1992: one gradient step per rollout on the Monte-Carlo return minus the value).

The supervised trainers copy the one target they are shown; these are rewarded for any program
that passes the visible tests (CodeRL, Le et al. 2022, fine-tunes a supervised model this way).
Both act through `GraphPolicy` in either action mode, so the grammar mask applies to every
sampled action, every log-probability and every entropy. An optional KL penalty to a frozen
reference (the warm-start network) keeps fine-tuning close to what supervision taught.

Each iteration resets the `num_envs` environments (seeded by the iteration, so that a resumed run
continues exactly) and collects `rollout_steps` steps of each; with `rollout_steps` equal to the
episode limit every episode begun at the reset ends within the rollout, and episodes begun by the
vector env's autoreset are cut at the rollout's end and bootstrapped with the value there.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..acting.collector import RolloutCollector, stack_rollout_obs
from ..acting.policy import ACTION_MODES, GraphPolicy, action_distribution
from ..nn.batching import crop_padding, to_tensors
from ..nn.network import RefineNet
from .advantages import compute_gae
from .losses import approx_kl, distribution_kl, ppo_clip_loss, reinforce_loss, value_loss

ALGOS = ("ppo", "reinforce")
REWARDS = ("delta", "sparse")


@dataclass(frozen=True)
class PolicyGradientConfig:
    """Hyper-parameters of PPO and REINFORCE.

    Attributes:
        algo: "ppo" (clipped surrogate, GAE, `epochs` x minibatches per rollout) or "reinforce"
            (Monte-Carlo returns, `gae_lambda` taken as 1, one full-batch step per rollout).
        seed: seeds the initialisation (from scratch), every episode, every sampled action and
            every minibatch order.
        total_steps: environment steps to train for, over all environments.
        num_envs: environments stepped together.
        rollout_steps: steps of each environment per rollout (a rollout is num_envs x rollout_steps).
        action_mode: "rewrite" (a token for every node each round) or "edit" (one node a step).
        rounds: episode limit in steps (the env's max_steps).
        reward: the env's reward, "delta" (change in visible tests passed, +1 when all pass) or
            "sparse" (1 when all pass).
        corruption_low, corruption_high: corruption level drawn per episode from this range.
        lr: Adam learning rate.
        gamma: discount.
        gae_lambda: GAE's lambda (PPO).
        epochs: passes over each rollout (PPO).
        minibatch_size: samples per gradient step (PPO).
        clip_range: PPO's probability-ratio clip.
        ent_coef: entropy bonus weight.
        vf_coef: value loss weight.
        kl_coef: weight of the exact KL(pi || warm-start policy) penalty (0: none).
        normalize_advantages: scale each rollout's advantages to mean 0, std 1.
        bootstrap_truncated: at the episode limit add the discounted value of the last state
            (False: the limit is the task's end, as a fixed refinement budget is).
        grad_clip: gradient norm clipping.
        vectorization: "sync" or "async" (environments stepped in worker processes).
    """

    algo: str = "ppo"
    seed: int = 0
    total_steps: int = 20_000
    num_envs: int = 16
    rollout_steps: int = 5
    action_mode: str = "rewrite"
    rounds: int = 5
    reward: str = "delta"
    corruption_low: float = 0.5
    corruption_high: float = 1.0
    lr: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    epochs: int = 4
    minibatch_size: int = 40
    clip_range: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    kl_coef: float = 0.0
    normalize_advantages: bool = True
    bootstrap_truncated: bool = True
    grad_clip: float = 0.5
    vectorization: str = "sync"

    def __post_init__(self) -> None:
        for name, value, choices in (
            ("algo", self.algo, ALGOS), ("action_mode", self.action_mode, ACTION_MODES),
            ("reward", self.reward, REWARDS),
        ):  # fmt: skip
            if value not in choices:
                raise ValueError(f"{name}={value!r} is not one of {choices}")
        if not 0 <= self.corruption_low <= self.corruption_high <= 1:
            raise ValueError("need 0 <= corruption_low <= corruption_high <= 1")
        for name in ("total_steps", "num_envs", "rollout_steps", "rounds", "epochs", "minibatch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.kl_coef < 0 or self.clip_range <= 0:
            raise ValueError("need kl_coef >= 0 and clip_range > 0")

    @property
    def batch_steps(self) -> int:
        """Environment steps per rollout."""
        return self.num_envs * self.rollout_steps

    @property
    def iterations(self) -> int:
        return -(-self.total_steps // self.batch_steps)

    def env_kwargs(self) -> dict:
        """The environment options this config trains on (tasks aside)."""
        return dict(
            action_mode=self.action_mode, reward=self.reward, max_steps=self.rounds,
            corruption=(self.corruption_low, self.corruption_high),
        )  # fmt: skip

    def to_dict(self) -> dict:
        return asdict(self)


class PolicyGradientTrainer:
    """Runs PPO or REINFORCE iterations, updating `model` in place.

    Args:
        model: the network (initialised from scratch or from a supervised checkpoint).
        envs: a vector env of `config.num_envs` environments made with `config.env_kwargs()`
            (see `agents.acting.collector.make_vector_env`).
        config: the hyper-parameters.
        device: where the network runs.
        reference: the frozen policy network of the KL penalty (default: a copy of `model` as
            given, the warm start); unused when `config.kl_coef` is 0.
    """

    def __init__(self, model: RefineNet, envs, config: PolicyGradientConfig, device="cpu", reference=None):
        self.model, self.config, self.device = model, config, torch.device(device)
        self.policy = GraphPolicy(model, config.action_mode, device)
        self.collector = RolloutCollector(envs, self.policy)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, eps=1e-5)
        self.reference = None
        if config.kl_coef > 0:
            self.reference = (reference if reference is not None else copy.deepcopy(model)).requires_grad_(False)
        self.num_envs = envs.num_envs
        self.iteration, self.num_steps = 0, 0

    def state_dict(self) -> dict:
        state = {"optimizer": self.optimizer.state_dict(), "iteration": self.iteration, "num_steps": self.num_steps}
        if self.reference is not None:
            state["reference"] = self.reference.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.iteration, self.num_steps = int(state["iteration"]), int(state["num_steps"])
        if self.reference is not None and "reference" in state:
            self.reference.load_state_dict(state["reference"])

    def run_iteration(self) -> dict[str, float]:
        """One rollout, then the algorithm's update; returns namespaced metrics."""
        cfg, it = self.config, self.iteration
        generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + it)
        self.collector.reset([cfg.seed * 1_000_003 + it * self.num_envs + k for k in range(self.num_envs)])
        start = time.perf_counter()
        rollout = self.collector.collect(cfg.rollout_steps, generator)
        next_values = self.policy.predict_values(rollout.next_observations).cpu().numpy()
        lam = 1.0 if cfg.algo == "reinforce" else cfg.gae_lambda
        advantages, returns = compute_gae(
            rollout.rewards, rollout.values, rollout.terminations, rollout.truncations,
            rollout.final_values, next_values, cfg.gamma, lam, cfg.bootstrap_truncated,
        )  # fmt: skip
        batch = self._batch(rollout, advantages, returns)
        metrics = self._update(batch, generator)
        self.iteration += 1
        self.num_steps += rollout.rewards.size
        metrics.update(_rollout_metrics(rollout, batch["values"], batch["returns"]))
        metrics["time/sps"] = rollout.rewards.size / (time.perf_counter() - start)
        return metrics

    def _batch(self, rollout, advantages: np.ndarray, returns: np.ndarray) -> dict:
        """The rollout flattened to [T * E] samples, as tensors on the device."""
        obs = to_tensors(stack_rollout_obs(rollout.observations), self.device)
        flat = {
            "obs": obs,
            "actions": torch.as_tensor(rollout.actions.reshape(-1, *rollout.actions.shape[2:]), device=self.device),
            "old_log_probs": torch.as_tensor(rollout.log_probs.reshape(-1), device=self.device),
            "values": torch.as_tensor(rollout.values.reshape(-1), device=self.device),
            "returns": torch.as_tensor(returns.reshape(-1), device=self.device),
        }
        adv = torch.as_tensor(advantages.reshape(-1), device=self.device)
        if self.config.normalize_advantages and adv.numel() > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        flat["advantages"] = adv
        if self.reference is not None:
            flat["reference_log_probs"] = self._reference_log_probs(obs)
        return flat

    @torch.no_grad()
    def _reference_log_probs(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        self.reference.eval()
        chunks = []
        for idx in torch.arange(len(obs["tokens"]), device=self.device).split(self.config.minibatch_size):
            part = {k: v[idx] for k, v in obs.items()}
            chunks.append(action_distribution(self.reference(part).logits, part, self.config.action_mode).log_probs)
        return torch.cat(chunks)

    def _update(self, batch: dict, generator: torch.Generator) -> dict[str, float]:
        cfg = self.config
        size = len(batch["advantages"])
        epochs, minibatch = (cfg.epochs, cfg.minibatch_size) if cfg.algo == "ppo" else (1, size)
        self.model.train()
        sums: dict[str, list[float]] = {}
        for _ in range(epochs):
            for idx in torch.randperm(size, generator=generator).to(self.device).split(minibatch):
                for key, value in self._minibatch_step(batch, idx).items():
                    sums.setdefault(key, []).append(value)
        return {key: float(np.mean(values)) for key, values in sums.items()}

    def _minibatch_step(self, batch: dict, idx: torch.Tensor) -> dict[str, float]:
        cfg = self.config
        obs, kept = crop_padding({k: v[idx] for k, v in batch["obs"].items()})
        dist, values = self.policy.distribution(obs, temperature=1.0)
        actions = batch["actions"][idx]
        log_prob, entropy = dist.log_prob(actions[:, :kept] if actions.dim() == 2 else actions), dist.entropy()
        old, advantages = batch["old_log_probs"][idx], batch["advantages"][idx]
        out = {}
        if cfg.algo == "ppo":
            policy_loss, clip_fraction = ppo_clip_loss(log_prob, old, advantages, cfg.clip_range)
            out["train/clip_fraction"] = float(clip_fraction)
        else:
            policy_loss = reinforce_loss(log_prob, advantages)
        v_loss = value_loss(values, batch["returns"][idx])
        loss = policy_loss + cfg.vf_coef * v_loss - cfg.ent_coef * entropy.mean()
        if self.reference is not None:
            kl = distribution_kl(dist, _crop_log_probs(batch["reference_log_probs"][idx], dist)).mean()
            loss = loss + cfg.kl_coef * kl
            out["train/kl_to_reference"] = float(kl.detach())
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        out.update({
            "train/policy_loss": float(policy_loss.detach()), "train/value_loss": float(v_loss.detach()),
            "train/entropy": float(entropy.detach().mean()), "train/loss": float(loss.detach()),
            "train/approx_kl": float(approx_kl(log_prob.detach(), old)),
        })  # fmt: skip
        return out


def _crop_log_probs(log_probs: torch.Tensor, dist) -> torch.Tensor:
    """Padded-batch log-probabilities ([B, N, V] or flat [B, N * V]) cut to the node slots of a cropped
    distribution (`dist.log_probs` is [B, n, V] or [B, n * V]): the slots cut are padding, masked
    everywhere, so nothing else changes."""
    return log_probs[:, : dist.log_probs.shape[1]]


def _rollout_metrics(rollout, values: torch.Tensor, returns: torch.Tensor) -> dict[str, float]:
    episodes = rollout.episodes
    var = float(returns.var()) if returns.numel() > 1 else float("nan")
    explained = 1.0 - float((returns - values).var()) / var if var > 0 else float("nan")
    return {
        "rollout/ep_rew_mean": episodes.mean_return(),
        "rollout/success_rate": episodes.success_rate(),
        "rollout/ep_len_mean": float(episodes.lengths.mean()) if len(episodes.lengths) else float("nan"),
        "rollout/episodes": float(len(episodes.returns)),
        "train/explained_variance": explained,
    }
