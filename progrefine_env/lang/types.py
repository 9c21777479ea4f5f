"""Type checking with holes, and every node's grammar mask (LANGUAGE.md, "Types").

Types are bit sets so that a `<mask>` node, whose token is unknown, can have several types.
Which parameters a subtree may use depends on the lambdas above it, and a masked node of arity 1
above it may be `lam` (binds `a`), `lam2` (binds both) or neither. So every type set is kept per
*binding context*: 0 (nothing bound), 1 (`a` bound), 2 (`a` and `b` bound). There are no others:
only `lam2` binds `b`, and it binds `a` too. A *packed* set holds six type bits per context.

`up[i]` is, per context, the set of types the subtree at node `i` can have for some filling of
its holes; `down[i]`, per context, the set of types the rest of the program accepts at `i` (with
`i` in that context) for some filling of the holes outside the subtree. Once the context is fixed,
the holes of disjoint subtrees are filled independently, so both are exact, and token `t` is in
node `i`'s grammar mask exactly when, in some context, `t`'s type over its children (in the
context `t` gives them) meets `down[i]`: some filling of the other holes then makes the program
well-typed. Each step of the three passes is looked up in a bounded cache (the same few
combinations recur across programs), so checking costs a few dict lookups per node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .brief import brief
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

CONTEXTS = 3
"""Binding contexts: 0 nothing bound, 1 `a` bound, 2 `a` and `b` bound."""
_WIDTH = NUM_TYPES  # bits per context in a packed set


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
            raise ValueError(f"unknown input {brief(name)}: inputs are named {', '.join(INPUT_NAMES)}")
    for name in INPUT_NAMES:
        kind = input_types.get(name)
        if kind is not None and kind not in ("int", "list"):
            raise ValueError(f"input {name!r} has type {brief(kind)}: inputs are 'int' or 'list'")
        bits.append(TYPE_BITS[kind] if kind else 0)
    return tuple(bits)  # type: ignore[return-value]


def out_type(tok: int, children: tuple[int, ...], sig: tuple[int, int, int]) -> int:
    """Type set of the real token `tok` over children of the given type sets (parameters count
    as bound)."""
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
    if tok in (PARAM_A, PARAM_B):
        return INT
    return sig[INPUT_IDS.index(tok)]


def accepted_child(tok: int, slot: int, children: tuple[int, ...], expected: int) -> int:
    """Types that child `slot` of the real token `tok` may have so that `tok`'s type meets
    `expected`, the other children keeping their type sets."""
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
    return INT if tok == LAM2 and expected & FN2 else 0


# --- binding contexts ------------------------------------------------------------------------------


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


# --- bounded caches --------------------------------------------------------------------------------

CACHE_LIMIT = 1 << 14
"""Entries each cache of this module holds at most; a full cache is emptied and refills."""
_UP: dict[tuple, int] = {}
_DOWN: dict[tuple, tuple[int, ...]] = {}
_MASKS: dict[tuple, int] = {}
_RELAXED: dict[tuple, int] = {}


def _remember(cache: dict, key: tuple, value):
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def cache_sizes() -> dict[str, int]:
    """Entries in each of this module's caches (for memory checks)."""
    return {"up": len(_UP), "down": len(_DOWN), "masks": len(_MASKS), "relaxed": len(_RELAXED)}


# --- checking --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Passes:
    """What `check` computed on the way, per node (packed sets, see the module docstring).

    Attributes:
        tokens, arities: the program checked.
        sig: the input signature it was checked against.
        up: packed type set of each node's subtree.
        down: packed set the rest of the program accepts at each node.
        deepest: the most-bound context the nodes above each node allow.
        exact: each node's exact grammar mask (before `_relax` fills the empty ones).
    """

    tokens: tuple[int, ...]
    arities: tuple[int, ...]
    sig: tuple[int, int, int]
    up: tuple[int, ...]
    down: tuple[int, ...]
    deepest: tuple[int, ...]
    exact: tuple[int, ...]


@dataclass(frozen=True)
class TypeInfo:
    """Per-node results of type checking a (possibly incomplete) program.

    Attributes:
        syn: type set of each node's subtree (0: ill-typed) in the most-bound context the nodes
            above it allow (for a complete program: its one context).
        expected: type set the rest of the program accepts at each node (in any context).
        masks: grammar mask of each node as a bit set over token ids.
        passes: the checker's own per-node results (`Passes`), from which `lang.incremental.recheck`
            re-types an edited program touching only what the edit can change; not compared.
    """

    syn: tuple[int, ...]
    expected: tuple[int, ...]
    masks: tuple[int, ...]
    passes: Passes | None = field(default=None, repr=False, compare=False)

    @property
    def well_typed(self) -> bool:
        """The whole program type-checks (for an incomplete program: some filling of its holes could)."""
        return bool(self.syn[0] & self.expected[0])

    def conflicts(self, tokens: tuple[int, ...]) -> list[int]:
        """Nodes whose current token lies outside their grammar mask (masked nodes never do)."""
        return [i for i, t in enumerate(tokens) if t != MASK and not (self.masks[i] >> t) & 1]


