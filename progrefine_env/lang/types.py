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

The types and each token's rule are in `lang.signatures`, one node's step of each pass in
`lang.passes`; this module runs the passes over a program through its bounded caches. It also
offers their public names, and the private ones the tests use, where they have always been
imported from (each `import x as x` below is such a re-export).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .passes import _CLASSES as _CLASSES
from .passes import _WIDTH, _allowed, _at, _candidates, _deepest, _down, _up
from .passes import CONTEXTS as CONTEXTS
from .passes import _type_in as _type_in
from .program import Program, shape_of
from .signatures import ANY, TYPE_NAMES, VALUE, accepted_child, input_signature
from .signatures import BOOL as BOOL
from .signatures import FN1 as FN1
from .signatures import FN2 as FN2
from .signatures import INT as INT
from .signatures import LIST as LIST
from .signatures import NUM_TYPES as NUM_TYPES
from .signatures import PRED as PRED
from .signatures import SIGNATURES as SIGNATURES
from .signatures import TYPE_BITS as TYPE_BITS
from .signatures import out_type as out_type
from .vocab import ARITY, INPUT_IDS, MASK, PARAM_A, PARAM_B, VOCAB, VOCAB_SIZE

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
