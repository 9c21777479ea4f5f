"""Type checking with holes, and every node's grammar mask (LANGUAGE.md, "Types").

Types are bit sets so that a `<mask>` node, whose token is unknown, can have several types: the
union of those of the tokens of its arity that could stand there.
`syn[i]` is the set of types the subtree at node `i` can have (one bit for a complete, well-typed
subtree, 0 for an ill-typed one), and `expected[i]` the set of types the rest of the program
accepts at `i`. Both are exact on trees (arc consistency on an acyclic constraint graph), so the
grammar mask of node `i` is every token `t` of the node's arity with
`out(t, children) & expected[i] != 0`, where the children's types are re-derived under the
variables that `t` itself would bind (`lam` binds `a`, `lam2` binds `a` and `b`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .program import Program, shape_of
from .vocab import (
    ARITY,
    GROUP,
    IF,
    INPUT_IDS,
    INPUT_NAMES,
    LAM,
    LAM2,
    MASK,
    PARAM_A,
    PARAM_B,
    TOKEN_ID,
    TOKENS_BY_ARITY,
    VOCAB,
    VOCAB_SIZE,
)

INT, BOOL, LIST, FN1, PRED, FN2 = 1, 2, 4, 8, 16, 32
ANY = INT | BOOL | LIST | FN1 | PRED | FN2
VALUE = INT | BOOL | LIST
"""Types a program's root, an `if` branch and an input may have."""
TYPE_NAMES = {INT: "int", BOOL: "bool", LIST: "list", FN1: "fn1", PRED: "pred", FN2: "fn2"}
TYPE_BITS = {name: bit for bit, name in TYPE_NAMES.items()}
NUM_TYPES = len(TYPE_NAMES)


def _signatures() -> dict[int, tuple[tuple[int, ...], int]]:
    """(parameter types, result type) of every token with a fixed signature."""
    by_group = {
        "const": ((), INT),
        "nil": ((), LIST),
        "arith": ((INT, INT), INT),
        "compare": ((INT, INT), BOOL),
        "list_to_int": ((LIST,), INT),
        "list_to_list": ((LIST,), LIST),
        "list_and_list": ((LIST, LIST), LIST),
        "int_to_list": ((INT,), LIST),
    }
    sigs = {t: by_group[GROUP[t]] for t in range(VOCAB_SIZE) if GROUP[t] in by_group}
    named = {
        "and": ((BOOL, BOOL), BOOL), "or": ((BOOL, BOOL), BOOL), "not": ((BOOL,), BOOL),
        "map": ((FN1, LIST), LIST), "filter": ((PRED, LIST), LIST), "count": ((PRED, LIST), INT),
        "scanl1": ((FN2, LIST), LIST), "fold": ((FN2, INT, LIST), INT),
        "zipwith": ((FN2, LIST, LIST), LIST),
        "take": ((INT, LIST), LIST), "drop": ((INT, LIST), LIST),
        "index": ((INT, LIST), INT), "cons": ((INT, LIST), LIST),
    }  # fmt: skip
    sigs.update({TOKEN_ID[name]: sig for name, sig in named.items()})
    return sigs


SIGNATURES = _signatures()


def input_signature(input_types: Mapping[str, str]) -> tuple[int, int, int]:
    """The type bit of each of `x`, `y`, `z` (0 where the task does not declare it)."""
    bits = []
    for name in input_types:
        if name not in INPUT_NAMES:
            raise ValueError(f"unknown input {name!r}: inputs are named {', '.join(INPUT_NAMES)}")
    for name in INPUT_NAMES:
        kind = input_types.get(name)
        if kind is not None and kind not in ("int", "list"):
            raise ValueError(f"input {name!r} has type {kind!r}: inputs are 'int' or 'list'")
        bits.append(TYPE_BITS[kind] if kind else 0)
    return tuple(bits)  # type: ignore[return-value]


def out_type(tok: int, children: tuple[int, ...], sig: tuple[int, int, int]) -> int:
    """Type set of token `tok` applied to children of the given type sets (variables count as bound)."""
    if any(c == 0 for c in children):
        return 0
    fixed = SIGNATURES.get(tok)
    if fixed is not None:
        params, result = fixed
        return result if all(c & p for c, p in zip(children, params)) else 0
    if tok == IF:
        return VALUE & children[1] & children[2] if children[0] & BOOL else 0
    if tok == LAM:
        return (FN1 if children[0] & INT else 0) | (PRED if children[0] & BOOL else 0)
    if tok == LAM2:
        return FN2 if children[0] & INT else 0
    if tok == MASK:
        return _hole_type(children, sig)
    if tok in (PARAM_A, PARAM_B):
        return INT
    return sig[INPUT_IDS.index(tok)]


