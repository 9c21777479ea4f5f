"""The steps of the checker's passes, one node at a time, on packed type sets.

`lang.types` explains the passes: a node's type set (`up`), the set the rest of the program
accepts at it (`down`) and its grammar mask, each kept per *binding context* and packed six type
bits a context into one int. This module owns the contexts and the packing, the classes of
tokens that type alike (a hole tries one token of each), and one node's step of each pass (`_up`,
`_down`, `_allowed`); the checker runs them over a program and caches them.
"""

from __future__ import annotations

from .signatures import ANY, INT, NUM_TYPES, SIGNATURES, accepted_child, out_type
from .vocab import LAM, LAM2, MASK, PARAM_A, PARAM_B, TOKENS_BY_ARITY

# --- binding contexts ------------------------------------------------------------------------------

CONTEXTS = 3
"""Binding contexts: 0 nothing bound, 1 `a` bound, 2 `a` and `b` bound."""
_WIDTH = NUM_TYPES  # bits per context in a packed set


def _at(packed: int, context: int) -> int:
    """The type set a packed set holds for one context."""
    return (packed >> (_WIDTH * context)) & ANY


def _inner(tok: int, context: int) -> int:
    """The context a real token gives its children."""
    if tok == LAM:
        return max(context, 1)
    return 2 if tok == LAM2 else context


def _candidates(tok: int, arity: int) -> tuple[int, ...]:
    """The real tokens a node may hold, one per class of tokens that type alike: its own, or for
    a hole one representative of each class of its arity (see `_CLASSES`)."""
    return _REPRESENTATIVES.get(arity, ()) if tok == MASK else (tok,)


def _type_classes() -> dict[int, tuple[tuple[int, int], ...]]:
    """Per arity, the tokens grouped by how they type: (representative, bit set of the class).

    Every pass asks of a token only its signature (`SIGNATURES`), or, for the tokens without
    one (`if`, `lam`, `lam2`, `a`, `b`, the inputs), the token itself. Tokens that share a
    signature (the 13 constants, `+ - * / %`, ...) give equal answers, so looping over one of
    each class gives the same sets as looping over every token, in about half the steps
    (issue 12: a cache miss of these passes was a tenth of an edit-mode step)."""
    classes: dict[int, dict[object, list[int]]] = {}
    for arity, tokens in TOKENS_BY_ARITY.items():
        by_kind = classes.setdefault(arity, {})
        for tok in tokens:
            kind = SIGNATURES.get(tok, ("token", tok))
            by_kind.setdefault(kind, []).append(tok)
    return {
        arity: tuple((members[0], sum(1 << t for t in members)) for members in by_kind.values())
        for arity, by_kind in classes.items()
    }


_CLASSES = _type_classes()
_REPRESENTATIVES = {arity: tuple(rep for rep, _ in classes) for arity, classes in _CLASSES.items()}


# --- one node's step of each pass -----------------------------------------------------------------


def _type_in(tok: int, kids: tuple[int, ...], context: int, sig: tuple[int, int, int]) -> int:
    """Type set of the real token `tok` in `context` over its children's packed sets."""
    if tok == PARAM_A:
        return INT if context >= 1 else 0
    if tok == PARAM_B:
        return INT if context == 2 else 0
    inner = _inner(tok, context)
    return out_type(tok, tuple(_at(c, inner) for c in kids), sig)


def _up(tok: int, kids: tuple[int, ...], sig: tuple[int, int, int]) -> int:
    """Packed type set of a node from its token (or hole) and its children's packed sets."""
    packed = 0
    for context in range(CONTEXTS):
        types = 0
        for t in _candidates(tok, len(kids)):
            types |= _type_in(t, kids, context, sig)
        packed |= types << (_WIDTH * context)
    return packed


def _down(tok: int, kids: tuple[int, ...], expected: int) -> tuple[int, ...]:
    """Packed accepted sets of a node's children from the node's token (or hole), the children's
    packed type sets and the node's own packed accepted set."""
    accepted = [0] * len(kids)
    for context in range(CONTEXTS):
        wanted = _at(expected, context)
        if not wanted:
            continue
        for t in _candidates(tok, len(kids)):
            inner = _inner(t, context)
            types = tuple(_at(c, inner) for c in kids)
            for slot in range(len(kids)):
                accepted[slot] |= accepted_child(t, slot, types, wanted) << (_WIDTH * inner)
    return tuple(accepted)


def _allowed(arity: int, expected: int, kids: tuple[int, ...], sig: tuple[int, int, int]) -> int:
    """Grammar mask (bit set) of a node from its packed accepted set and its children's packed
    type sets: the tokens of its arity whose type meets what is accepted in some context."""
    mask = 0
    for tok, members in _CLASSES.get(arity, ()):
        for context in range(CONTEXTS):
            wanted = _at(expected, context)
            if wanted and _type_in(tok, kids, context, sig) & wanted:
                mask |= members
                break
    return mask


def _deepest(tok: int, arity: int, context: int) -> int:
    """The most-bound context a node gives its children (a hole of arity 1 may be `lam2`)."""
    return 2 if tok == MASK and arity == 1 else _inner(tok, context)
