"""The search baseline: grammar-masked random search over the holes, at a budget of candidates.

For each program, candidates are drawn by filling its holes (`obs["masked"]`; in `noise` mode,
which leaves no holes, every node) top-down in pre-order, each token drawn from the node's grammar
mask given the tokens already filled above and before it (`progrefine_env.lang.check` on the
partial program: masks are exact around holes, so every filling type-checks). Each distinct
candidate runs the visible tests once, through the env's public `run_visible_tests`, until the
budget of distinct candidates is spent, one passes every visible test, or no new candidate turns
up; the one passing most visible tests (the first found on ties) is then applied in one step, so
the env reports its held-out tests. Tokens are drawn uniformly among the allowed ones, or in
proportion to `weights` (e.g. `token_weights`: each token's frequency in a training corpus).

The search reads the task's declared input types (its signature, which a user states with the
task, needed to type-check), never its program or tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from gymnasium.vector import VectorEnv

from progrefine_env.lang import MASK, PAD, VOCAB_SIZE, Program, check, input_signature
from progrefine_env.tasks.task import Task

from .policy import PolicyStep
from .strategies import CandidateRunner, _passed_all, _RoundSearch

MISSES = 200  # draws in a row that bring no new candidate before a program's search gives up


def token_weights(tasks: Sequence[Task]) -> np.ndarray:
    """[V] each token's count in the tasks' programs, plus one (so no allowed token is never drawn)."""
    counts = np.ones(VOCAB_SIZE)
    for task in tasks:
        np.add.at(counts, np.asarray(task.program.tokens), 1)
    return counts


def corpus_token_weights() -> np.ndarray:
    """`token_weights` of the default generated corpus's train split (what the agents learn on): the
    order the classical sketch search tries tokens in, and the frequency-weighted search's draws."""
    from progrefine_env.tasks.corpus import load_corpus

    return token_weights(load_corpus("train", progress=True))


def fillings(
    tokens: Sequence[int], arities: Sequence[int], holes: Sequence[int], signature, rng: np.random.Generator,
    weights: np.ndarray | None = None,
) -> Iterator[tuple[int, ...]]:  # fmt: skip
    """Endless random top-down fillings of `holes` (pre-order node indices) of the program."""
    cache: dict[tuple[int, ...], tuple[int, ...]] = {}
    base = list(tokens)
    for i in holes:
        base[i] = MASK
    while True:
        current = list(base)
        for i in holes:
            key = tuple(current)
            masks = cache.get(key)
            if masks is None:
                masks = cache[key] = check(Program(key, tuple(arities)), signature).masks
            allowed = [t for t in range(VOCAB_SIZE) if (masks[i] >> t) & 1 and t not in (PAD, MASK)]
            p = None if weights is None else weights[allowed] / weights[allowed].sum()
            current[i] = int(rng.choice(allowed, p=p))
        yield tuple(current)


class SearchDecoder(CandidateRunner):
    """The search as the report's decoder: one round that runs up to `budgets[e]` candidates.

    Args:
        envs: the vector env (its sub-envs run the candidates).
        signatures: each sub-env's task's declared input types.
        budgets: distinct candidates per sub-env.
        weights: token weights [V], or None for uniform.
        seeds: one per sub-env.
        cpu_budget: CPU seconds per sub-env (0: no cap).
    """

    def __init__(
        self, envs: VectorEnv, signatures, budgets: Sequence[int], weights=None, seeds=None, cpu_budget: float = 0.0
    ) -> None:  # fmt: skip
        self.envs, self.budgets, self.weights, self.cpu_budget = envs, list(budgets), weights, cpu_budget
        self.signatures = [input_signature(s) for s in signatures]
        self.seeds = list(seeds) if seeds is not None else list(range(envs.num_envs))

    def act(self, obs, *, deterministic=False, generator=None, expert_actions=None) -> PolicyStep:
        actions = np.array(obs["tokens"], dtype=np.int64)
        rows = np.flatnonzero(self.active)
        if self.cpu_budget:
            self.cpu_caps[rows] = self.cpu_budget
        searches = {e: _RoundSearch(self.known[e], _passed_all(obs, e), self.budgets[e], _size(obs, e)) for e in rows}
        self._run(searches, {e: self._candidates(obs, e) for e in rows})
        for e, search in searches.items():
            if search.best is not None:
                actions[e] = search.best
        return PolicyStep(actions)

    def _candidates(self, obs, e: int) -> Iterator[np.ndarray]:
        """Distinct random fillings as action arrays; stops after MISSES draws bring nothing new."""
        n = _size(obs, e)
        tokens, arities = obs["tokens"][e][:n].tolist(), obs["arity"][e][:n].tolist()
        holes = [i for i in range(n) if obs["masked"][e][i]] or list(range(n))
        rng = np.random.default_rng(self.seeds[e])
        seen, misses = set(), 0
        for filled in fillings(tokens, arities, holes, self.signatures[e], rng, self.weights):
            if filled in seen:
                misses += 1
                if misses >= MISSES:
                    return
                continue
            seen.add(filled)
            misses = 0
            action = np.full(len(obs["tokens"][e]), PAD, dtype=np.int64)
            action[:n] = filled
            yield action


def _size(obs: Mapping[str, np.ndarray], e: int) -> int:
    return int(obs["node_mask"][e].sum())
