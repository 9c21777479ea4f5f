"""Corrupting a target program at the start of an episode.

`mask` mode (default) replaces a fraction of the nodes with `<mask>`: the agent fills holes, and at
1.0 it synthesises the program from its tests and tree shape alone. `noise` mode replaces them with
random tokens that keep the program well-typed, one node after another (each drawn from the node's
grammar mask at that moment), which is harder and closer to an agent's own mistakes.
"""

from __future__ import annotations

import numpy as np

from .lang import MASK, Program, check
from .lang.brief import brief
from .lang.incremental import recheck

CORRUPTION_MODES = ("mask", "noise")


def corruption_level(spec: float | tuple[float, float], rng: np.random.Generator) -> float:
    """A fraction in [0, 1]: `spec` itself, or drawn uniformly from the range `(low, high)`."""
    if isinstance(spec, (tuple, list)):
        low, high = spec
        return float(rng.uniform(low, high))
    return float(spec)


def validate_corruption(spec) -> float | tuple[float, float]:
    """Check a `corruption` option: a number or a (low, high) pair in [0, 1]; returns it normalised."""
    number = (int, float, np.number)
    values = spec if isinstance(spec, (tuple, list)) else (spec,)
    if not isinstance(spec, (tuple, list, *number)) or not all(
        isinstance(v, number) and not isinstance(v, (bool, np.bool_)) for v in values
    ):
        raise ValueError(f"corruption must be a number in [0, 1] or a (low, high) pair of them, got {brief(spec)}")
    if isinstance(spec, (tuple, list)):
        if len(spec) != 2:
            raise ValueError(f"corruption range must be (low, high), got {brief(spec)}")
        low, high = (float(v) for v in spec)
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(f"corruption range must satisfy 0 <= low <= high <= 1, got {brief(spec)}")
        return (low, high)
    value = float(spec)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"corruption must lie in [0, 1], got {brief(spec)}")
    return value


def corrupt(
    program: Program,
    level: float,
    rng: np.random.Generator,
    input_types: dict[str, str],
    mode: str = "mask",
) -> tuple[Program, np.ndarray]:
    """Corrupt `round(level * n)` nodes (at least one) of `program`.

    Returns the corrupted program and the indices of the corrupted nodes (sorted). In `noise` mode
    a node whose grammar mask offers no other token keeps its token (it is still counted).
    """
    n = len(program)
    count = min(n, max(1, int(round(level * n))))
    nodes = np.sort(rng.choice(n, size=count, replace=False))
    if mode == "mask":
        return program.replace({int(i): MASK for i in nodes}), nodes
    if mode != "noise":
        raise ValueError(f"unknown corruption mode {mode!r}; choose from {CORRUPTION_MODES}")
    info = check(program, input_types)
    for node in rng.permutation(nodes):
        node = int(node)
        info = recheck(info, program)  # only the last edit to re-type
        mask = info.masks[node]
        choices = [t for t in range(mask.bit_length()) if (mask >> t) & 1 and t != program.tokens[node]]
        if choices:
            program = program.replace({node: int(rng.choice(choices))})
    return program, nodes
