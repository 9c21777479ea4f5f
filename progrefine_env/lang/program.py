"""Programs as pre-order token sequences with an explicit tree shape.

A complete program's shape follows from its tokens (every token has a fixed arity). A node whose
token is `<mask>` keeps the arity of the token it hides, so an incomplete program carries its shape
explicitly: `arities[i]` is the number of children of node `i`. Edits replace tokens and never
change the shape, which is what lets the environment keep one graph per episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .tree_text import tree_text
from .vocab import ARITY, MASK, MAX_ARITY, PAD, VOCAB, VOCAB_SIZE

MAX_NODES = 10_000
"""Most nodes a program may have: an implementation limit that bounds the work of checking and
compiling a program before fuel applies (generated and environment programs have at most 64)."""
MAX_DEPTH = 256
"""Deepest node a program may have (the root has depth 0): an implementation limit that keeps
evaluation within a bounded number of Python frames; `parse` nests no deeper."""


@dataclass(frozen=True)
class Shape:
    """The tree structure shared by every program with the same pre-order arities.

    Attributes:
        arities: number of children of each node, in pre-order.
        parent: parent index of each node (-1 for the root).
        children: child indices of each node, in order.
        depth: distance from the root (root 0).
        position: index among its siblings (root 0).
        end: one past the last pre-order index of the node's subtree.
    """

    arities: tuple[int, ...]
    parent: tuple[int, ...]
    children: tuple[tuple[int, ...], ...]
    depth: tuple[int, ...]
    position: tuple[int, ...]
    end: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.arities)


class ShapeError(ValueError):
    """Arities that do not describe exactly one tree."""


@lru_cache(maxsize=2048)
def shape_of(arities: tuple[int, ...]) -> Shape:
    """The tree structure of a pre-order arity sequence (cached: an episode keeps one shape).

    Raises `ShapeError` for arities that are not one tree, or one larger than `MAX_NODES` nodes
    or deeper than `MAX_DEPTH`."""
    n = len(arities)
    if n == 0:
        raise ShapeError("a program has at least one node")
    if n > MAX_NODES:
        raise ShapeError(f"a program has at most {MAX_NODES:,} nodes, this one has {n:,}")
    parent = [-1] * n
    depth = [0] * n
    position = [0] * n
    children: list[list[int]] = [[] for _ in range(n)]
    stack: list[int] = []  # nodes still waiting for children
    for i, arity in enumerate(arities):
        if arity < 0:
            raise ShapeError(f"node {i} has negative arity {arity}")
        if i > 0:
            if not stack:
                raise ShapeError(f"node {i} lies outside the tree: the root's subtree ends before it")
            p = stack[-1]
            parent[i], depth[i], position[i] = p, depth[p] + 1, len(children[p])
            if depth[i] > MAX_DEPTH:
                raise ShapeError(f"node {i} lies deeper than {MAX_DEPTH} levels, the most a program may nest")
            children[p].append(i)
            if len(children[p]) == arities[p]:
                stack.pop()
        if arity > 0:
            stack.append(i)
    if stack:
        raise ShapeError(f"node {stack[-1]} expects {arities[stack[-1]]} children but the program ends")
    end = list(range(1, n + 1))
    for i in range(n - 1, 0, -1):
        end[parent[i]] = max(end[parent[i]], end[i])
    return Shape(arities, tuple(parent), tuple(map(tuple, children)), tuple(depth), tuple(position), tuple(end))


@dataclass(frozen=True)
class Program:
    """A program (complete or with `<mask>` holes) as pre-order token ids and arities.

    Build one with `parse(text)`, `Program.from_tokens(ids)` for a complete program, or
    `program.replace({node: token})` for an edit. Instances are immutable and hashable.
    """

    tokens: tuple[int, ...]
    arities: tuple[int, ...]

    def __post_init__(self) -> None:
        if not (type(self.tokens) is tuple and type(self.arities) is tuple):
            raise TypeError("Program(tokens, arities) takes two tuples of ints; Program.from_tokens takes a list")
        if len(self.tokens) != len(self.arities):
            raise ShapeError(f"{len(self.tokens)} tokens but {len(self.arities)} arities")
        if len(self.tokens) > MAX_NODES:  # before the loop below, which costs a little per node
            raise ShapeError(f"a program has at most {MAX_NODES:,} nodes, this one has {len(self.tokens):,}")
        for i, (tok, arity) in enumerate(zip(self.tokens, self.arities)):
            _check_node(i, tok, arity)
        shape_of(self.arities)  # validates the tree

    @classmethod
    def from_tokens(cls, tokens: tuple[int, ...] | list[int]) -> Program:
        """A complete program from its pre-order token ids (arities follow from the tokens)."""
        if len(tokens) > MAX_NODES:
            raise ShapeError(f"a program has at most {MAX_NODES:,} nodes, this one has {len(tokens):,}")
        tokens = tuple(_token_id(i, t) for i, t in enumerate(tokens))
        if MASK in tokens:
            raise ShapeError("a `<mask>` node has no implied arity: pass arities explicitly")
        return cls(tokens, tuple(ARITY[t] for t in tokens))

    @property
    def shape(self) -> Shape:
        return shape_of(self.arities)

    @property
    def complete(self) -> bool:
        """True when no node is `<mask>`."""
        return MASK not in self.tokens

    def __len__(self) -> int:
        return len(self.tokens)

    def replace(self, edits: dict[int, int]) -> Program:
        """A copy with `edits[node] = token` applied; the shape is kept, so arities must match."""
        tokens, n, edited = list(self.tokens), len(self.tokens), []
        for node, tok in edits.items():
            if type(node) is not int:
                node = _node_index(node, n)
            if not 0 <= node < n:
                raise IndexError(f"node {node!r} is not a node of this {n}-node program")
            tokens[node] = tok if type(tok) is int else _token_id(node, tok)
            edited.append(node)
        # The shape is kept and the other nodes were valid: checking the edited nodes is enough.
        program = object.__new__(Program)
        object.__setattr__(program, "tokens", tuple(tokens))
        object.__setattr__(program, "arities", self.arities)
        for node in edited:
            _check_node(node, tokens[node], self.arities[node])
        return program

    def subtree(self, node: int) -> Program:
        """The subtree rooted at `node` as a program of its own."""
        end = self.shape.end[node]
        return Program(self.tokens[node:end], self.arities[node:end])

    def __str__(self) -> str:
        """The canonical text, as `unparse(program)` writes it."""
        return tree_text(self.arities, [VOCAB[t] for t in self.tokens])


def _check_node(i: int, tok, arity) -> None:
    """Refuse node `i` of a program unless `tok` is a token id that can stand at arity `arity`."""
    if type(tok) is not int or type(arity) is not int:  # no bool (True is <mask>'s id), no float
        raise ShapeError(f"node {i}: token {tok!r} and arity {arity!r} must be ints")
    if not 0 <= tok < VOCAB_SIZE or tok == PAD:
        raise ShapeError(f"node {i}: {tok!r} is not a program token id")
    if tok != MASK and ARITY[tok] != arity:
        raise ShapeError(f"node {i}: {VOCAB[tok]!r} has arity {ARITY[tok]}, not {arity}")
    if tok == MASK and arity > MAX_ARITY:
        raise ShapeError(f"node {i}: no token has arity {arity} for `<mask>` to stand for")


def _token_id(node: int, tok) -> int:
    """`tok` as a token id (numpy integers too), refusing bools, floats and ids out of range."""
    if isinstance(tok, bool) or not hasattr(tok, "__index__"):
        raise ShapeError(f"node {node}: {tok!r} is not a token id (an int)")
    tok = int(tok)
    if not 0 <= tok < VOCAB_SIZE or tok == PAD:
        raise ShapeError(f"node {node}: {tok!r} is not a program token id")
    return tok


def _node_index(node, n: int) -> int:
    if isinstance(node, bool) or not hasattr(node, "__index__"):
        raise IndexError(f"node {node!r} is not a node of this {n}-node program")
    return int(node)
