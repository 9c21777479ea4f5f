"""Stepping many environments at once so the network sees batches, not single graphs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from progrefine_env.env import ProgramRefineEnv
from progrefine_env.tasks.task import Task

from .batching import stack_observations


class EnvBatch:
    """`size` rewrite-mode environments over one task list, reset and stepped together.

    Not a Gymnasium vector env: episodes here last a fixed number of rounds and a solved program
    simply stays as it is (its further actions are no-ops), which keeps every batch full and the
    per-round metrics aligned. Observations carry one key more than the environment's: `round`,
    the number of rounds each episode has taken ([B]), for networks built with `round_input`.
    """

    def __init__(self, tasks: Sequence[Task], size: int, corruption=(0.5, 1.0), max_nodes: int = 64, **kwargs):
        tasks = list(tasks)
        self.envs = [
            ProgramRefineEnv(tasks=tasks, corruption=corruption, max_nodes=max_nodes, **kwargs) for _ in range(size)
        ]
        self.done = np.zeros(size, dtype=bool)
        self.rounds = np.zeros(size, dtype=np.int64)
        self.observations: list[dict[str, np.ndarray]] = []

    def __len__(self) -> int:
        return len(self.envs)

    def reset(self, seeds: Sequence[int], options: Sequence[dict] | None = None) -> dict[str, np.ndarray]:
        options = options or [{}] * len(self.envs)
        self.observations = [env.reset(seed=int(s), options=o)[0] for env, s, o in zip(self.envs, seeds, options)]
        self.done[:] = False
        self.rounds[:] = 0
        return self._stacked()

    def reset_tasks(self, indices: Sequence[int], seed: int = 0) -> dict[str, np.ndarray]:
        """Reset environment k to task `indices[k]` with seed `seed + indices[k]` (so a task's
        corruption does not depend on the batch it falls in). When `indices` is shorter than the
        batch, the remaining environments repeat its first task; their results are to be ignored."""
        if not 0 < len(indices) <= len(self.envs):
            raise ValueError(f"need 1 to {len(self.envs)} task indices, got {len(indices)}")
        padded = list(indices) + [indices[0]] * (len(self.envs) - len(indices))
        return self.reset([seed + i for i in padded], [{"task_index": i} for i in padded])

    def step(self, actions: np.ndarray) -> tuple[dict[str, np.ndarray], list[dict]]:
        """Step every environment whose episode is still running; finished ones keep their state."""
        infos: list[dict] = []
        for k, env in enumerate(self.envs):
            if self.done[k]:
                infos.append({})
                continue
            obs, _, terminated, truncated, info = env.step(actions[k])
            self.observations[k] = obs
            self.done[k] = terminated or truncated
            self.rounds[k] += 1
            infos.append(info)
        return self._stacked(), infos

    def _stacked(self) -> dict[str, np.ndarray]:
        return {**stack_observations(self.observations), "round": self.rounds.copy()}

    def targets(self) -> np.ndarray:
        """[B, N] target tokens (privileged: for supervised losses and evaluation)."""
        return np.stack([env.target_tokens for env in self.envs])
