"""Decoding strategies for a refinement round: which tokens the agent proposes for every node.

- `argmax`: the most likely allowed token at every node (one candidate).
- `best_of_k`: the argmax candidate and `samples - 1` candidates sampled from the model; each is
  scored by running the task's *visible* tests (what the agent is allowed to run, and what the
  environment rewards), and the one passing most wins, ties going to the argmax candidate, then to
  the more likely one. Held-out tests are never consulted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from progrefine_env.tasks.task import passes

from .decoding import greedy, sample

STRATEGIES = ("argmax", "best_of_k")


def choose_tokens(
    log_probs: torch.Tensor,
    envs: Sequence,
    strategy: str = "argmax",
    samples: int = 8,
    generator: torch.Generator | None = None,
) -> np.ndarray:
    """[B, N] token ids for the environments `envs` (unwrapped `ProgramRefineEnv`s, one per row)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r} is not one of {STRATEGIES}")
    best, _ = greedy(log_probs)
    if strategy == "argmax" or samples <= 1:
        return best.cpu().numpy()
    log_probs = log_probs.cpu()
    candidates = torch.stack([best.cpu()] + [sample(log_probs, generator) for _ in range(samples - 1)], dim=1)
    scores = log_probs.unsqueeze(1).expand(-1, samples, -1, -1).gather(-1, candidates.unsqueeze(-1)).squeeze(-1)
    chosen = candidates[:, 0].numpy().copy()
    for row, env in enumerate(envs):
        chosen[row] = _best_candidate(env, candidates[row].numpy(), scores[row])
    return chosen


def _best_candidate(env, candidates: np.ndarray, scores: torch.Tensor) -> np.ndarray:
    """The candidate passing most visible tests (then argmax first, then most likely)."""
    program, task = env.program, env.task
    n = len(program)
    node_mask = torch.zeros(candidates.shape[1], dtype=torch.bool)
    node_mask[:n] = True
    likelihood = (scores * node_mask).sum(-1)
    best_key, best_index, seen = None, 0, {}
    for k, tokens in enumerate(candidates):
        key_tokens = tuple(int(t) for t in tokens[:n])
        if key_tokens not in seen:
            candidate = program.replace({i: t for i, t in enumerate(key_tokens) if t != program.tokens[i]})
            seen[key_tokens] = sum(passes(candidate, task.input_types, task.tests))
        key = (seen[key_tokens], k == 0, float(likelihood[k]))
        if best_key is None or key > best_key:
            best_key, best_index = key, k
    return candidates[best_index]
