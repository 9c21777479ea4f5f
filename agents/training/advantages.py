"""Generalized advantage estimation (Schulman et al. 2016, "High-Dimensional Continuous Control
Using Generalized Advantage Estimation") over a `Rollout`'s `[T, E]` arrays.

The collector's vector env resets finished episodes within the same step, so step `t + 1` of a
finished episode belongs to the next one: nothing is propagated across an episode boundary. A
terminated episode is worth 0 after its last step; a truncated one (a time limit, or the rollout's
end) is bootstrapped with the value of the observation it ended in (`final_values`, or
`next_values` after the last collected step). `lam=1` gives the discounted Monte-Carlo return
to the episode's end (REINFORCE), `lam=0` the one-step TD target.
"""

from __future__ import annotations

import numpy as np


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    terminations: np.ndarray,
    truncations: np.ndarray,
    final_values: np.ndarray,
    next_values: np.ndarray,
    gamma: float,
    lam: float,
    bootstrap_truncated: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(advantages, returns), both [T, E] float32; `returns = advantages + values`.

    Args:
        rewards, values, final_values: [T, E]; `values[t]` is the value of the state acted on at t.
        terminations, truncations: [T, E] bool, the episode ended at step t.
        next_values: [E] value of the state after the last step (the rollout is cut there).
        gamma: discount; lam: the GAE trade-off between bias (0) and variance (1).
        bootstrap_truncated: add `gamma * final_values` at a time limit (False treats a time
            limit as the task's end, as for a fixed refinement budget).
    """
    steps = rewards.shape[0]
    advantages = np.zeros(rewards.shape, dtype=np.float64)
    last = np.zeros(rewards.shape[1], dtype=np.float64)
    ended = terminations | truncations
    for t in reversed(range(steps)):
        following = next_values if t == steps - 1 else values[t + 1]
        boundary = np.where(truncations[t] & bootstrap_truncated, final_values[t], 0.0)
        next_value = np.where(ended[t], boundary, following)
        delta = rewards[t] + gamma * next_value - values[t]
        last = delta + gamma * lam * np.where(ended[t], 0.0, last)
        advantages[t] = last
    return advantages.astype(np.float32), (advantages + values).astype(np.float32)
