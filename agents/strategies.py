"""Decoding strategies for a refinement round: which tokens the agent proposes for every node.

- `argmax`: the most likely allowed token at every node (one candidate).
- `best_of_k`: the argmax candidate and `samples - 1` candidates sampled from the model at
  `temperature`; each is scored by running the task's *visible* tests (what the agent is allowed to
  run, and what the environment rewards), and the one passing most wins, ties going to the argmax
  candidate, then to the more likely one. Held-out tests are never consulted.

Measured on 200 val tasks (benchmarks/README.md, "Decoding"): more samples and a temperature below 1
(candidates that differ from the argmax in a few uncertain nodes, not everywhere) pass more tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from progrefine_env.tasks.task import passes

from .decoding import greedy, sample

STRATEGIES = ("argmax", "best_of_k")


@dataclass(frozen=True)
class Decoding:
    """How a refinement round chooses its tokens.

    Attributes:
        strategy: "argmax" (the most likely token at every node) or "best_of_k" (the argmax and
            sampled candidates; the one passing most visible tests is kept).
        samples: candidates per round for best_of_k, the argmax one included.
        temperature: best_of_k samples from the model's distribution sharpened (< 1) or flattened
            (> 1) by this factor.
    """

    strategy: str = "best_of_k"
    samples: int = 128
    temperature: float = 0.7

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy={self.strategy!r} is not one of {STRATEGIES}")
        if self.samples < 1 or not self.temperature > 0:
            raise ValueError(f"need samples >= 1 and temperature > 0, got {self.samples}, {self.temperature}")

    def to_dict(self) -> dict:
        return asdict(self)


ARGMAX = Decoding(strategy="argmax", samples=1)


def choose_tokens(
    log_probs: torch.Tensor, envs: Sequence, decoding: Decoding = ARGMAX, generator: torch.Generator | None = None
) -> np.ndarray:
    """[B, N] token ids for the environments `envs` (unwrapped `ProgramRefineEnv`s, one per row)."""
    best, _ = greedy(log_probs)
    samples = decoding.samples
    if decoding.strategy == "argmax" or samples <= 1:
        return best.cpu().numpy()
    log_probs = log_probs.cpu()
    tempered = torch.log_softmax(log_probs / decoding.temperature, dim=-1)
    candidates = torch.stack([best.cpu()] + [sample(tempered, generator) for _ in range(samples - 1)], dim=1)
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
