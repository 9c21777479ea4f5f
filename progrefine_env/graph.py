"""A program as fixed-size arrays: pre-order nodes padded to `max_nodes`, typed edges padded to
`max_edges` with a mask, as the environment's observation and the agents' batching expect.

Edge types (`EDGE_TYPES`): parent -> child, child -> parent, next sibling, and a use of `a` or `b`
-> the lambda that binds it (the nearest enclosing `lam`/`lam2` for `a`, `lam2` for `b`; a masked
one-child node may be either, so it counts as a binder).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .lang import MASK, Program, Shape, shape_of
from .lang.vocab import LAM, LAM2, PARAM_A, PARAM_B

EDGE_TYPES = ("child", "parent", "sibling", "binder")
CHILD, PARENT, SIBLING, BINDER = range(len(EDGE_TYPES))


def max_edges_for(max_nodes: int) -> int:
    """Enough edge slots for any tree of `max_nodes` nodes: 2(n-1) tree edges, at most n-2 sibling
    edges and at most n-1 variable uses."""
    return 4 * max_nodes


@dataclass(frozen=True)
class StaticGraph:
    """The parts of the encoding that depend only on the tree shape (cached per shape)."""

    arity: np.ndarray  # [n]
    depth: np.ndarray  # [n]
    position: np.ndarray  # [n]
    edges: np.ndarray  # [2, e] source, target of the shape's edges
    edge_types: np.ndarray  # [e]


@lru_cache(maxsize=2048)  # an episode keeps one shape; more would only hold memory
def static_graph(arities: tuple[int, ...]) -> StaticGraph:
    shape: Shape = shape_of(arities)
    src, dst, kinds = [], [], []
    for node in range(1, len(shape)):
        p = shape.parent[node]
        src += [p, node]
        dst += [node, p]
        kinds += [CHILD, PARENT]
    for kids in shape.children:
        for left, right in zip(kids, kids[1:]):
            src.append(left)
            dst.append(right)
            kinds.append(SIBLING)
    return StaticGraph(
        arity=np.asarray(shape.arities, dtype=np.int64),
        depth=np.asarray(shape.depth, dtype=np.int64),
        position=np.asarray(shape.position, dtype=np.int64),
        edges=np.asarray([src, dst], dtype=np.int64).reshape(2, -1),
        edge_types=np.asarray(kinds, dtype=np.int64),
    )


def binder_edges(program: Program) -> list[tuple[int, int]]:
    """(use, binder) pairs: each `a`/`b` node to the lambda that binds it, where there is one."""
    shape, tokens, pairs = program.shape, program.tokens, []
    for node, tok in enumerate(tokens):
        if tok not in (PARAM_A, PARAM_B):
            continue
        p = shape.parent[node]
        while p >= 0:
            t = tokens[p]
            maybe = t == MASK and program.arities[p] == 1
            if t == LAM2 or maybe or (t == LAM and tok == PARAM_A):
                pairs.append((node, p))
                break
            p = shape.parent[p]
    return pairs


def encode_edges(program: Program, max_edges: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded `edge_index` [2, max_edges], `edge_type` [max_edges] and `edge_mask` [max_edges]."""
    binders = tuple(binder_edges(program))
    return tuple(a.copy() for a in _padded_edges(program.arities, binders, max_edges))  # type: ignore[return-value]


@lru_cache(maxsize=1024)  # ~6 KB an entry at the default max_edges: at most ~6 MB
def _padded_edges(
    arities: tuple[int, ...], binders: tuple[tuple[int, int], ...], max_edges: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The padded edges of a shape with these binder edges (read-only; callers copy them).

    Cached: an episode keeps one shape, and its `a`/`b` nodes are bound by few different
    lambdas, so the same few arrays recur step after step (issue 12: building them was about a
    twentieth of an edit-mode step)."""
    static = static_graph(arities)
    e = static.edges.shape[1]
    count = e + len(binders)
    if count > max_edges:
        raise ValueError(f"program has {count} edges, more than max_edges={max_edges}")
    edge_index = np.zeros((2, max_edges), dtype=np.int64)
    edge_type = np.zeros(max_edges, dtype=np.int64)
    edge_mask = np.zeros(max_edges, dtype=np.int8)
    edge_index[:, :e] = static.edges
    edge_type[:e] = static.edge_types
    edge_mask[:count] = 1
    if binders:
        edge_index[:, e:count] = np.asarray(binders, dtype=np.int64).T
        edge_type[e:count] = BINDER
    for array in (edge_index, edge_type, edge_mask):
        array.flags.writeable = False
    return edge_index, edge_type, edge_mask