def check(program: Program, input_types: Mapping[str, str] | tuple[int, int, int]) -> TypeInfo:
    """Type-check `program` against the declared `input_types` ({"x": "list", ...})."""
    sig = input_types if isinstance(input_types, tuple) else input_signature(input_types)
    tokens, shape = program.tokens, shape_of(program.arities)
    n, children, arities = len(tokens), shape.children, shape.arities
    up, kid_sets = [0] * n, [()] * n
    for i in range(n - 1, -1, -1):
        kids = kid_sets[i] = tuple([up[c] for c in children[i]])
        key = (tokens[i], kids, sig)
        packed = _UP.get(key)
        up[i] = _remember(_UP, key, _up(*key)) if packed is None else packed
    down, deepest, masks = [0] * n, [0] * n, [0] * n
    down[0] = VALUE  # the root is in context 0 and holds a value
    for i in range(n):
        kids, tok, wanted = kid_sets[i], tokens[i], down[i]
        key = (arities[i], wanted, kids, sig)
        mask = _MASKS.get(key)
        masks[i] = _remember(_MASKS, key, _allowed(*key)) if mask is None else mask
        if kids:
            key = (tok, kids, wanted)
            accepted = _DOWN.get(key)
            if accepted is None:
                accepted = _remember(_DOWN, key, _down(*key))
            inner = _deepest(tok, len(kids), deepest[i])
            for c, acc in zip(children[i], accepted):
                down[c], deepest[c] = acc, inner
    syn = tuple([_at(up[i], deepest[i]) for i in range(n)])
    expected = tuple([(d | d >> _WIDTH | d >> 2 * _WIDTH) & ANY for d in down])
    exact = tuple(masks)
    if not all(masks):
        _relax(masks, tokens, shape, up, deepest, sig)
    passes = Passes(tokens, program.arities, sig, tuple(up), tuple(down), tuple(deepest), exact)
    return TypeInfo(syn, expected, tuple(masks), passes)


def _relax(masks, tokens, shape, up, deepest, sig) -> None:
    """Give every node with an empty exact mask a local one, in place.

    In an ill-typed program no single edit may repair it, so exact masks can be empty; a policy
    still needs somewhere to go. The local mask keeps only the constraints of the node's parent
    token (whatever its siblings are) and of its children's own types with parameters bound (an
    ill-typed child counts as any type), so it points at tokens that fit their neighbourhood.
    """
    children, parent, position = shape.children, shape.parent, shape.position
    for i, mask in enumerate(masks):
        if mask:
            continue
        p = parent[i]
        # The parent's constraint: what its token (or hole) accepts in this slot, whatever the siblings.
        key = (tokens[p], len(children[p]), position[i]) if i else None
        local = tuple([_at(up[c], 2) or ANY for c in children[i]])
        key = (key, local, deepest[i], sig)
        found = _RELAXED.get(key)
        masks[i] = _remember(_RELAXED, key, _relaxed(*key)) if found is None else found


def _relaxed(slot: tuple[int, int, int] | None, local: tuple[int, ...], context: int, sig) -> int:
    """The local mask of `_relax` for a node in `slot` (parent token, its arity, the node's
    position; None for the root) whose children have the `local` types, in `context`."""
    expected = VALUE
    if slot is not None:
        parent_tok, arity, position = slot
        siblings, expected = (ANY,) * arity, 0
        for t in _candidates(parent_tok, arity):
            expected |= accepted_child(t, position, siblings, ANY)
        expected = expected or ANY
    # Children's types first; if no token fits them either, the parent's constraint alone,
    # and last any token of the node's arity, so that no node is ever left without a choice.
    anything = (ANY,) * len(local)
    mask = 0
    for accepted, kids in ((expected, local), (expected, anything), (ANY, anything)):
        everywhere = tuple(k | k << _WIDTH | k << 2 * _WIDTH for k in kids)
        key = (len(kids), accepted << (_WIDTH * context), everywhere, sig)
        found = _MASKS.get(key)
        mask = _remember(_MASKS, key, _allowed(*key)) if found is None else found
        if mask:
            break
    return mask


def type_of(program: Program, input_types: Mapping[str, str]) -> str | None:
    """The output type name of a complete, well-typed program, else None."""
    info = check(program, input_types)
    if not program.complete or not info.well_typed:
        return None
    return TYPE_NAMES.get(info.syn[0] & VALUE)


def masks_to_array(masks: tuple[int, ...] | list[int]) -> np.ndarray:
    """Bit-set masks as a boolean array of shape [len(masks), VOCAB_SIZE]."""
    # Each mask as its 8 little-endian bytes, unpacked lowest bit first: bit t is column t.
    data = np.asarray(masks, dtype="<u8").reshape(-1, 1).view(np.uint8)
    return np.unpackbits(data, axis=1, count=VOCAB_SIZE, bitorder="little").view(bool)


def grammar_masks(program: Program, input_types: Mapping[str, str]) -> np.ndarray:
    """Every node's grammar mask: `[n_nodes, VOCAB_SIZE]` booleans, True where the token of the
    node's arity could stand there and keep the program well-typed (LANGUAGE.md)."""
    return masks_to_array(check(program, input_types).masks)


assert VOCAB_SIZE <= 64, "masks are packed into uint64"
assert all(ARITY[t] == 0 for t in (PARAM_A, PARAM_B, *INPUT_IDS)) and VOCAB[MASK] == "<mask>"
