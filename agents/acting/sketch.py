"""The sketch search as a decoding: classical (no policy) or guided by a policy's log-probabilities.

Each round, every task still running builds its sketch from the observation alone (tokens, arities,
the holes it started with; in noise mode, which leaves no holes, every node is one), reads its
visible tests and declared inputs through the env's public `visible_tests()` and `input_types`,
and runs `progrefine_env.search.SketchSearch` with a share of its CPU budget:

- classical (`policy=None`): mask mode tries every allowed token at one level in training-corpus
  frequency order (`search_weights`); noise mode orders fillings by the number of changed nodes;
- guided: a hole's token costs its negative log-likelihood under the policy's masked per-node
  distribution on the current observation (noise mode: every node's, its current token included,
  so the policy's sense of which tokens are wrong sets the order), in levels of `nats_per_level`.

A match confirmed by the env's `run_visible_tests` is the round's action; without one, the root
filling matching the most visible outputs is stepped into (the next round searches the original
holes again, ordered on the new observation). Root fillings handed to the runner are the
candidates counted (`runs`), once per distinct program; `cpu` holds each task's process time:
its own searches plus an equal share of each batched forward pass.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from gymnasium.vector import VectorEnv

from progrefine_env.lang import MASK
from progrefine_env.search import FastSketchSearch, Sketch, SketchSearch, guided_choices, mask_choices, noise_choices

from .candidates import run_visible_tests
from .policy import Policy, PolicyStep
from .strategies import CandidateRunner, node_distribution


@dataclass(frozen=True)
class SketchBudget:
    """What one task's sketch search may spend over all its rounds.

    Attributes:
        cpu_seconds: process time per task (0: no cap).
        fillings: fillings composed per task (0: no cap; deterministic, for tests).
        nats_per_level: width of a guided cost level, in nats of negative log-likelihood.
        prune_below: guided: drop tokens the policy gives less than this probability.
    """

    cpu_seconds: float = 0.0
    fillings: int = 0
    nats_per_level: float = 1.0
    prune_below: float = 0.0


class SketchDecoder(CandidateRunner):
    """The sketch search as the report's decoder (a `Policy` for `RolloutCollector`).

    Args:
        envs: the vector env of the tasks (a `SyncVectorEnv`: the searches judge through it).
        policy: the guiding policy (with a `distribution()`), or None for the classical search.
        budgets: per sub-env, its `SketchBudget`.
        rounds: rounds per task (each round may spend an equal share of what is left).
        weights: token frequencies [V] ordering the classical search's tokens (None: token order).
        reference: run the reference `SketchSearch` instead of `FastSketchSearch` (same classes and
            answer under a fillings budget, tested; the fast one composes int and bool classes with numpy).
    """

    def __init__(
        self, envs: VectorEnv, policy: Policy | None, budgets: Sequence[SketchBudget], rounds: int,
        weights: np.ndarray | None = None, reference: bool = False,
    ) -> None:  # fmt: skip
        self.envs, self.policy, self.budgets, self.rounds, self.weights = envs, policy, list(budgets), rounds, weights
        self.search_class = SketchSearch if reference else FastSketchSearch

    def begin(self, obs: Mapping[str, np.ndarray]) -> None:
        super().begin(obs)
        self.cpu = np.zeros(len(obs["tokens"]))
        self.fillings = np.zeros(len(obs["tokens"]), dtype=np.int64)

    def act(self, obs, *, deterministic=False, generator=None, expert_actions=None) -> PolicyStep:
        actions = np.array(obs["tokens"], dtype=np.int64)
        rows = np.flatnonzero(self.active)
        log_probs = self._log_probs(obs, rows)
        for k, e in enumerate(rows):
            start = time.process_time()
            found = self._search(obs, int(e), None if log_probs is None else log_probs[k])
            if found is not None:
                actions[e, : len(found)] = found
            self.cpu[e] += time.process_time() - start
        self.round += 1
        return PolicyStep(actions)

    def _log_probs(self, obs, rows: np.ndarray) -> np.ndarray | None:
        """[rows, N, V] log-probabilities of the guiding policy (its forward pass's CPU shared)."""
        if self.policy is None or not len(rows):
            return None
        start = time.process_time()
        dist = node_distribution(self.policy, {key: np.asarray(v)[rows] for key, v in obs.items()})
        if dist is None:
            raise ValueError("the guided sketch search needs a policy with a distribution() method")
        log_probs = dist.log_probs.detach().cpu().numpy()
        self.cpu[rows] += (time.process_time() - start) / len(rows)
        return log_probs

    def _search(self, obs, e: int, log_probs: np.ndarray | None) -> tuple[int, ...] | None:
        sketch = self._sketch(obs, e)
        budget = self.budgets[e]
        if budget.fillings and self.fillings[e] >= budget.fillings:
            return None
        if budget.cpu_seconds and self.cpu[e] >= budget.cpu_seconds:
            return None
        search = self.search_class(
            sketch, self._choices(sketch, log_probs, budget), self._judge(e),
            fillings=self._share(budget.fillings, self.fillings[e]) or None,
            cpu_seconds=self._share(budget.cpu_seconds, self.cpu[e]) or None,
            scores=None if log_probs is None else -log_probs,
        )  # fmt: skip
        result = search.run()
        self.fillings[e] += result.fillings
        return result.tokens

    def _share(self, total: float, spent: float) -> float:
        """An equal share of what is left for each round still to come (0: no cap)."""
        if not total:
            return 0
        share = (total - spent) / max(self.rounds - self.round, 1)
        return max(int(share), 1) if isinstance(total, (int, np.integer)) else share

    def _sketch(self, obs, e: int) -> Sketch:
        n = int(obs["node_mask"][e].sum())
        tokens = [int(t) for t in obs["tokens"][e][:n]]
        holes = [i for i in range(n) if self.holes[e][i]]
        for i in holes:
            tokens[i] = MASK  # the holes the task started with, searched again every round
        env = self.envs.envs[e]
        return Sketch(
            tuple(tokens), tuple(int(a) for a in obs["arity"][e][:n]), tuple(holes or range(n)),
            env.get_wrapper_attr("input_types"), env.get_wrapper_attr("visible_tests")(),
        )  # fmt: skip

    def _choices(self, sketch: Sketch, log_probs: np.ndarray | None, budget: SketchBudget):
        if log_probs is not None:
            return guided_choices(sketch, log_probs, budget.nats_per_level, prune_below=budget.prune_below)
        if MASK in sketch.tokens:
            return mask_choices(sketch, self.weights)
        return noise_choices(sketch, self.weights)

    def _judge(self, e: int):
        """Visible tests a program passes, through the env's runner; each distinct one counted once."""
        width = self.envs.single_action_space.shape[0]

        def judge(tokens: tuple[int, ...]) -> int:
            key = tuple(tokens)
            if key not in self.known[e]:
                candidate = np.zeros((1, width), dtype=np.int64)
                candidate[0, : len(tokens)] = tokens
                batch = [candidate if j == e else None for j in range(len(self.known))]
                self.known[e][key] = int(run_visible_tests(self.envs, batch)[e][0])
                self.runs[e] += self.known[e][key] >= 0
            return self.known[e][key]

        return judge