def accepted_child(tok: int, slot: int, children: tuple[int, ...], expected: int) -> int:
    """Types that child `slot` of `tok` may have so that `tok`'s type meets `expected`,
    the other children keeping their type sets."""
    others_ok = all(c for k, c in enumerate(children) if k != slot)
    if not others_ok or not expected:
        return 0
    fixed = SIGNATURES.get(tok)
    if fixed is not None:
        params, result = fixed
        if not result & expected:
            return 0
        return params[slot] if all(c & p for k, (c, p) in enumerate(zip(children, params)) if k != slot) else 0
    if tok == IF:
        if slot == 0:
            return BOOL if VALUE & children[1] & children[2] & expected else 0
        other = children[3 - slot]
        return VALUE & other & expected if children[0] & BOOL else 0
    if tok == LAM:
        return (INT if expected & FN1 else 0) | (BOOL if expected & PRED else 0)
    if tok == LAM2:
        return INT if expected & FN2 else 0
    return _hole_accepts(slot, children, expected)


# A hole stands for an unknown token *of its arity*: its type is the union over those tokens, so
# a hole under a masked 3-ary node is never offered `len` (no 3-ary token takes an int first).
# Without this, a hole that no token can fill was reachable by masked edits (issue 3's review).
@lru_cache(maxsize=65536)
def _hole_type(children: tuple[int, ...], sig: tuple[int, int, int]) -> int:
    union = 0
    for tok in TOKENS_BY_ARITY.get(len(children), ()):
        union |= out_type(tok, children, sig)
    return union


@lru_cache(maxsize=65536)
def _hole_accepts(slot: int, children: tuple[int, ...], expected: int) -> int:
    union = 0
    for tok in TOKENS_BY_ARITY.get(len(children), ()):
        union |= accepted_child(tok, slot, children, expected)
    return union


@dataclass(frozen=True)
class TypeInfo:
    """Per-node results of type checking a (possibly incomplete) program.

    Attributes:
        syn: type set of each node's subtree in its context (0: ill-typed).
        expected: type set the rest of the program accepts at each node.
        masks: grammar mask of each node as a bit set over token ids.
    """

    syn: tuple[int, ...]
    expected: tuple[int, ...]
    masks: tuple[int, ...]

    @property
    def well_typed(self) -> bool:
        """The whole program type-checks (for an incomplete program: some filling of its holes could)."""
        return bool(self.syn[0] & self.expected[0])

    def conflicts(self, tokens: tuple[int, ...]) -> list[int]:
        """Nodes whose current token lies outside their grammar mask (masked nodes never do)."""
        return [i for i, t in enumerate(tokens) if t != MASK and not (self.masks[i] >> t) & 1]


_BINDS = {LAM: (True, False), LAM2: (True, True)}
_MASK_CACHE: dict[tuple, int] = {}


def check(program: Program, input_types: Mapping[str, str] | tuple[int, int, int]) -> TypeInfo:
    """Type-check `program` against the declared `input_types` ({"x": "list", ...})."""
    sig = input_types if isinstance(input_types, tuple) else input_signature(input_types)
    tokens, shape = program.tokens, shape_of(program.arities)
    n, children, parent = len(tokens), shape.children, shape.parent
    # Which parameters an enclosing lambda binds (a masked arity-1 node might be a lambda).
    bound_a, bound_b = [False] * n, [False] * n
    for i in range(1, n):
        p, tp = parent[i], tokens[parent[i]]
        maybe_lam = tp == MASK and shape.arities[p] == 1
        bound_a[i] = bound_a[p] or tp in _BINDS or maybe_lam
        bound_b[i] = bound_b[p] or tp == LAM2 or maybe_lam
    # Bottom-up: type sets assuming bound parameters (syn0), and which parameters occur free.
    syn0, free_a, free_b = [0] * n, [False] * n, [False] * n
    for i in range(n - 1, -1, -1):
        tok, kids = tokens[i], children[i]
        syn0[i] = out_type(tok, tuple(syn0[c] for c in kids), sig)
        binds_a, binds_b = _binds(tok, len(kids))
        free_a[i] = tok == PARAM_A or (not binds_a and any(free_a[c] for c in kids))
        free_b[i] = tok == PARAM_B or (not binds_b and any(free_b[c] for c in kids))

    def in_context(node: int, a: bool, b: bool) -> int:
        return syn0[node] if (a or not free_a[node]) and (b or not free_b[node]) else 0

    syn = tuple(in_context(i, bound_a[i], bound_b[i]) for i in range(n))
    expected = [0] * n
    expected[0] = VALUE
    for i in range(n):
        kids = children[i]
        kid_types = tuple(syn[c] for c in kids)
        for slot, c in enumerate(kids):
            expected[c] = accepted_child(tokens[i], slot, kid_types, expected[i])
    masks = []
    for i in range(n):
        kids = children[i]
        a, b = bound_a[i], bound_b[i]
        key = (
            len(kids),
            expected[i],
            tuple(in_context(c, a, b) for c in kids),
            tuple(in_context(c, True, b) for c in kids),
            tuple(in_context(c, True, True) for c in kids),
            a, b, sig,
        )  # fmt: skip
        mask = _MASK_CACHE.get(key)
        if mask is None:
            mask = _MASK_CACHE[key] = _allowed(*key)
        masks.append(mask)
    if not all(masks):
        _relax(masks, tokens, shape, syn0, bound_a, bound_b, sig)
    return TypeInfo(syn, tuple(expected), tuple(masks))


