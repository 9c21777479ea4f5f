"""Decoding: how a refinement round turns a policy's proposals into one action per program.

- `argmax`: the policy's deterministic action (one candidate).
- `best_of_k`: the mode and `samples - 1` draws at `temperature`, with replacement (the original
  decoding); each *distinct* candidate runs the visible tests once.
- `best_first`: up to `samples` distinct candidates a round in order of the model's likelihood.
- `sample_distinct`: up to `samples` distinct draws a round at `temperature` (sampling without
  replacement), the mode first.

All but `argmax` keep the candidate passing most visible tests, the first in their order on ties
(the mode, then the more likely). Candidates run through the env's public `run_visible_tests`
(`agents.acting.candidates`); held-out tests are never consulted. A round stops at the first candidate
passing every visible test (the one the old exhaustive scoring would have picked). Each distinct
candidate program run counts once against `budget` (over all rounds of a task); a program run
before, in any round, is never run again; one that cannot run (ill-typed) costs nothing.

- `guided`: the sketch search ordered by the policy (`agents.acting.sketch`): a hole's token costs its
  negative log-likelihood, fillings are composed bottom-up cheapest first, one per class of values
  on the visible tests, and the first root filling matching every visible output is judged;
  `samples` and `temperature` play no part, `cpu_budget` (or `fillings`) bounds it.

Every decoding counts each task's CPU time (`CandidateRunner.cpu`: its draws, searches and
candidate runs, plus an equal share of each batched forward pass) and stops a task's round when
its share of `cpu_budget` is spent.

Candidates come from the policy's masked per-node distribution when it has one: a policy adapts to
this by a `distribution(obs_tensors) -> (MaskedNodeCategorical, value)` method (`GraphPolicy` has
it; for an SB3 model or an RLlib module, wrap its logits in `MaskedNodeCategorical`). A policy
without one is asked for `act(...)` once per candidate instead (`best_of_k` and `argmax` only).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from gymnasium.vector import SyncVectorEnv, VectorEnv

from ..nn.batching import to_tensors
from ..nn.distribution import MaskedNodeCategorical
from .candidates import best_first, run_visible_tests, sampled, sampled_distinct
from .policy import Policy, PolicyStep

STRATEGIES = ("argmax", "best_of_k", "best_first", "sample_distinct", "guided")
CHUNK = 16  # candidates run per sub-env between checks for one passing every visible test
OVERDRAW = 4  # at most this many times a round's allowance submitted (ill-typed ones cost nothing)


@dataclass(frozen=True)
class Decoding:
    """How a refinement round chooses its tokens (see the module docstring).

    Attributes:
        strategy: "argmax", "best_of_k" (the original decoding), "best_first" (distinct candidates
            by likelihood), "sample_distinct" (distinct draws at the temperature) or "guided" (the
            sketch search ordered by the policy; needs cpu_budget or fillings).
        samples: candidates a round: best_of_k draws this many, the mode included, duplicates and
            all; best_first and sample_distinct run up to this many distinct ones.
        temperature: best_of_k and sample_distinct draw from the model's distribution sharpened
            (< 1) or flattened (> 1) by this factor.
        budget: distinct candidate programs run per task over all rounds (0: no cap beyond
            `samples` a round); each round may spend an equal share of what is left.
        cpu_budget: CPU seconds per task over all rounds (0: no cap): its draws or searches and
            candidate runs, and its share of the forward passes; each round may spend an equal
            share of what is left.
        fillings: guided: fillings composed per task over all rounds (0: no cap; deterministic).
        nats_per_level: guided: width of one cost level, in nats of negative log-likelihood.
    """

    strategy: str = "best_of_k"
    samples: int = 128
    temperature: float = 0.7
    budget: int = 0
    cpu_budget: float = 0.0
    fillings: int = 0
    nats_per_level: float = 1.0

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy={self.strategy!r} is not one of {STRATEGIES}")
        if self.samples < 1 or not self.temperature > 0 or self.budget < 0:
            raise ValueError(
                f"need samples >= 1, temperature > 0 and budget >= 0, got {self.samples}, {self.temperature}, "
                f"{self.budget}"
            )
        if self.cpu_budget < 0 or self.fillings < 0 or not self.nats_per_level > 0:
            raise ValueError(
                f"need cpu_budget >= 0, fillings >= 0 and nats_per_level > 0, got {self.cpu_budget}, "
                f"{self.fillings}, {self.nats_per_level}"
            )
        if self.strategy == "guided" and not (self.cpu_budget or self.fillings):
            raise ValueError("strategy 'guided' needs a cpu_budget (seconds per task) or a fillings budget")

    def to_dict(self) -> dict:
        return asdict(self)


ARGMAX = Decoding(strategy="argmax", samples=1)


@runtime_checkable
class DistributionPolicy(Protocol):
    """A policy that exposes its masked per-node distribution (`rewrite` mode)."""

    def distribution(self, obs: Mapping[str, torch.Tensor]) -> tuple[MaskedNodeCategorical, torch.Tensor | None]: ...


class CandidateRunner:
    """What the report's decoders share: per sub-env, the programs whose visible tests ran (and
    how many passed), and running rounds of candidates through the envs' `run_visible_tests`."""

    envs: VectorEnv

    def begin(self, obs: Mapping[str, np.ndarray]) -> None:
        """Every sub-env starts a task (`obs`: their first observations)."""
        count = len(obs["tokens"])
        self.active = np.ones(count, dtype=bool)
        self.runs = np.zeros(count, dtype=np.int64)
        self.confidence, self.hole_confidence = np.full(count, np.nan), np.full(count, np.nan)
        self.holes = np.asarray(obs["masked"], dtype=bool)
        self.round = 0
        self.cpu = np.zeros(count)  # each task's process time: draws, searches, runs, forward shares
        self.cpu_caps = np.full(count, np.inf)  # cpu a task may reach this round
        self.known: list[dict[tuple, int]] = [{} for _ in range(count)]  # program -> visible tests passed
        for e in range(count):  # the starting program ran at reset: known, not a candidate
            self.known[e][_key(obs["tokens"][e], obs["node_mask"][e])] = _passed(obs, e)

    def observe(self, e: int, tokens: np.ndarray, node_mask: np.ndarray, tests_passed: int) -> None:
        """Sub-env `e` stepped into the program `tokens` (the env ran its visible tests)."""
        key = _key(tokens, node_mask)
        if key not in self.known[e]:
            self.known[e][key] = tests_passed
            self.runs[e] += 1

    def _run(self, searches: Mapping[int, _RoundSearch], streams: Mapping[int, Iterator[np.ndarray]]) -> None:
        """Run each sub-env's candidates (`searches[e]` drawing from `streams[e]`) until all are done."""
        timed = isinstance(self.envs, SyncVectorEnv)  # its sub-envs run in this process: time each
        while True:
            batches = {}
            for e, search in searches.items():
                if search.done or self.cpu[e] >= self.cpu_caps[e]:
                    continue
                start = time.process_time()
                batch = search.next_batch(streams[e])
                if batch and timed:
                    only = [np.stack([c for _, c in batch]) if j == e else None for j in range(len(self.known))]
                    self.runs[e] += search.record(batch, run_visible_tests(self.envs, only)[e])
                if batch:
                    batches[e] = batch
                self.cpu[e] += time.process_time() - start
            if not batches:
                return
            if not timed:  # an async vector env: one round trip for every sub-env's batch
                per_env = [np.stack([c for _, c in batches[e]]) if e in batches else None
                           for e in range(len(self.known))]  # fmt: skip
                results = run_visible_tests(self.envs, per_env)
                for e, batch in batches.items():
                    self.runs[e] += searches[e].record(batch, results[e])


