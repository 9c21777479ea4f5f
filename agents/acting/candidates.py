"""Candidate programs for one refinement round, and running them on the visible tests.

A candidate is a token for every node (a `rewrite` action, `[N]`). Generators, from a policy's
masked per-node distribution (`agents.nn.distribution.MaskedNodeCategorical`):

- `sampled`: the mode, then draws with replacement (the original best-of-k; duplicates happen
  where the model is confident, and are dropped before running).
- `best_first`: distinct candidates in order of the model's likelihood, the mode first (exact
  k-best enumeration of a product of independent per-node choices).
- `sampled_distinct`: distinct draws at a temperature, more drawn until enough are distinct
  (sampling without replacement by rejection), the mode first.

`run_visible_tests` scores candidates through the env's public `run_visible_tests` method, one
list per sub-env of a Gymnasium vector env (sync: direct calls; async: `set_attr` then `call`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from gymnasium.vector import SyncVectorEnv, VectorEnv

from ..nn.distribution import MaskedNodeCategorical

NOT_RUN = -1
"""Score of a candidate that cannot run (a hole, a wrong arity, ill-typed): it costs no budget."""


def run_visible_tests(envs: VectorEnv, candidates: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
    """Visible tests passed by each sub-env's candidates ([K_e, N] each; None: nothing to run)."""
    if isinstance(envs, SyncVectorEnv):
        return [
            None if c is None or not len(c) else np.asarray(env.get_wrapper_attr("run_visible_tests")(np.asarray(c)))
            for env, c in zip(envs.envs, candidates)
        ]
    width = envs.single_action_space.shape[0]
    empty = np.zeros((0, width), dtype=np.int64)
    envs.set_attr("pending_candidates", [empty if c is None else np.asarray(c) for c in candidates])
    results = envs.call("run_visible_tests")
    return [None if c is None or not len(c) else np.asarray(r) for c, r in zip(candidates, results)]


def sampled(dist: MaskedNodeCategorical, row: int, count: int, temperature: float, generator) -> list[np.ndarray]:
    """The mode of `row`, then `count - 1` draws at `temperature` (with replacement), as listed;
    duplicates are left to the caller (it runs each distinct one once)."""
    mode = dist.mode()[row]
    if count <= 1:
        return [mode.cpu().numpy()]
    tempered = _tempered(dist, row, temperature)
    draws = tempered.sample(generator)[0] if count == 2 else _draws(tempered, count - 1, generator)
    return [mode.cpu().numpy(), *draws.reshape(-1, mode.shape[0]).cpu().numpy()]


def sampled_distinct(
    dist: MaskedNodeCategorical, row: int, temperature: float, generator, batch: int = 64, max_batches: int = 16
) -> Iterator[np.ndarray]:
    """The mode of `row`, then draws at `temperature`, each distinct one once, most likely first
    within each batch of `batch` draws; stops after `max_batches` batches."""
    mode = dist.mode()[row].cpu().numpy()
    n = int(dist.node_mask[row].sum())
    seen = {tuple(mode[:n].tolist())}
    yield mode
    tempered = _tempered(dist, row, temperature)
    for _ in range(max_batches):
        draws = _draws(tempered, batch, generator)
        rows = dist.log_probs[row].expand(batch, -1, -1)
        likelihood = rows.gather(-1, draws.unsqueeze(-1)).squeeze(-1)[:, :n].sum(-1)
        for k in likelihood.argsort(descending=True).tolist():
            candidate = draws[k].cpu().numpy()
            key = tuple(candidate[:n].tolist())
            if key not in seen:
                seen.add(key)
                yield candidate


def best_first(dist: MaskedNodeCategorical, row: int) -> Iterator[np.ndarray]:
    """Every allowed filling of `row`'s real nodes, each once, in non-increasing likelihood.

    Sorted per node, a filling is a vector of ranks; the enumeration (the k smallest sums of sorted
    lists) pops fillings from a heap by cost (log-likelihood below the mode) and pushes at most
    three successors of each, every filling reached from exactly one parent.
    """
    log_probs, mask = dist.log_probs[row].detach().cpu(), dist.mask[row].cpu()
    n = int(dist.node_mask[row].sum())
    order = log_probs[:n].argsort(dim=-1, descending=True).numpy()
    sorted_lp = np.take_along_axis(log_probs[:n].numpy(), order, axis=-1)
    allowed = mask[:n].sum(-1).numpy()
    mode = dist.mode()[row].cpu().numpy()
    free = [i for i in range(n) if allowed[i] > 1]
    free.sort(key=lambda i: sorted_lp[i, 0] - sorted_lp[i, 1])  # cheapest second choice first
    deltas = [sorted_lp[i, 0] - sorted_lp[i, : allowed[i]] for i in free]
    yield mode
    if not free:
        return
    heap = [(float(deltas[0][1]), 0, 0, (1,) + (0,) * (len(free) - 1))]
    pushed = 1
    while heap:
        cost, _, p, ranks = heapq.heappop(heap)
        candidate = mode.copy()
        for position, rank in enumerate(ranks):
            if rank:
                candidate[free[position]] = order[free[position], rank]
        yield candidate
        for child_p, child in _successors(ranks, p, deltas):
            # A child differs from its parent at positions p and p + 1 only.
            change = sum(float(deltas[q][child[q]] - deltas[q][ranks[q]]) for q in {p, child_p})
            heapq.heappush(heap, (cost + change, pushed, child_p, child))
            pushed += 1


def _successors(ranks: tuple[int, ...], p: int, deltas: list[np.ndarray]) -> list[tuple[int, tuple[int, ...]]]:
    """Children of the filling `ranks` whose last changed position is `p`."""
    children = []
    if ranks[p] + 1 < len(deltas[p]):
        children.append((p, ranks[:p] + (ranks[p] + 1,) + ranks[p + 1 :]))
    if p + 1 < len(ranks):
        children.append((p + 1, ranks[: p + 1] + (1,) + ranks[p + 2 :]))
        if ranks[p] == 1:
            children.append((p + 1, ranks[:p] + (0, 1) + ranks[p + 2 :]))
    return children


def _tempered(dist: MaskedNodeCategorical, row: int, temperature: float) -> MaskedNodeCategorical:
    """Row `row` of `dist` at `temperature` (log-probabilities re-normalised: softmax(l / T))."""
    return MaskedNodeCategorical(
        dist.log_probs[row : row + 1], dist.mask[row : row + 1], dist.node_mask[row : row + 1], temperature
    )


def _draws(dist: MaskedNodeCategorical, count: int, generator) -> torch.Tensor:
    """[count, N] draws from a one-row distribution."""
    repeated = MaskedNodeCategorical(dist.log_probs.expand(count, -1, -1), dist.mask.expand(count, -1, -1))
    return repeated.sample(generator)
