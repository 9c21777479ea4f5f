"""Typed batches that the collector fills and the trainers read (as Stable-Baselines3's buffers)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Rollout(NamedTuple):
    """`T` steps of `E` vector-env sub-environments, in step order.

    Every step is a real transition: the vector env resets a finished episode within the same step
    (Gymnasium's `AutoresetMode.SAME_STEP`), so `observations[t + 1]` of a finished episode is the
    first observation of the next one, and `final_values[t]` holds the value of the observation the
    episode ended in when it was truncated (for bootstrapping; 0 otherwise).

    Shapes:
        observations: dict of [T, E, ...] arrays, the states acted on.
        actions: [T, E, N] (`rewrite`) or [T, E] (`edit`).
        rewards, log_probs, values, final_values: [T, E] float32 (log_probs, values NaN when the
            policy gives none).
        terminations, truncations: [T, E] bool.
        expert_actions: like `actions`, the expert's label of each state, or None when the
            environments were made without `expert_labels`.
        next_observations: dict of [E, ...] arrays, the states after the last step.
        episodes: `EpisodeStats` of the episodes that ended during the rollout.
    """

    observations: dict[str, np.ndarray]
    actions: np.ndarray
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    log_probs: np.ndarray
    values: np.ndarray
    final_values: np.ndarray
    expert_actions: np.ndarray | None
    next_observations: dict[str, np.ndarray]
    episodes: EpisodeStats


class EpisodeStats(NamedTuple):
    """Per finished episode (length K arrays): return, length, solved (all visible tests pass),
    held-out tests passed and their number, and the final program's tokens [K, N]."""

    returns: np.ndarray
    lengths: np.ndarray
    solved: np.ndarray
    held_out_passed: np.ndarray
    num_held_out: np.ndarray
    final_tokens: np.ndarray
    env_index: np.ndarray
    end_step: np.ndarray

    def success_rate(self) -> float:
        return float(self.solved.mean()) if len(self.solved) else float("nan")

    def mean_return(self) -> float:
        return float(self.returns.mean()) if len(self.returns) else float("nan")
