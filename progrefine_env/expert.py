"""The expert: edits that lead from any state to the target program.

Only `env.unwrapped` exposes it (for DAgger and supervised targets); an agent that is evaluated
never reads it. Order: nodes are repaired in pre-order (root first), because a parent's token
fixes the types its children must have, so top-down repair keeps the grammar masks informative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def wrong_nodes(current: Sequence[int], target: Sequence[int]) -> list[int]:
    """Nodes whose current token differs from the target's, in pre-order."""
    return [i for i, (c, t) in enumerate(zip(current, target)) if c != t]


def rewrite_action(
    current: Sequence[int], target: Sequence[int], max_nodes: int, pad: int, fix: int | None = None
) -> np.ndarray:
    """A `rewrite` action: the full correction (`fix=None`), or the first `fix` wrong nodes in
    pre-order corrected and every other node kept."""
    action = np.full(max_nodes, pad, dtype=np.int64)
    n = len(current)
    if fix is None:
        action[:n] = target
        return action
    action[:n] = current
    for node in wrong_nodes(current, target)[: max(fix, 0)]:
        action[node] = target[node]
    return action


def edit_action(
    current: Sequence[int],
    target: Sequence[int],
    vocab_size: int,
    is_valid: Callable[[int, int], bool],
) -> int:
    """An `edit` action (`node * vocab_size + token`): the first wrong node in pre-order whose
    correction the environment would accept now (`is_valid(node, token)`), else the first wrong
    node. When nothing is wrong: a no-op on the root (its current token)."""
    wrong = wrong_nodes(current, target)
    if not wrong:
        return int(current[0])
    for node in wrong:
        if is_valid(node, target[node]):
            return node * vocab_size + int(target[node])
    return wrong[0] * vocab_size + int(target[wrong[0]])
