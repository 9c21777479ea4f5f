"""The one rollout loop: a `Policy` acting in a Gymnasium vector environment, collected into a
typed `Rollout`. Scheduled sampling, DAgger and the policy-gradient trainers all use it.

The vector env resets finished episodes within the same step (`AutoresetMode.SAME_STEP`), so that
every collected step is a real transition. Sync vectorization by default; `async` steps the
environments in worker processes, so that on 2 cores one core steps environments while the other
runs the network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv

from progrefine_env.env import ProgramRefineEnv

from ..nn.batching import stack_observations
from .buffers import EpisodeStats, Rollout
from .policy import Policy

VECTORIZATION = ("sync", "async")


def make_vector_env(num_envs: int, vectorization: str = "sync", **env_kwargs: Any) -> VectorEnv:
    """`num_envs` `ProgramRefineEnv(**env_kwargs)` in a vector env that autoresets in the same step."""
    if vectorization not in VECTORIZATION:
        raise ValueError(f"vectorization={vectorization!r} is not one of {VECTORIZATION}")
    if num_envs < 1:
        raise ValueError(f"num_envs must be positive, got {num_envs}")
    factory: Callable[[], gym.Env] = _EnvFactory(env_kwargs)
    if vectorization == "sync":
        return SyncVectorEnv([factory] * num_envs, autoreset_mode=AutoresetMode.SAME_STEP)
    return AsyncVectorEnv([factory] * num_envs, autoreset_mode=AutoresetMode.SAME_STEP)


class _EnvFactory:
    """A picklable environment constructor (async workers receive it through cloudpickle)."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs

    def __call__(self) -> gym.Env:
        return ProgramRefineEnv(**self.kwargs)


class RolloutCollector:
    """Steps `policy` in `envs` and records what happened.

    Args:
        envs: a vector env with `AutoresetMode.SAME_STEP` (see `make_vector_env`).
        policy: what acts. When the envs were made with `expert_labels=True`, the expert's action
            for each state (`info["expert_action"]`) is recorded as its label and handed to the
            policy (only expert and mixture policies read it).
    """

    def __init__(self, envs: VectorEnv, policy: Policy) -> None:
        mode = envs.metadata.get("autoreset_mode")
        if mode is not None and mode != AutoresetMode.SAME_STEP:
            raise ValueError(f"the collector needs a vector env with AutoresetMode.SAME_STEP, got {mode}")
        self.envs, self.policy = envs, policy
        self.num_envs = envs.num_envs
        self.obs: dict[str, np.ndarray] | None = None
        self.infos: dict[str, Any] = {}

    def reset(self, seed: int | Sequence[int] | None = None, options: dict | None = None) -> dict[str, np.ndarray]:
        seeds = list(seed) if isinstance(seed, Sequence) else seed
        self.obs, self.infos = self.envs.reset(seed=seeds, options=options)
        self._returns = np.zeros(self.num_envs)
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)
        return self.obs

    def collect(self, steps: int, generator: torch.Generator | None = None, deterministic: bool = False) -> Rollout:
        """`steps` steps of every environment (call `reset` first)."""
        if self.obs is None:
            raise RuntimeError("call reset() before collect()")
        record: dict[str, list] = {k: [] for k in ("obs", "actions", "rewards", "term", "trunc", "logp", "value")}
        record.update(expert=[], final_values=[])
        episodes: list[tuple] = []
        for t in range(steps):
            expert = self.infos.get("expert_action")
            step = self.policy.act(self.obs, deterministic=deterministic, generator=generator, expert_actions=expert)
            next_obs, rewards, terminations, truncations, infos = self.envs.step(step.actions)
            for key, value in (("obs", self.obs), ("actions", step.actions), ("rewards", rewards)):
                record[key].append(value)
            record["term"].append(terminations)
            record["trunc"].append(truncations)
            record["logp"].append(_or_nan(step.log_prob, self.num_envs))
            record["value"].append(_or_nan(step.value, self.num_envs))
            record["expert"].append(expert)
            record["final_values"].append(self._final_values(truncations, infos))
            episodes += self._finished(t, rewards, terminations | truncations, infos)
            self.obs, self.infos = next_obs, infos
        return self._rollout(record, episodes)

    def _final_values(self, truncations: np.ndarray, infos: dict) -> np.ndarray:
        """Value of the observation each truncated episode ended in (bootstrapping); else 0."""
        values = np.zeros(self.num_envs, dtype=np.float32)
        predict = getattr(self.policy, "predict_values", None)
        if truncations.any() and predict is not None:
            rows = np.flatnonzero(truncations)
            final = stack_observations([infos["final_obs"][e] for e in rows])
            values[rows] = predict(final).cpu().numpy()
        return values

    def _finished(self, t: int, rewards, done: np.ndarray, infos: dict) -> list[tuple]:
        self._returns += rewards
        self._lengths += 1
        finished = []
        for e in np.flatnonzero(done):
            final = infos["final_info"]
            tokens = infos["final_obs"][e]["tokens"]
            solved = bool(final["tests_passed"][e] == final["num_tests"][e])
            held = (final["held_out_passed"][e], final["num_held_out"][e]) if "held_out_passed" in final else (0, 0)
            row = (self._returns[e], self._lengths[e], solved, *held)  # an env may withhold the held-out outcome
            finished.append((*row, tokens, e, t))
            self._returns[e], self._lengths[e] = 0.0, 0
        return finished

    def _rollout(self, record: dict[str, list], episodes: list[tuple]) -> Rollout:
        observations = {k: np.stack([o[k] for o in record["obs"]]) for k in record["obs"][0]}
        labelled = all(e is not None for e in record["expert"])
        return Rollout(
            observations=observations,
            actions=np.stack(record["actions"]),
            rewards=np.stack(record["rewards"]).astype(np.float32),
            terminations=np.stack(record["term"]),
            truncations=np.stack(record["trunc"]),
            log_probs=np.stack(record["logp"]),
            values=np.stack(record["value"]),
            final_values=np.stack(record["final_values"]),
            expert_actions=np.stack(record["expert"]) if labelled else None,
            next_observations=dict(self.obs),
            episodes=_episode_stats(episodes, self.obs["tokens"].shape[-1]),
        )


def _or_nan(values: torch.Tensor | None, n: int) -> np.ndarray:
    return np.full(n, np.nan, dtype=np.float32) if values is None else values.float().cpu().numpy()


def _episode_stats(episodes: list[tuple], num_nodes: int) -> EpisodeStats:
    columns = list(zip(*episodes)) if episodes else [[]] * 8
    dtypes = (np.float32, np.int64, bool, np.int64, np.int64, None, np.int64, np.int64)
    arrays = [np.asarray(c, dtype=d) for c, d in zip(columns, dtypes)]
    if not episodes:
        arrays[5] = np.zeros((0, num_nodes), dtype=np.int64)
    return EpisodeStats(*arrays)


def stack_rollout_obs(obs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """[T, E, ...] observation arrays as [T * E, ...] (a batch for the network)."""
    return {k: v.reshape(-1, *v.shape[2:]) for k, v in obs.items()}
