"""Re-typing an edited program from the type information of the program before the edit.

`check` runs three passes over every node. An edit of a few tokens changes little of them: the
subtree types (`up`) of the edited nodes and of their ancestors only; the accepted sets (`down`)
only below a node whose token or whose children's types changed, and only as far as they keep
changing; a grammar mask only where its node's accepted set or its children's types changed. So
`recheck` recomputes exactly those nodes, in the same order and through the same cached steps as
`check`, and its result is equal to `check(program, ...)` (the test suite compares them).
"""

from __future__ import annotations

from heapq import heappop, heappush

from . import types as _types
from .passes import _WIDTH, _allowed, _at, _deepest, _down, _up
from .program import Program, shape_of
from .signatures import ANY
from .types import Passes, TypeInfo, _relax, _remember, check

FULL_SHARE = 0.25
"""Past this share of edited nodes, checking the program again is as quick: `recheck` does so."""


def recheck(info: TypeInfo, program: Program) -> TypeInfo:
    """`check(program, ...)` given `info`, the result of `check` on a program with the same tree
    shape (arities) and the same input types that differs from `program` in a few tokens."""
    passes = info.passes
    if passes is None or passes.arities != program.arities:
        raise ValueError("recheck needs the type information of a program of the same shape")
    before, tokens = passes.tokens, program.tokens
    if before == tokens:
        return info
    edited = [i for i, (a, b) in enumerate(zip(before, tokens)) if a != b]
    if len(edited) > FULL_SHARE * len(tokens):
        return check(program, passes.sig)
    shape = shape_of(program.arities)
    up, typed, grown = _up_pass(passes, tokens, shape, edited)
    down, deepest, moved = _down_pass(passes, tokens, shape, up, edited, grown)
    return _assemble(info, passes, program, shape, (up, down, deepest), typed, grown, moved)


def _up_pass(passes: Passes, tokens, shape, edited: list[int]) -> tuple[list[int], set[int], set[int]]:
    """The new `up` sets, the nodes whose set changed, and the nodes whose children's sets changed."""
    up, sig, parent, children = list(passes.up), passes.sig, shape.parent, shape.children
    todo: set[int] = set()
    for i in edited:  # the edited nodes and their ancestors, the only `up` sets that can change
        while i >= 0 and i not in todo:
            todo.add(i)
            i = parent[i]
    dirty, typed, grown = set(edited), set(), set()
    for i in sorted(todo, reverse=True):  # children before parents
        if i not in dirty and i not in grown:
            continue
        key = (tokens[i], tuple([up[c] for c in children[i]]), sig)
        packed = _types._UP.get(key)
        if packed is None:
            packed = _remember(_types._UP, key, _up(*key))
        if packed != up[i]:
            up[i] = packed
            typed.add(i)
            if i:
                grown.add(parent[i])
    return up, typed, grown


def _down_pass(passes: Passes, tokens, shape, up, edited, grown) -> tuple[list[int], list[int], set[int]]:
    """The new `down` and `deepest` values, top-down from every node whose token or children's
    sets changed, as far as they keep changing; and the nodes whose `down` or `deepest` moved."""
    down, deepest, children = list(passes.down), list(passes.deepest), shape.children
    heap = [i for i in {*edited, *grown} if children[i]]
    heap.sort()
    moved: set[int] = set()
    done = -1
    while heap:
        p = heappop(heap)
        if p == done:
            continue
        done = p
        kids, tok = children[p], tokens[p]
        key = (tok, tuple([up[c] for c in kids]), down[p])
        accepted = _types._DOWN.get(key)
        if accepted is None:
            accepted = _remember(_types._DOWN, key, _down(*key))
        inner = _deepest(tok, len(kids), deepest[p])
        for c, acc in zip(kids, accepted):
            if acc != down[c] or inner != deepest[c]:
                down[c], deepest[c] = acc, inner
                moved.add(c)
                if children[c]:
                    heappush(heap, c)
    return down, deepest, moved


def _assemble(info, passes, program, shape, sets, typed, grown, moved) -> TypeInfo:
    """The new `TypeInfo`: masks where a node's accepted set or its children's sets changed,
    `syn` and `expected` where their inputs changed, `_relax` where an exact mask is empty."""
    (up, down, deepest), tokens, sig = sets, program.tokens, passes.sig
    children, arities = shape.children, program.arities
    exact, syn, expected = list(passes.exact), list(info.syn), list(info.expected)
    for i in grown | moved:
        key = (arities[i], down[i], tuple([up[c] for c in children[i]]), sig)
        mask = _types._MASKS.get(key)
        exact[i] = _remember(_types._MASKS, key, _allowed(*key)) if mask is None else mask
    for i in moved:
        d = down[i]
        expected[i] = (d | d >> _WIDTH | d >> 2 * _WIDTH) & ANY
    for i in typed | moved:
        syn[i] = _at(up[i], deepest[i])
    masks = exact
    if not all(exact):
        masks = exact.copy()
        _relax(masks, tokens, shape, up, deepest, sig)
    new = Passes(tokens, program.arities, sig, tuple(up), tuple(down), tuple(deepest), tuple(exact))
    return TypeInfo(tuple(syn), tuple(expected), tuple(masks), new)
