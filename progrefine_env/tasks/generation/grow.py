"""Growing one candidate program top-down from its output type, within the grammar, with an
exact node budget per subtree (lambdas only as the first argument of a higher-order token, `a`/`b`
only where a lambda binds them): token and constant weights, the split of a node's budget among
its children, and `_Builder`, which grows the program in pre-order.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from functools import cache

from ...lang import Program
from ...lang.vocab import ARITY, LAM, LAM2, PARAM_A, PARAM_B
from .config import GeneratorConfig
from .grammar import (
    _AVOID_CHILD,
    _CONST_ALLOWED,
    _CONST_TOKENS,
    _CONST_VALUES,
    _COUNTS,
    _HIGHER_ORDER,
    _INDEX,
    _LOGIC,
    _MIN_SIZE,
    _NIL,
    _NIL_SLOTS,
    _PRODUCTIONS,
    _T,
    _TYPE_CODE,
    BOOL,
    FN1,
    FN2,
    INT,
    LIST,
    PRED,
)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


@cache
def _choices(
    kind: int, size: int, in_lambda: bool, parent: int, slot: int, config: GeneratorConfig
) -> tuple[tuple, list[float]]:
    """Productions of `kind` that fit in `size` nodes below (parent, slot), cumulative weights."""
    avoid = _AVOID_CHILD.get((parent, slot), frozenset())
    token_weights = dict(config.token_weights)
    options, weights = [], []
    for name, kids in _PRODUCTIONS[kind]:
        tok = _T[name]
        weight = token_weights.get(name, 0.0) if kind in (LIST, INT, BOOL) else 1.0
        if 1 + sum(_MIN_SIZE[k] for k in kids) > size or tok in avoid or weight <= 0:
            continue
        options.append((tok, kids))
        if in_lambda and tok in _HIGHER_ORDER:
            weight *= config.lambda_loop_factor
        elif in_lambda and tok in _LOGIC:
            weight *= config.lambda_logic_factor
        weights.append(weight)
    return tuple(options), _cumulative(weights)


@cache
def _constants(
    parent: int, slot: int, scale: float, config: GeneratorConfig
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    allowed = _CONST_ALLOWED.get((parent, slot), _CONST_VALUES)
    chosen = [(v, w) for v, w in config.constant_weights if v in allowed and w > 0]
    return tuple(_CONST_TOKENS[v] for v, _ in chosen), tuple(w * scale for _, w in chosen)


# Child slots that take a small share of a node's budget (a lambda, a count, a condition); the
# other slots (the "spine": the lists being transformed) share the rest. Programs then look like
# DeepCoder's: pipelines of list functions with small lambdas, rather than deep arithmetic.
_SMALL_SLOTS: dict[int, tuple[int, ...]] = {
    _T[name]: slots
    for name, slots in (
        ("map", (0,)), ("filter", (0,)), ("count", (0,)), ("scanl1", (0,)), ("zipwith", (0,)),
        ("fold", (0, 1)), ("take", (0,)), ("drop", (0,)), ("index", (0,)), ("cons", (0,)),
        ("if", (0,)),
    )
}  # fmt: skip
# Extra nodes above the minimum for a small slot, by kind: (extra, cumulative weight) tables.
_SMALL_EXTRA = {
    INT: ((0, 1, 2, 3), _cumulative((0.6, 0.2, 0.15, 0.05))),
    # A condition of 7 nodes is `(and (op e c) (op e c))`: `and`, `or` need that room.
    BOOL: ((0, 1, 2, 3, 4), _cumulative((0.45, 0.15, 0.15, 0.05, 0.2))),
    # Bodies of 3 or 5 nodes are `(op a c)` and `(op (op a c) c)`; 4 or 6 need a list reduction.
    FN1: ((0, 1, 2, 3, 4), _cumulative((0.45, 0.12, 0.3, 0.05, 0.08))),
    PRED: ((0, 1, 2, 3, 4), _cumulative((0.4, 0.1, 0.2, 0.05, 0.25))),
    FN2: ((0, 1, 2, 3, 4), _cumulative((0.45, 0.12, 0.3, 0.05, 0.08))),
}


def _split(r: random.Random, tok: int, kids: tuple[int, ...], size: int) -> list[int] | None:
    """Sizes of the children of `tok` (children's minimum sizes respected), summing to size - 1."""
    mins = [_MIN_SIZE[k] for k in kids]
    extra = size - 1 - sum(mins)
    if extra < 0:
        return None
    if len(kids) == 1:
        return [size - 1]
    sizes = list(mins)
    small = _SMALL_SLOTS.get(tok, ())
    if tok != _INDEX:  # a computed index is nearly always out of range: `index` takes a leaf
        for slot in small:
            values, cum = _SMALL_EXTRA[kids[slot]]
            more = min(extra, values[bisect(cum, r.random() * cum[-1])])
            sizes[slot] += more
            extra -= more
    spine = [k for k in range(len(kids)) if k not in small]
    if len(spine) == 1:
        sizes[spine[0]] += extra
    elif len(spine) == 2:
        cut = r.randrange(extra + 1)
        sizes[spine[0]] += cut
        sizes[spine[1]] += extra - cut
    else:  # stars and bars: every split of the rest among the spine slots is equally likely
        cuts = sorted(r.sample(range(extra + len(spine) - 1), len(spine) - 1))
        bounds = [-1, *cuts, extra + len(spine) - 1]
        for k, slot in enumerate(spine):
            sizes[slot] += bounds[k + 1] - bounds[k] - 1
    return sizes


class _Builder:
    """Grows one program top-down in pre-order, with an exact node budget per subtree.

    Every inner node mentions an input or a parameter (no constant subtrees), every lambda body
    mentions a parameter of its own lambda, and leaves lean towards inputs and parameters not
    used yet, so that all inputs appear.
    """

    __slots__ = ("r", "config", "tokens", "kinds", "list_inputs", "int_inputs", "unused", "frames")

    def __init__(self, r: random.Random, signature: tuple[tuple[str, str], ...], config: GeneratorConfig) -> None:
        self.r = r
        self.config = config
        self.tokens: list[int] = []
        self.kinds: list[int] = []
        self.list_inputs = [_T[n] for n, k in signature if k == "list"]
        self.int_inputs = [_T[n] for n, k in signature if k == "int"]
        self.unused = {_T[n] for n, _ in signature}
        self.frames: list[list[bool]] = []  # per enclosing lambda: [is lam2, used a, used b]

    def grow(self, kind: int, size: int, a: bool, b: bool, need_var: bool, parent: int, slot: int) -> bool:
        """Append a subtree of `kind` with exactly `size` nodes; False if none could be made."""
        if size == 1:
            return self._leaf(kind, a, b, need_var, parent, slot)
        mark = len(self.tokens)
        unused = set(self.unused)
        frames = [list(f) for f in self.frames]
        for _ in range(3):  # a few local retries before giving up on this subtree
            if self._node(kind, size, a, b, parent, slot):
                return True
            del self.tokens[mark:], self.kinds[mark:]
            self.unused = set(unused)
            self.frames = [list(f) for f in frames]
        return False

    def _node(self, kind: int, size: int, a: bool, b: bool, parent: int, slot: int) -> bool:
        r = self.r
        options, cum = _choices(kind, min(size, 12), a, parent, slot, self.config)
        if not options:
            return False
        tok, kids = options[bisect(cum, r.random() * cum[-1])]
        self.tokens.append(tok)
        self.kinds.append(kind)
        if tok == LAM or tok == LAM2:
            frame = [tok == LAM2, False, False]
            self.frames.append(frame)
            ok = self.grow(kids[0], size - 1, True, b or tok == LAM2, False, tok, 0)
            self.frames.pop()
            return ok and (frame[1] or frame[2])
        sizes = _split(r, tok, kids, size)
        if sizes is None:
            return False
        # Every inner node mentions a variable: an inner child does; if all children are leaves,
        # one of them (that can) must be an input or a parameter.
        need = -1
        all_leaves = all(s == 1 for s in sizes)
        if all_leaves:
            able = [k for k, c in enumerate(kids) if self._can_be_var(c, a, b)]
            if not able:
                return False
            need = able[0] if len(able) == 1 else r.choice(able)
        start = len(self.tokens)
        for k, (child, s) in enumerate(zip(kids, sizes)):
            if not self.grow(child, s, a, b, k == need, tok, k):
                return False
        # Two equal leaves under one node make it trivial: (- a a), (> y y), (concat x x) is fine
        # but rare enough to give up.
        return not (all_leaves and len(kids) == 2 and self.tokens[start] == self.tokens[start + 1])

    def _can_be_var(self, kind: int, a: bool, b: bool) -> bool:
        if kind == LIST:
            return bool(self.list_inputs)
        return kind == INT and bool(a or b or self.int_inputs)

    def _leaf(self, kind: int, a: bool, b: bool, need_var: bool, parent: int, slot: int) -> bool:
        r, unused = self.r, self.unused
        options: list[int] = []
        weights: list[float] = []
        if kind == LIST:
            for tok in self.list_inputs:
                options.append(tok)
                weights.append(6.0 if tok in unused else 1.0)
            if not need_var and self.config.nil_weight > 0 and (parent, slot) in _NIL_SLOTS:
                options.append(_NIL)
                weights.append(self.config.nil_weight)
        elif kind == INT:
            for tok in self.int_inputs:
                options.append(tok)
                weights.append(6.0 if tok in unused else 0.7)
            frame = self.frames[-1] if self.frames else None
            # A parameter as an index is nearly always out of range; as a count, often.
            scale = 0.0 if parent == _INDEX else 0.3 if parent in _COUNTS and slot == 0 else 1.0
            if a and scale:
                options.append(PARAM_A)
                weights.append((6.0 if frame and not frame[1] else 3.0) * scale)
            if b and scale:
                options.append(PARAM_B)
                weights.append((5.0 if frame and frame[0] and not frame[2] else 2.0) * scale)
            if not need_var:
                consts, const_weights = _constants(parent, slot, 0.6 if a else 1.0, self.config)
                options.extend(consts)
                weights.extend(const_weights)
        if not options:
            return False
        cum = _cumulative(weights)
        tok = options[bisect(cum, r.random() * cum[-1])]
        self.tokens.append(tok)
        self.kinds.append(kind)
        unused.discard(tok)
        if tok == PARAM_A and self.frames:
            self.frames[-1][1] = True
        elif tok == PARAM_B:
            for frame in reversed(self.frames):
                if frame[0]:
                    frame[2] = True
                    break
        return True


def _draw_size(r: random.Random, config: GeneratorConfig) -> int:
    low, high = max(config.budget[0], config.min_nodes), min(config.budget[1], config.max_nodes)
    if high < config.max_nodes and r.random() < config.long_share:
        return r.randint(high + 1, config.max_nodes)
    return r.randint(low, max(low, high))


def _grow_program(
    r: random.Random, config: GeneratorConfig, signature: tuple[tuple[str, str], ...]
) -> tuple[Program, list[int]] | None:
    kinds_weights = config.output_types
    cum = _cumulative([w for _, w in kinds_weights])
    out = _TYPE_CODE[kinds_weights[bisect(cum, r.random() * cum[-1])][0]]
    size = _draw_size(r, config)
    builder = _Builder(r, signature, config)
    if size < _MIN_SIZE[out] or not builder.grow(out, size, False, False, size == 1, -1, 0) or builder.unused:
        return None
    tokens = tuple(builder.tokens)
    return Program(tokens, tuple(ARITY[t] for t in tokens)), builder.kinds