def _relax(masks, tokens, shape, syn0, bound_a, bound_b, sig) -> None:
    """Give every node with an empty exact mask a local one, in place.

    In an ill-typed program no single edit may repair it, so exact masks can be empty; a policy
    still needs somewhere to go. The local mask keeps only the constraints of the node's parent
    token (whatever its siblings are) and of its children's own types (an ill-typed child counts
    as any type), so it points at tokens that fit their neighbourhood.
    """
    children, parent = shape.children, shape.parent
    for i, mask in enumerate(masks):
        if mask:
            continue
        if i == 0:
            expected = VALUE
        else:
            p = parent[i]
            slot = children[p].index(i)
            expected = accepted_child(tokens[p], slot, (ANY,) * len(children[p]), ANY) or ANY
        # Children's types first; if no token fits them either, the parent's constraint alone,
        # and last any token of the node's arity, so that no node is ever left without a choice.
        anything = (ANY,) * len(children[i])
        local = tuple(syn0[c] or ANY for c in children[i])
        for accepted, kids in ((expected, local), (expected, anything), (ANY, anything)):
            key = (len(kids), accepted, kids, kids, kids, bound_a[i], bound_b[i], sig)
            masks[i] = _MASK_CACHE.get(key) or _MASK_CACHE.setdefault(key, _allowed(*key))
            if masks[i]:
                break


def _binds(tok: int, arity: int) -> tuple[bool, bool]:
    if tok == MASK and arity == 1:
        return True, True
    return _BINDS.get(tok, (False, False))


def _allowed(arity, expected, plain, with_a, with_ab, a, b, sig) -> int:
    """Grammar mask (bit set) of a node, from its expected type and its children's type sets."""
    mask = 0
    for tok in TOKENS_BY_ARITY.get(arity, ()):
        if tok == PARAM_A and not a or tok == PARAM_B and not b:
            continue
        kids = with_a if tok == LAM else with_ab if tok == LAM2 else plain
        if out_type(tok, kids, sig) & expected:
            mask |= 1 << tok
    return mask


def type_of(program: Program, input_types: Mapping[str, str]) -> str | None:
    """The output type name of a complete, well-typed program, else None."""
    info = check(program, input_types)
    if not program.complete or not info.well_typed:
        return None
    return TYPE_NAMES.get(info.syn[0] & VALUE)


_BIT_INDEX = np.arange(VOCAB_SIZE, dtype=np.uint64)


def masks_to_array(masks: tuple[int, ...] | list[int]) -> np.ndarray:
    """Bit-set masks as a boolean array of shape [len(masks), VOCAB_SIZE]."""
    bits = np.asarray(masks, dtype=np.uint64)
    return ((bits[:, None] >> _BIT_INDEX) & np.uint64(1)).astype(bool)


def grammar_masks(program: Program, input_types: Mapping[str, str]) -> np.ndarray:
    """Every node's grammar mask: `[n_nodes, VOCAB_SIZE]` booleans, True where the token of the
    node's arity could stand there and keep the program well-typed (LANGUAGE.md)."""
    return masks_to_array(check(program, input_types).masks)


assert VOCAB_SIZE <= 64, "masks are packed into uint64"
assert all(ARITY[t] == 0 for t in (PARAM_A, PARAM_B, *INPUT_IDS)) and VOCAB[MASK] == "<mask>"