class DecodingPolicy(CandidateRunner):
    """A `Policy` that decodes `policy`'s proposals, running candidates in `envs` (rewrite mode).

    Call `begin(obs)` when every sub-env starts a task and `observe(e, tokens)` with each program
    a sub-env steps into; `active[e] = False` freezes sub-env `e` (its action keeps its program).

    Args:
        policy: what proposes (any `Policy`; a `DistributionPolicy` for the sampling strategies).
        envs: the vector env the actions are for (its sub-envs run the candidates).
        decoding: the strategy and its budget.
        rounds: rounds per task (to share the budget between them).
        generators: one per sub-env, seeding its draws (so that a task's draws do not depend on
            the batch it is in); None: torch's global generator.
    """

    def __init__(self, policy: Policy, envs: VectorEnv, decoding: Decoding, rounds: int, generators=None) -> None:
        self.policy, self.envs, self.decoding, self.rounds = policy, envs, decoding, rounds
        self.generators = generators or [None] * envs.num_envs

    def act(self, obs, *, deterministic=False, generator=None, expert_actions=None) -> PolicyStep:
        actions = np.array(obs["tokens"], dtype=np.int64)  # frozen rows: keep the program
        rows = np.flatnonzero(self.active)
        # Only a privileged policy (the expert, for an upper bound) reads these; the envs hand them
        # over only when made with expert_labels=True.
        self._expert = None if expert_actions is None else np.asarray(expert_actions)[rows]
        if len(rows):
            sub = {k: np.asarray(v)[rows] for k, v in obs.items()}
            actions[rows], self.confidence[rows], self.hole_confidence[rows] = self._decode(sub, rows)
        self.round += 1
        return PolicyStep(actions)

    def _decode(self, obs: Mapping[str, np.ndarray], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        start = time.process_time()
        dist = node_distribution(self.policy, obs)
        self.cpu[rows] += (time.process_time() - start) / len(rows)
        if self.decoding.cpu_budget:
            left = np.maximum(self.decoding.cpu_budget - self.cpu[rows], 0)
            self.cpu_caps[rows] = self.cpu[rows] + left / max(self.rounds - self.round, 1)
        if self.decoding.strategy == "argmax":
            chosen = dist.mode().cpu().numpy() if dist is not None else self._act(obs, True)
            chosen = np.array(chosen, dtype=np.int64)
            allow = self._allowance(rows)
            chosen[allow < 1] = obs["tokens"][allow < 1]  # budget spent: leave the program
        else:
            chosen = self._search(obs, rows, dist)
        nodes = None if dist is None else dist.node_mask
        holes = None if dist is None else torch.as_tensor(self.holes[rows], device=nodes.device).float() * nodes
        return chosen, _confidence(dist, chosen, nodes), _confidence(dist, chosen, holes)

    def _allowance(self, rows: np.ndarray) -> np.ndarray:
        """Distinct candidates each row may run this round."""
        per_round = np.full(len(rows), self.decoding.samples if self.decoding.strategy != "argmax" else 1)
        if not self.decoding.budget:
            return per_round
        left = np.maximum(self.decoding.budget - self.runs[rows], 0)
        share = np.ceil(left / max(self.rounds - self.round, 1)).astype(np.int64)
        return np.minimum(per_round, share)

    def _search(self, obs, rows: np.ndarray, dist: MaskedNodeCategorical | None) -> np.ndarray:
        allow = self._allowance(rows)
        draws = self._act_draws(obs, self.generators[rows[0]]) if dist is None else None
        sizes = obs["node_mask"].sum(-1)
        searches = {e: _RoundSearch(self.known[e], _passed_all(obs, k), int(allow[k]), int(sizes[k]))
                    for k, e in enumerate(rows)}  # fmt: skip
        self._run(searches, {e: self._stream(obs, k, dist, draws, self.generators[e]) for k, e in enumerate(rows)})
        best = [searches[e].best for e in rows]
        return np.stack([b if b is not None else obs["tokens"][k] for k, b in enumerate(best)])

    def _stream(self, obs, row: int, dist: MaskedNodeCategorical | None, draws, generator) -> Iterator[np.ndarray]:
        d = self.decoding
        if dist is None:
            return iter([draw[row] for draw in draws])
        if d.strategy == "best_of_k":
            return iter(_by_likelihood(dist, row, sampled(dist, row, d.samples, d.temperature, generator)))
        if d.strategy == "best_first":
            return best_first(dist, row)
        return sampled_distinct(dist, row, d.temperature, generator, batch=max(2 * d.samples, 16))

    def _act(self, obs, deterministic: bool, generator=None) -> np.ndarray:
        step = self.policy.act(obs, deterministic=deterministic, generator=generator, expert_actions=self._expert)
        return np.asarray(step.actions)

    def _act_draws(self, obs, generator) -> list[np.ndarray]:
        """A policy without a distribution: its deterministic action, then `samples - 1` draws."""
        if self.decoding.strategy != "best_of_k":
            raise ValueError(f"strategy {self.decoding.strategy!r} needs a policy with a distribution() method")
        return [self._act(obs, True)] + [self._act(obs, False, generator) for _ in range(self.decoding.samples - 1)]


class _RoundSearch:
    """One program's candidates in one round: which to run next, and the best so far."""

    def __init__(self, known: dict[tuple, int], all_tests: int, allowance: int, size: int) -> None:
        self.known, self.all_tests, self.allowance, self.size = known, all_tests, allowance, size
        self.ran, self.submitted, self.best, self.best_score, self.done = 0, 0, None, -math.inf, allowance < 1

    def next_batch(self, stream: Iterator[np.ndarray]) -> list[tuple[tuple, np.ndarray]] | None:
        """Up to CHUNK candidates never run before (ones run before are judged on their score)."""
        batch, keys = [], set()
        while not self.done and len(batch) < min(CHUNK, self.allowance - self.ran):
            candidate = next(stream, None)
            if candidate is None or self.submitted >= OVERDRAW * self.allowance + CHUNK:
                self.done = True
                break
            key = tuple(candidate[: self.size].tolist())
            if key in self.known:
                self._consider(self.known[key], candidate)
            elif key not in keys:
                keys.add(key)
                batch.append((key, candidate))
                self.submitted += 1
        return batch or None

    def record(self, batch, scores: np.ndarray) -> int:
        """Take the scores of a batch in order; returns how many candidates actually ran."""
        ran = 0
        for (key, candidate), score in zip(batch, scores.tolist()):
            self.known[key] = score
            ran += score >= 0
            self._consider(score, candidate)  # after one passing everything, none can beat it
        self.ran += ran
        if self.ran >= self.allowance:
            self.done = True
        return ran

    def _consider(self, score: int, candidate: np.ndarray) -> None:
        score = max(score, 0)  # one that cannot run passes no test: it ties with those passing none
        if score > self.best_score:
            self.best, self.best_score = candidate, score
        if score >= self.all_tests:
            self.done = True


def node_distribution(policy: Policy, obs: Mapping[str, np.ndarray]) -> MaskedNodeCategorical | None:
    """The policy's masked per-node distribution for a batch, or None if it exposes none."""
    if not isinstance(policy, DistributionPolicy):
        return None
    with torch.no_grad():
        dist, _ = policy.distribution(to_tensors(obs, getattr(policy, "device", "cpu")))
    if not isinstance(dist, MaskedNodeCategorical):
        raise ValueError("decoding needs a rewrite-mode policy (a MaskedNodeCategorical distribution)")
    return dist


def _by_likelihood(dist: MaskedNodeCategorical, row: int, candidates: list[np.ndarray]) -> list[np.ndarray]:
    """The first candidate (the mode), then the rest most likely first (stable)."""
    if len(candidates) <= 2:
        return candidates
    rest = torch.as_tensor(np.stack(candidates[1:]))
    rows = dist.log_probs[row].cpu().expand(len(rest), -1, -1)
    nodes = dist.node_mask[row].cpu()
    likelihood = (rows.gather(-1, rest.unsqueeze(-1)).squeeze(-1) * nodes).sum(-1)
    order = sorted(range(len(rest)), key=lambda k: -float(likelihood[k]))
    return [candidates[0]] + [candidates[1 + k] for k in order]


def _key(tokens: np.ndarray, node_mask: np.ndarray) -> tuple:
    """A program's identity: the tokens of its real nodes (as the env keys it)."""
    return tuple(np.asarray(tokens)[: int(np.asarray(node_mask).sum())].tolist())


def _passed(obs: Mapping[str, np.ndarray], row: int) -> int:
    """Visible tests the observed program passes (outcome 0 on a real test)."""
    return int(((obs["test_outcome"][row] == 0) & (obs["test_mask"][row] == 1)).sum())


def _passed_all(obs: Mapping[str, np.ndarray], row: int) -> int:
    return int(obs["test_mask"][row].sum())


def _confidence(dist: MaskedNodeCategorical | None, chosen: np.ndarray, nodes: torch.Tensor | None) -> np.ndarray:
    """Mean probability the policy gave the chosen tokens over `nodes` ([B, N] weights; NaN
    without a distribution or without such nodes)."""
    if dist is None:
        return np.full(len(chosen), np.nan)
    probs = dist.node_log_prob(torch.as_tensor(chosen, device=dist.log_probs.device)).exp()
    count = nodes.sum(-1)
    mean = (probs * nodes).sum(-1) / count.clamp(min=1)
    return torch.where(count > 0, mean, torch.full_like(mean, float("nan"))).cpu().numpy()
