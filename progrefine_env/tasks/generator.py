"""Random tasks: well-typed random programs with DeepCoder-style random tests.

A candidate program is grown top-down from its output type with an exact node budget (lambdas
only as the first argument of a higher-order token, `a`/`b` only where a lambda binds them),
then run on random inputs and screened; most candidates are thrown away. A task's program

- uses every declared input; has no constant subtree of more than one node (`(+ 2 3)` is better
  written as one constant, `(range 5)` as nothing at all); no lambda ignores its parameters;
- runs without error on `num_tests + num_held_out` distinct random inputs (inputs on which it
  errors are dropped and others drawn, within `max_input_draws` tries, so `head` and `index`
  survive); inputs are chosen to give as many different outputs as they can, the visible tests
  never all share one output, nor do all the tests;
- has no dead or redundant code *on those inputs*: no node whose value can be perturbed without
  changing any output (`insensitive_nodes`), no node whose values always equal those of a
  descendant of its type (`identity_nodes`), and, with `reject_bypass`, no node that can be
  replaced by one of its own children of its type without changing any output (`bypass_nodes`:
  `(sum (sort x))`, `(len (map f x))`).

The last rule makes the tests pin the program down: every part of it shows in some output. While
generating, a candidate with an identity or bypass redundancy is not thrown away but repaired:
the redundant node is replaced by the descendant it equals (the outputs on the tests stay the
same) and the result is screened again; this turns big candidates into medium-sized programs.
`rejection_reason` applies the same rules to any program, without repairs.

`generate_tasks` keeps one program per behaviour, where a behaviour is the `fingerprint`: the
program's outputs on a fixed set of probe inputs per signature.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import random
import sys
from bisect import bisect
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from ..lang import Compiled, EvalError, Program, check, compile_program, input_signature
from ..lang.interpreter import Value
from ..lang.vocab import ARITY, CONSTANTS, INPUT_NAMES, LAM, LAM2, PARAM_A, PARAM_B, TOKEN_ID
from .held_back import passes_held_back
from .task import Task, Test

__all__ = [
    "BLOCK_SIZE", "DEFAULT_SIGNATURES", "GENERATOR_VERSION", "GeneratorConfig", "bypass_nodes",
    "constant_subtrees", "fingerprint", "generate_task", "generate_tasks",
    "generate_tasks_with_fingerprints", "identity_nodes", "idle_lambdas", "insensitive_nodes",
    "probe_inputs", "rejection_reason",
]  # fmt: skip

DEFAULT_SIGNATURES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("x", "list"),),
    (("x", "list"), ("y", "int")),
    (("x", "list"), ("y", "list")),
    (("x", "list"), ("y", "int"), ("z", "int")),
    (("x", "list"), ("y", "list"), ("z", "int")),
    (("x", "int"),),
    (("x", "int"), ("y", "int")),
    (("x", "int"), ("y", "int"), ("z", "int")),
)
"""The input signatures of the built-in corpus, in `GeneratorConfig.signatures`'s hashable form."""
DEFAULT_SIGNATURE_WEIGHTS: tuple[float, ...] = (3.0, 3.0, 2.0, 1.2, 0.9, 1.0, 1.0, 0.8)
"""How often each of `DEFAULT_SIGNATURES` is drawn (list inputs first: most tasks are about lists)."""

DEFAULT_TOKEN_WEIGHTS: tuple[tuple[str, float], ...] = (
    # list -> list
    ("map", 2.5), ("filter", 2.5), ("scanl1", 1.5), ("zipwith", 1.5), ("reverse", 0.6), ("sort", 0.6),
    ("take", 0.9), ("drop", 0.9), ("cons", 0.6), ("concat", 0.6), ("range", 0.5),
    # -> int
    ("+", 1.2), ("-", 1.2), ("*", 1.0), ("/", 0.5), ("%", 0.8), ("min", 0.8), ("max", 0.9),
    ("count", 4.0), ("fold", 3.0), ("len", 0.9), ("sum", 0.6), ("head", 0.5), ("last", 0.5),
    ("maximum", 0.7), ("minimum", 0.7), ("index", 0.5),
    # -> bool
    ("<", 2.0), (">", 2.0), ("=", 2.5), ("and", 4.0), ("or", 5.0), ("not", 1.0),
    # any type
    ("if", 2.5),
)  # fmt: skip
"""The default `GeneratorConfig.token_weights`: how likely each inner token is, against the other
tokens that could stand at a node (those of the type and size needed there)."""

DEFAULT_CONSTANT_WEIGHTS: tuple[tuple[int, float], ...] = (
    (-1, 0.5), (0, 2.0), (1, 1.5), (2, 1.5), (3, 1.0), (4, 0.7), (5, 0.6), (6, 0.3), (7, 0.3), (8, 0.3),
    (9, 0.3), (10, 0.4),
)  # fmt: skip
"""The default `GeneratorConfig.constant_weights`: small constants are likelier, as in hand-written
programs."""


@dataclass(frozen=True)
class GeneratorConfig:
    """Settings of the random task generator (hashable: the corpus cache is keyed by them).

    Attributes:
        min_nodes: fewest nodes a program may have (`lam`/`lam2` count as nodes).
        max_nodes: most nodes a program may have; the environment's default observation holds 64.
        budget: `(low, high)`: the node budget of most candidate programs is drawn uniformly from
            this range. Screening removes redundant parts, so accepted programs come out smaller
            than their budget, and big candidates rarely survive (and cost the most), so this
            range, more than `min_nodes`/`max_nodes`, sets the corpus's size distribution.
        long_share: the share of candidates whose budget is drawn uniformly from
            `(budget[1], max_nodes]` instead, for a tail of long programs.
        num_tests: visible tests per task.
        num_held_out: held-out tests per task (all tests of a task have distinct inputs).
        max_list_length: a list input has a length drawn uniformly from `0..max_list_length`.
        value_low: smallest element of a list input.
        value_high: largest element of a list input.
        int_low: smallest value of an int input.
        int_high: largest value of an int input.
        signatures: the input signatures to draw from, each as `((name, type), ...)` in
            declaration order, e.g. `(("x", "list"), ("y", "int"))`.
        signature_weights: how often each signature is drawn (one weight per signature; empty:
            uniformly). Left at its default with other `signatures`, it becomes empty.
        output_types: `((type, weight), ...)`: how often each output type is drawn ("int",
            "list" and, if wanted, "bool").
        max_input_draws: random inputs tried per program before it is rejected for erroring on
            too many of them.
        reject_bypass: also reject programs in which some node can be replaced by one of its own
            children of the same type without changing any test output (see `bypass_nodes`).
        hold_back: reject programs that pass every test of a benchmark task (`held_back.py`), so
            that the benchmarks stay unseen in training.
        token_weights: `((token, weight), ...)` for every inner token (arity >= 1 but lambdas):
            how likely it is to be drawn at a node, against the other tokens that fit there (by
            type and size). A token left out, or with weight 0, is never drawn.
        constant_weights: `((value, weight), ...)`: how likely each integer constant is as a leaf
            (against one another; leaves that are inputs or lambda parameters weigh 6 when not
            used yet, else 1 (inputs) or 3 (`a`) / 2 (`b`)). Left out: never drawn.
        nil_weight: the weight of `nil` as a list leaf where it can matter: the list of a `cons`
            (`(cons e nil)`) or a branch of an `if` (list inputs weigh 6 when not used yet, else
            1); elsewhere `nil` is never drawn (`(map f nil)` is dead code).
        lambda_loop_factor: higher-order tokens (and `range`) are this much rarer inside a lambda
            body (nested loops are slow, and rare in hand-written programs).
        lambda_logic_factor: `and` and `or` are this much likelier inside a lambda body, where a
            predicate meets every element of a list, so that both sides matter on some test
            (outside one they rarely survive screening).
    """

    min_nodes: int = 3
    max_nodes: int = 64
    budget: tuple[int, int] = (3, 22)
    long_share: float = 0.1
    num_tests: int = 5
    num_held_out: int = 5
    max_list_length: int = 10
    value_low: int = -10
    value_high: int = 10
    int_low: int = -3
    int_high: int = 10
    signatures: tuple[tuple[tuple[str, str], ...], ...] = DEFAULT_SIGNATURES
    signature_weights: tuple[float, ...] = DEFAULT_SIGNATURE_WEIGHTS
    output_types: tuple[tuple[str, float], ...] = (("int", 0.4), ("list", 0.4), ("bool", 0.2))
    max_input_draws: int = 30
    reject_bypass: bool = True
    hold_back: bool = True
    token_weights: tuple[tuple[str, float], ...] = DEFAULT_TOKEN_WEIGHTS
    constant_weights: tuple[tuple[int, float], ...] = DEFAULT_CONSTANT_WEIGHTS
    nil_weight: float = 1.0
    lambda_loop_factor: float = 0.25
    lambda_logic_factor: float = 4.0

    def __post_init__(self) -> None:
        if not 1 <= self.min_nodes <= self.max_nodes:
            raise ValueError(f"need 1 <= min_nodes <= max_nodes, got {self.min_nodes}, {self.max_nodes}")
        if len(self.budget) != 2 or self.budget[0] > self.budget[1] or not 0 <= self.long_share <= 1:
            raise ValueError("need budget = (low, high) with low <= high, 0 <= long_share <= 1")
        if self.num_tests < 1 or self.num_held_out < 0:
            raise ValueError("need num_tests >= 1 and num_held_out >= 0")
        if self.value_low > self.value_high or self.int_low > self.int_high or self.max_list_length < 0:
            raise ValueError("empty input ranges")
        if not self.signatures:
            raise ValueError("at least one signature is needed")
        for signature in self.signatures:
            input_signature(dict(signature))  # raises for unknown names or types
            if not signature or len(dict(signature)) != len(signature):
                raise ValueError(f"signature {signature} declares no input, or one twice")
        for kind, weight in self.output_types:
            if kind not in ("int", "list", "bool") or weight < 0:
                raise ValueError(f"bad output type weight {(kind, weight)}")
        if not any(w > 0 for _, w in self.output_types):
            raise ValueError("some output type needs a positive weight")
        if self.signature_weights == DEFAULT_SIGNATURE_WEIGHTS and self.signatures != DEFAULT_SIGNATURES:
            object.__setattr__(self, "signature_weights", ())  # the defaults weigh the default signatures
        weights = self.signature_weights
        if weights and (len(weights) != len(self.signatures) or min(weights) < 0 or not any(weights)):
            raise ValueError("signature_weights: one weight >= 0 per signature, some positive (or none at all)")
        for token, weight in self.token_weights:
            if token not in _PRODUCED or weight < 0:
                raise ValueError(f"bad token weight {(token, weight)}: tokens are {sorted(_PRODUCED)}")
        for value, weight in self.constant_weights:
            if value not in _CONST_TOKENS or weight < 0:
                raise ValueError(f"bad constant weight {(value, weight)}")
        if min(self.nil_weight, self.lambda_loop_factor, self.lambda_logic_factor) < 0:
            raise ValueError("nil_weight, lambda_loop_factor and lambda_logic_factor must be >= 0")

    def to_json(self) -> dict:
        """Every field as JSON-friendly data (used for the corpus cache key)."""
        return {
            name: (json.loads(json.dumps(value)) if isinstance(value, tuple) else value)
            for name, value in self.__dict__.items()
        }


# --------------------------------------------------------------------------------------------------
# Program generation

INT, BOOL, LIST, FN1, PRED, FN2 = range(6)
_VALUE_TYPES = (INT, BOOL, LIST)
_TYPE_CODE = {"int": INT, "bool": BOOL, "list": LIST}
_KIND_NAME = {INT: "int", BOOL: "bool", LIST: "list"}
_MIN_SIZE = {INT: 1, BOOL: 3, LIST: 1, FN1: 4, PRED: 4, FN2: 4}
"""Fewest nodes of a subtree of each type; a lambda body is never a bare parameter (`(lam a)`)."""
_T = TOKEN_ID

# (token, child types) per result type. Lambdas are the only producers of function types.
_PRODUCTIONS: dict[int, tuple[tuple[str, tuple[int, ...]], ...]] = {
    LIST: (
        ("map", (FN1, LIST)), ("filter", (PRED, LIST)), ("scanl1", (FN2, LIST)), ("zipwith", (FN2, LIST, LIST)),
        ("reverse", (LIST,)), ("sort", (LIST,)), ("take", (INT, LIST)), ("drop", (INT, LIST)),
        ("cons", (INT, LIST)), ("concat", (LIST, LIST)), ("range", (INT,)), ("if", (BOOL, LIST, LIST)),
    ),
    INT: (
        ("+", (INT, INT)), ("-", (INT, INT)), ("*", (INT, INT)), ("/", (INT, INT)), ("%", (INT, INT)),
        ("min", (INT, INT)), ("max", (INT, INT)), ("count", (PRED, LIST)), ("fold", (FN2, INT, LIST)),
        ("len", (LIST,)), ("sum", (LIST,)), ("head", (LIST,)), ("last", (LIST,)), ("maximum", (LIST,)),
        ("minimum", (LIST,)), ("index", (INT, LIST)), ("if", (BOOL, INT, INT)),
    ),
    BOOL: (
        ("<", (INT, INT)), (">", (INT, INT)), ("=", (INT, INT)), ("and", (BOOL, BOOL)), ("or", (BOOL, BOOL)),
        ("not", (BOOL,)),
    ),
    FN1: (("lam", (INT,)),),
    PRED: (("lam", (BOOL,)),),
    FN2: (("lam2", (INT,)),),
}  # fmt: skip
_PRODUCED = frozenset(name for kind in (LIST, INT, BOOL) for name, _ in _PRODUCTIONS[kind])
"""The tokens `GeneratorConfig.token_weights` weighs."""
_HIGHER_ORDER = {_T[t] for t in ("map", "filter", "count", "scanl1", "fold", "zipwith", "range")}
_LOGIC = {_T["and"], _T["or"]}

# Children that would make their parent (or themselves) redundant, avoided while growing
# (the screening would reject them anyway; avoiding them is only cheaper).
_ORDER_FREE = ("len", "sum", "maximum", "minimum", "sort")
_AVOID_CHILD: dict[tuple[int, int], frozenset[int]] = {
    **{(_T[p], 0): frozenset({_T["sort"], _T["reverse"]}) for p in (*_ORDER_FREE, "head", "last")},
    (_T["count"], 1): frozenset({_T["sort"], _T["reverse"]}),
    (_T["reverse"], 0): frozenset({_T["reverse"]}),
    (_T["len"], 0): frozenset({_T[t] for t in ("sort", "reverse", "map", "scanl1")}),
    (_T["not"], 0): frozenset({_T["not"]}),
    # Equality is seldom true, so `(and (= a c) p)` nearly always hides `p`.
    (_T["and"], 0): frozenset({_T["="]}), (_T["and"], 1): frozenset({_T["="]}),
}  # fmt: skip
for _p in ("len", "head", "last", "minimum", "maximum", "sort"):  # (len (range n)) is (max n 0), ...
    _AVOID_CHILD[(_T[_p], 0)] = _AVOID_CHILD.get((_T[_p], 0), frozenset()) | {_T["range"]}
_AVOID_CHILD[(_T["head"], 0)] |= {_T["cons"]}  # (head (cons e xs)) is e

# Constants (weighted by `GeneratorConfig.constant_weights`); some are excluded where they would
# make the parent an identity or a constant (`(+ 0 e)`, `(* 1 e)`, `(take 0 e)`).
_CONST_VALUES = frozenset(range(-1, 11))
_CONST_TOKENS = {value: tok for tok, value in CONSTANTS.items()}
_CONST_ALLOWED: dict[tuple[int, int], frozenset[int]] = {
    (_T["+"], 0): _CONST_VALUES - {0}, (_T["+"], 1): _CONST_VALUES - {0},
    (_T["-"], 1): _CONST_VALUES - {0},
    (_T["*"], 0): _CONST_VALUES - {0, 1}, (_T["*"], 1): _CONST_VALUES - {0, 1},
    (_T["/"], 0): _CONST_VALUES - {0}, (_T["/"], 1): _CONST_VALUES - {-1, 0, 1},
    (_T["%"], 0): _CONST_VALUES - {0}, (_T["%"], 1): _CONST_VALUES - {-1, 0, 1},
    (_T["take"], 0): frozenset(range(1, 7)), (_T["drop"], 0): frozenset(range(1, 7)),
    (_T["index"], 0): frozenset(range(1, 6)),  # (index 0 e) is (head e)
    # A threshold far from the middle of the values (-10..10) is rarely crossed, so rarely live.
    **{(_T[op], slot): frozenset(range(-1, 7)) for op in ("<", ">", "=") for slot in (0, 1)},
}  # fmt: skip
_NIL = _T["nil"]
_NIL_SLOTS = {(_T["cons"], 1), (_T["if"], 1), (_T["if"], 2)}
_INDEX = _T["index"]
_COUNTS = (_T["take"], _T["drop"], _T["range"])


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


# --------------------------------------------------------------------------------------------------
# Screening


def _node_kinds(program: Program, input_types: Mapping[str, str]) -> list[int]:
    """The type code of each node of a well-typed program (functions as FN1)."""
    info = check(program, input_types)
    if not program.complete or not info.well_typed:
        raise ValueError("the program must be complete and well-typed")
    code = {1: INT, 2: BOOL, 4: LIST}
    return [code.get(s, FN1) for s in info.syn]


def constant_subtrees(program: Program) -> list[int]:
    """Inner nodes whose subtree mentions no input and no lambda parameter (`(+ 2 3)`, `(lam 1)`)."""
    tokens, shape = program.tokens, program.shape
    mentions = [False] * len(tokens)
    variables = {_T[n] for n in INPUT_NAMES} | {PARAM_A, PARAM_B}
    found = []
    for i in range(len(tokens) - 1, -1, -1):
        kids = shape.children[i]
        mentions[i] = tokens[i] in variables or any(mentions[c] for c in kids)
        if kids and not mentions[i]:
            found.append(i)
    return sorted(found)


def idle_lambdas(program: Program) -> list[int]:
    """`lam` nodes whose body never uses `a`, and `lam2` nodes whose body uses neither `a` nor `b`
    (a use inside a nested lambda that rebinds the name does not count): constant functions."""
    tokens, children = program.tokens, program.shape.children
    found = []
    for i, tok in enumerate(tokens):
        if tok != LAM and tok != LAM2:
            continue
        stack, used = [(children[i][0], True, tok == LAM2)], False
        while stack and not used:
            node, sees_a, sees_b = stack.pop()
            t = tokens[node]
            if (t == PARAM_A and sees_a) or (t == PARAM_B and sees_b):
                used = True
            for c in children[node]:
                stack.append((c, sees_a and t not in (LAM, LAM2), sees_b and t != LAM2))
        if not used:
            found.append(i)
    return found


def _outside_lambdas(program: Program) -> list[list[int]]:
    """For each node, its proper descendants that are not inside a lambda nested below it."""
    shape, tokens = program.shape, program.tokens
    result: list[list[int]] = [[] for _ in tokens]
    for i in range(len(tokens) - 1, -1, -1):
        for c in shape.children[i]:
            if tokens[c] not in (LAM, LAM2):
                result[i].append(c)
                result[i].extend(result[c])
    return result


def _traced(program: Program, inputs: Sequence[Mapping[str, Value]]) -> tuple[list, list]:
    """Per node, per test: the values it took (a list per test), and how often it was evaluated."""
    compiled = Compiled(program, trace=True)
    per_test_values, per_test_reached = [], []
    for test in inputs:
        compiled.run(test)
        per_test_values.append(compiled.values)
        per_test_reached.append(compiled.reached)
    return list(zip(*per_test_values)), list(zip(*per_test_reached))


def _identity_nodes(program: Program, kinds: Sequence[int], values: list[list]) -> list[tuple[int, int]]:
    """(node, descendant) pairs: the first descendant (pre-order) whose values equal the node's."""
    below = _outside_lambdas(program)
    found = []
    for i, descendants in enumerate(below):
        kind = kinds[i]
        if kind not in _VALUE_TYPES:
            continue
        mine = values[i]
        for d in descendants:
            if kinds[d] == kind and values[d] == mine:
                found.append((i, d))
                break
    return found


def identity_nodes(
    program: Program, input_types: Mapping[str, str], inputs: Sequence[Mapping[str, Value]]
) -> list[int]:
    """Nodes whose values on every input equal those of a proper descendant of the same type that
    is not inside a lambda nested below them: `(+ 0 a)` is `a`, `(reverse (reverse x))` is `x`,
    `(if (< 1 2) x x)` is `x`. The program must run without error on `inputs`."""
    values, _ = _traced(program, inputs)
    return [i for i, _ in _identity_nodes(program, _node_kinds(program, input_types), values)]


_LEAF_RANK = [0 if t in CONSTANTS else 1 if t in (PARAM_A, PARAM_B) else 2 for t in range(len(ARITY))]
_PERTURBATIONS = {
    INT: (lambda v: v + 1, lambda v: v - 1),
    BOOL: (lambda v: not v,),
    LIST: (lambda v: v[:-1] if v else [1], lambda v: v[1:] if v else [-1]),
}
"""How `insensitive_nodes` perturbs a value of each type (the second only if the first is unseen)."""


class _Probe:
    """Runs a program with one node's value replaced by `fn(value)`; `fn` may read `cells`, the
    last value every node took in the current run. Hooks cost time on every evaluation, so
    perturbing a leaf uses a copy hooked at the value leaves only, compiled on first use, and
    anything else a copy hooked at every value node."""

    def __init__(self, program: Program, kinds: Sequence[int]) -> None:
        self.program, self.kinds = program, kinds
        self.active, self.fn = -1, None
        self.cells: list = [None] * len(program)
        self._leaves: Compiled | None = None
        self._all: Compiled | None = None

    def _hook(self, i: int, store: bool):
        cells = self.cells
        if not store:
            return lambda v: self.fn(v) if self.active == i else v

        def hook(v):
            cells[i] = v
            return self.fn(v) if self.active == i else v

        return hook

    def _compiled(self, node: int) -> Compiled:
        kinds, arities = self.kinds, self.program.arities
        if not arities[node] and node != 0:
            if self._leaves is None:
                hooks = {i: self._hook(i, False) for i, k in enumerate(kinds) if k in _VALUE_TYPES and not arities[i]}
                self._leaves = Compiled(self.program, hooks=hooks)
            return self._leaves
        if self._all is None:
            hooks = {i: self._hook(i, True) for i, k in enumerate(kinds) if k in _VALUE_TYPES}
            self._all = Compiled(self.program, hooks=hooks)
        return self._all

    def changes(self, tests: Sequence[int], inputs, outputs, node: int, fn, cells: bool = False) -> bool:
        """Does replacing `node`'s value by `fn(value)` change the output of any of `tests`?
        (`cells`: fn reads `self.cells`, so every node must record its value.)"""
        compiled = self._compiled(0 if cells else node)
        self.active, self.fn = node, fn
        try:
            for k in tests:
                got = compiled.run(inputs[k])
                want = outputs[k]
                if type(got) is not type(want) or got != want:
                    return True
            return False
        finally:
            self.active, self.fn = -1, None


def _insensitive_nodes(program, kinds, inputs, outputs, reached, probe: _Probe, first_only: bool) -> list[int]:
    """Dead nodes. Leaves are tried first: a perturbed leaf whose change reaches the output
    changed the value of every ancestor on the way (values flow only up the tree), which proves
    them live too, so an inner node is perturbed only if none of its leaves is live. Dead code is
    also most often a constant or a subtree with dead leaves, so rejection comes sooner."""
    arities, parent = program.arities, program.shape.parent
    live = [False] * len(program)
    found = []
    tokens = program.tokens
    # Constants, then parameters, then inputs: the likeliest dead leaves first.
    order = sorted((i for i in range(1, len(program)) if not arities[i]), key=lambda i: _LEAF_RANK[tokens[i]])
    order += [i for i in range(len(program) - 1, 0, -1) if arities[i]]  # children before parents
    for i in order:
        kind = kinds[i]
        if kind not in _VALUE_TYPES or live[i]:
            continue
        tests = [k for k, count in enumerate(reached[i]) if count]
        if any(probe.changes(tests, inputs, outputs, i, f) for f in _PERTURBATIONS[kind]):
            j = i
            while j > 0 and not live[j]:
                live[j] = True
                j = parent[j]
        else:
            found.append(i)
            if first_only:
                break
    return sorted(found)


def insensitive_nodes(
    program: Program,
    input_types: Mapping[str, str],
    inputs: Sequence[Mapping[str, Value]],
) -> list[int]:
    """Nodes (below the root) whose value can be perturbed without changing the output on any of
    `inputs`: `int v -> v + 1` or `v - 1`, `bool v -> not v`, `list v -> v` without its last or
    without its first element (`[1]`, `[-1]` for an empty list). A node never reached is dead too.
    In `(take 10 (take 3 x))` the `10` is dead. The program must run without error on `inputs`."""
    kinds = _node_kinds(program, input_types)
    outputs = [Compiled(program).run(i) for i in inputs]
    _, reached = _traced(program, inputs)
    return _insensitive_nodes(program, kinds, inputs, outputs, reached, _Probe(program, kinds), False)


def _bypass_nodes(program, kinds, inputs, outputs, values, probe: _Probe, first_only: bool) -> list[tuple[int, int]]:
    """(node, child) pairs: the node can be replaced by that child without changing an output."""
    tokens, children = program.tokens, program.shape.children
    found = []
    if_token = _T["if"]
    cells = probe.cells
    for i, kind in enumerate(kinds):
        if kind not in _VALUE_TYPES or tokens[i] == if_token:
            continue
        mine = values[i]
        for c in children[i]:
            if kinds[c] != kind:
                continue
            # Only tests on which the child's values differ from the node's can change.
            theirs = values[c]
            tests = [k for k in range(len(inputs)) if mine[k] != theirs[k]]
            if not probe.changes(tests, inputs, outputs, i, lambda v, c=c: cells[c], True):
                found.append((i, c))
                break
        if found and first_only:
            break
    return found


def bypass_nodes(
    program: Program,
    input_types: Mapping[str, str],
    inputs: Sequence[Mapping[str, Value]],
) -> list[int]:
    """Nodes (other than `if`) that can be replaced by one of their own children of the same type
    without changing the output on any of `inputs`: the `sort` of `(sum (sort x))`, the `map` of
    `(len (map f x))`, the `min` of `(min y 10)` when `y <= 10` on every input."""
    kinds = _node_kinds(program, input_types)
    outputs = [Compiled(program).run(i) for i in inputs]
    values, _ = _traced(program, inputs)
    return [i for i, _ in _bypass_nodes(program, kinds, inputs, outputs, values, _Probe(program, kinds), False)]


def _rescue(program, kinds, inputs, outputs, probe: _Probe, dead: int) -> tuple[int, int] | None:
    """A (node, child) bypass that removes the dead node without changing any output, if the
    nearest ancestors have one: in `(take 10 (take 3 x))` the `10` is dead and the outer `take`
    can be replaced by `(take 3 x)`."""
    shape = program.shape
    cells = probe.cells
    every = range(len(inputs))
    node, steps = shape.parent[dead], 0
    while node >= 0 and steps < 3:
        kind = kinds[node]
        if kind in _VALUE_TYPES and program.tokens[node] != _T["if"]:
            for c in shape.children[node]:
                if kinds[c] == kind and not c <= dead < shape.end[c]:
                    if not probe.changes(every, inputs, outputs, node, lambda v, c=c: cells[c], True):
                        return node, c
        node, steps = shape.parent[node], steps + 1
    return None


def _rebuild(program: Program, kinds: list[int], replace: dict[int, int]) -> tuple[Program, list[int], list[int]]:
    """`program` with the subtree at each node `i` in `replace` replaced by the subtree at its
    descendant `replace[i]`; also returns, per new node, the old node it copies."""
    tokens, children = program.tokens, program.shape.children
    origin: list[int] = []
    stack = [0]
    while stack:
        node = stack.pop()
        while node in replace:
            node = replace[node]
        origin.append(node)
        stack.extend(reversed(children[node]))
    new_tokens = tuple(tokens[o] for o in origin)
    rebuilt = Program(new_tokens, tuple(program.arities[o] for o in origin))
    return rebuilt, [kinds[o] for o in origin], origin


def _screen(
    program: Program,
    kinds: list[int],
    inputs: Sequence[Mapping[str, Value]],
    outputs: Sequence[Value],
    bypass: bool,
    repair: bool = False,
    static: Callable[[Program], str | None] | None = None,
) -> tuple[Program, list[int], str | None]:
    """Screen a program already known to run without error on `inputs`.

    Returns the program, its node kinds and why it is rejected (None if it is kept). With
    `repair`, a node that equals a descendant (or, with `bypass`, can be replaced by a child) is
    replaced by it and the result screened again: the outputs on `inputs` stay the same, so the
    tests stay right, and a big candidate becomes a smaller program without the redundancy.
    `static` says why a repaired program breaks a rule that needs no run (None if none).
    """
    first = outputs[0]
    if all(type(o) is type(first) and o == first for o in outputs[1:]):
        return program, kinds, "the same output on every test"
    values = reached = None
    for _ in range(2 * len(program)):
        if values is None:
            values, reached = _traced(program, inputs)
        found = _identity_nodes(program, kinds, values)
        if found:
            if not repair:
                return program, kinds, f"node {found[0][0]} always equals one of its descendants"
            # All at once: each replaced node took exactly its descendant's values, so every
            # other node keeps its values too (and the traces carry over).
            program, kinds, origin = _rebuild(program, kinds, dict(found))
            why = static(program) if static else None
            if why:
                return program, kinds, why
            values = [values[o] for o in origin]
            reached = [reached[o] for o in origin]
            continue
        probe = _Probe(program, kinds)
        dead = _insensitive_nodes(program, kinds, inputs, outputs, reached, probe, True)
        if dead:
            rescue = _rescue(program, kinds, inputs, outputs, probe, dead[0]) if repair and bypass else None
            if rescue is not None:
                program, kinds, _ = _rebuild(program, kinds, dict([rescue]))
                why = static(program) if static else None
                if why:
                    return program, kinds, why
                values = None
                continue
            return program, kinds, f"node {dead[0]} never changes the output"
        if bypass:
            found = _bypass_nodes(program, kinds, inputs, outputs, values, probe, True)
            if found:
                if repair:
                    program, kinds, _ = _rebuild(program, kinds, dict(found[:1]))
                    why = static(program) if static else None
                    if why:
                        return program, kinds, why
                    values = None
                    continue
                return program, kinds, f"node {found[0][0]} can be replaced by its child"
        return program, kinds, None
    raise AssertionError("unreachable: every repair removes at least one node")


def _static_reason(program: Program, names: Sequence[str], config: GeneratorConfig) -> str | None:
    """Why `program` breaks a rule that needs no run: size, unused input, constant subtree, idle
    lambda (None if it breaks none). Type checking is left to the caller."""
    if not config.min_nodes <= len(program) <= config.max_nodes:
        return f"{len(program)} nodes, outside [{config.min_nodes}, {config.max_nodes}]"
    unused = [n for n in names if _T[n] not in program.tokens]
    if unused:
        return f"input(s) {unused} never used"
    found = constant_subtrees(program)
    if found:
        return f"node {found[0]} roots a constant subtree"
    found = idle_lambdas(program)
    if found:
        return f"the lambda at node {found[0]} ignores its parameters"
    return None


def rejection_reason(
    program: Program,
    input_types: Mapping[str, str],
    inputs: Sequence[Mapping[str, Value]],
    config: GeneratorConfig | None = None,
) -> str | None:
    """Why the generator would reject `program` with tests on `inputs`, or None if it would keep
    it. Checks, in order: well-typed, every input used, node count, no constant subtree, no error
    on any input, not one output for all, then `identity_nodes`, `insensitive_nodes` and (when
    `config.reject_bypass`) `bypass_nodes`."""
    config = config or GeneratorConfig()
    if not program.complete or not check(program, input_types).well_typed:
        return "the program does not type-check"
    why = _static_reason(program, list(input_types), config)
    if why:
        return why
    if not inputs:
        return "no inputs"
    compiled = Compiled(program)
    outputs = [compiled.run(i) for i in inputs]
    errors = [k for k, o in enumerate(outputs) if isinstance(o, EvalError)]
    if errors:
        return f"error {outputs[errors[0]].kind!r} on input {errors[0]}"
    return _screen(program, _node_kinds(program, input_types), inputs, outputs, config.reject_bypass)[2]


# --------------------------------------------------------------------------------------------------
# Inputs, fingerprints, tasks


def _draw_inputs(r: random.Random, signature, config: GeneratorConfig) -> dict[str, Value]:
    inputs: dict[str, Value] = {}
    for name, kind in signature:
        if kind == "list":
            values = _value_range(config.value_low, config.value_high)
            inputs[name] = r.choices(values, k=r.randrange(config.max_list_length + 1))
        else:
            inputs[name] = r.randrange(config.int_low, config.int_high + 1)
    return inputs


@lru_cache(maxsize=16)
def _value_range(low: int, high: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1))


def _draw_tests(
    r: random.Random, compiled: Compiled, signature, config: GeneratorConfig
) -> tuple[list[dict[str, Value]], list[Value]] | None:
    """Distinct random inputs on which the program runs without error, with their outputs.

    Draws until `num_tests + num_held_out` inputs with pairwise different outputs are found, or
    twice that many valid inputs, or `max_input_draws` inputs were tried; then keeps one input
    per distinct output first (so that the tests show as much of the program's behaviour as they
    can), filled up in draw order, and
    returns them in draw order, except that if the visible tests (the first `num_tests`) would
    all share one output, a held-out test with another output takes the last visible place.
    None if fewer valid inputs than needed were found, or all outputs are the same."""
    wanted = config.num_tests + config.num_held_out
    valid: list[tuple[dict[str, Value], Value]] = []
    keys: set = set()
    distinct: dict = {}  # output key -> index in valid of the first input giving it
    failures, allowed = 0, config.max_input_draws - wanted
    for _ in range(config.max_input_draws):
        candidate = _draw_inputs(r, signature, config)
        key = _input_key(candidate)
        if key in keys:
            continue
        keys.add(key)
        got = compiled.run(candidate)
        if isinstance(got, EvalError):
            failures += 1
            if failures > allowed:
                return None
            continue
        out_key = (type(got), tuple(got)) if isinstance(got, list) else (type(got), got)
        distinct.setdefault(out_key, len(valid))
        valid.append((candidate, got))
        if len(distinct) >= wanted or len(valid) >= 2 * wanted:
            break
    if len(valid) < wanted:
        return None
    chosen = set(list(distinct.values())[:wanted])
    for k in range(len(valid)):
        if len(chosen) == wanted:
            break
        chosen.add(k)
    picked = [valid[k] for k in sorted(chosen)]
    # The visible tests must not all share one output (a constant program would pass them).
    visible = config.num_tests
    first = picked[0][1]
    if visible > 1 and all(type(o) is type(first) and o == first for _, o in picked[1:visible]):
        for k in range(visible, len(picked)):
            if type(picked[k][1]) is not type(first) or picked[k][1] != first:
                picked[visible - 1], picked[k] = picked[k], picked[visible - 1]
                break
        else:
            return None
    return [i for i, _ in picked], [o for _, o in picked]


def _input_key(inputs: Mapping[str, Value]) -> tuple:
    return tuple(tuple(v) if isinstance(v, list) else v for v in inputs.values())


PROBE_COUNT = 24
_PROBE_SEED = "progrefine-probes-v1"


@lru_cache(maxsize=64)
def _probes(signature: tuple[tuple[str, str], ...]) -> tuple[dict[str, Value], ...]:
    digest = hashlib.sha256(f"{_PROBE_SEED}:{signature}".encode()).digest()
    r = random.Random(int.from_bytes(digest[:8], "big"))
    probes, seen = [], set()
    lengths = [0, 1, 2, *range(3, 11)]
    # One int alone has too few values in -3..10 for PROBE_COUNT distinct probes: it takes -10..30.
    low, high = (-10, 30) if signature == (signature[0],) and signature[0][1] == "int" else (-3, 10)
    while len(probes) < PROBE_COUNT:
        inputs: dict[str, Value] = {}
        for name, kind in signature:
            if kind == "list":
                n = lengths[len(probes)] if len(probes) < len(lengths) else r.randint(0, 10)
                inputs[name] = [r.randint(-10, 10) for _ in range(n)]
            else:
                inputs[name] = r.randint(low, high)
        key = _input_key(inputs)
        if key not in seen:
            seen.add(key)
            probes.append(inputs)
    return tuple(probes)


def probe_inputs(input_types: Mapping[str, str]) -> list[dict[str, Value]]:
    """The fixed probe inputs that `fingerprint` runs a program on, for one input signature
    (drawn once from a fixed seed: lists of length 0..10 with values in -10..10, ints in -3..10,
    or -10..30 for a signature of one int alone, the first lists of lengths 0, 1, 2, ...). The
    same for every config and every release of v0."""
    return [dict(p) for p in _probes(tuple(input_types.items()))]


def _fingerprint(compiled: Compiled | EvalError, signature: tuple[tuple[str, str], ...], out: str) -> str:
    if isinstance(compiled, EvalError):
        results: list = [f"!{compiled.kind}"] * PROBE_COUNT
    else:
        results = []
        for probe in _probes(signature):
            got = compiled.run(probe)
            results.append(f"!{got.kind}" if isinstance(got, EvalError) else got)
    text = json.dumps([[list(p) for p in signature], out, results], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def fingerprint(task_or_program: Task | Program, input_types: Mapping[str, str] | None = None) -> str:
    """The behaviour of a program: a hash of its input signature, its output type and its outputs
    (an error as its kind) on `probe_inputs(input_types)`. Two programs with one fingerprint are
    taken to be the same program. For a Task, `input_types` defaults to the task's."""
    if isinstance(task_or_program, Task):
        program = task_or_program.program
        input_types = task_or_program.input_types if input_types is None else input_types
    else:
        program = task_or_program
    if input_types is None:
        raise TypeError("fingerprint(program, input_types) needs the input types")
    signature = tuple(input_types.items())
    info = check(program, input_types) if program.complete else None
    out = {1: "int", 2: "bool", 4: "list"}.get(info.syn[0], "?") if info and info.well_typed else "?"
    return _fingerprint(compile_program(program, input_types), signature, out)


def _generate(r: random.Random, config: GeneratorConfig, seen: set[str] | None) -> tuple[Task, str] | None:
    signature = _draw_signature(r, config)
    grown = _grow_program(r, config, signature)
    if grown is None:
        return None
    program, kinds = grown
    names = [name for name, _ in signature]
    if _static_reason(program, names, config):
        return None
    compiled = Compiled(program)
    drawn = _draw_tests(r, compiled, signature, config)
    if drawn is None:
        return None
    inputs, outputs = drawn
    size = len(program)
    program, kinds, reason = _screen(
        program, kinds, inputs, outputs, config.reject_bypass, repair=True,
        static=lambda p: _static_reason(p, names, config),
    )  # fmt: skip
    if reason is not None:
        return None
    if len(program) != size:
        compiled = Compiled(program)
    fp = _fingerprint(compiled, signature, _KIND_NAME[kinds[0]])
    if seen is not None and fp in seen:
        return None
    if config.hold_back and passes_held_back(compiled, dict(signature), _KIND_NAME[kinds[0]]):
        return None
    tests = tuple(Test(i, o) for i, o in zip(inputs, outputs))
    task = Task("", dict(signature), program, tests[: config.num_tests], tests[config.num_tests :])
    return task, fp


def _draw_signature(r: random.Random, config: GeneratorConfig) -> tuple[tuple[str, str], ...]:
    if not config.signature_weights:
        return config.signatures[r.randrange(len(config.signatures))]
    cum = _cumulative(config.signature_weights)
    return config.signatures[bisect(cum, r.random() * cum[-1])]


def _rng_for(rng: np.random.Generator) -> random.Random:
    return random.Random(int(rng.integers(0, 2**63 - 1)))


def generate_task(rng: np.random.Generator, config: GeneratorConfig = GeneratorConfig()) -> Task | None:
    """One random task (unnamed), or None when the candidate drawn from `rng` was rejected.

    Deterministic in `rng`'s state; each call consumes one draw from it."""
    result = _generate(_rng_for(rng), config, None)
    return None if result is None else result[0]


GENERATOR_VERSION = 4
"""Bump whenever the tasks generated for a given seed and config change (it keys the corpus cache)."""

BLOCK_SIZE = 128
"""Candidates per block: `generate_tasks` draws candidates in blocks, each from its own seed, so
that blocks can run in parallel and the result does not depend on the number of workers."""


def _block_seed(seed: int, block: int) -> int:
    digest = hashlib.sha256(f"progrefine-generate:{seed}:{block}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _iter_block(seed: int, block: int, config: GeneratorConfig) -> Iterator[tuple[Task, str]]:
    """The tasks (with fingerprints) that block `block` of seed `seed` yields, first per behaviour."""
    r = random.Random(_block_seed(seed, block))
    seen: set[str] = set()
    for _ in range(BLOCK_SIZE):
        result = _generate(r, config, seen)
        if result is not None:
            seen.add(result[1])
            yield result


def _generate_block(seed: int, block: int, config: GeneratorConfig) -> list[tuple[Task, str]]:
    return list(_iter_block(seed, block, config))


def _blocks(seed: int, config: GeneratorConfig, workers: int) -> Iterator[Iterable[tuple[Task, str]]]:
    """The results of blocks 0, 1, 2, ... in order, computed lazily here or by `workers` processes."""
    pool = None
    if workers > 1:
        try:
            context = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        except (OSError, ValueError, AssertionError):  # e.g. inside a daemonic process
            pool = None
    if pool is None:
        block = 0
        while True:
            yield _iter_block(seed, block, config)
            block += 1
    try:
        pending: deque = deque()
        block = 0
        while True:
            while len(pending) < workers:
                pending.append(pool.submit(_generate_block, seed, block, config))
                block += 1
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def generate_tasks(
    count: int,
    seed: int = 0,
    config: GeneratorConfig = GeneratorConfig(),
    workers: int = 1,
    progress: bool = False,
) -> list[Task]:
    """`count` tasks with distinct behaviours (fingerprints), named `gen-{seed}-{k}`.

    The same `seed` and `config` give the same tasks whatever `workers` is: candidates are drawn
    in blocks of `BLOCK_SIZE`, each block from its own seed, and blocks are taken in order; the
    first program found for a behaviour is kept. `workers > 1` runs blocks in that many processes
    (falling back to one where processes cannot be started). `progress` prints a line now and then.

    Raises RuntimeError if the config admits too few behaviours to reach `count`."""
    return generate_tasks_with_fingerprints(count, seed, config, workers, progress)[0]


def generate_tasks_with_fingerprints(
    count: int,
    seed: int = 0,
    config: GeneratorConfig = GeneratorConfig(),
    workers: int = 1,
    progress: bool = False,
) -> tuple[list[Task], list[str]]:
    """`generate_tasks`, with the `fingerprint` of each task."""
    if count < 0:
        raise ValueError("count must be >= 0")
    tasks: list[Task] = []
    fps: list[str] = []
    seen: set[str] = set()
    barren, next_report = 0, 1000
    if count == 0:
        return tasks, fps
    for results in _blocks(seed, config, max(1, workers)):
        before = len(tasks)
        for task, fp in results:
            if fp in seen:
                continue
            seen.add(fp)
            fps.append(fp)
            tasks.append(Task(f"gen-{seed}-{len(tasks)}", task.input_types, task.program, task.tests,
                              task.held_out_tests))  # fmt: skip
            if len(tasks) == count:
                return tasks, fps
        barren = barren + 1 if len(tasks) == before else 0
        if barren >= 50:
            raise RuntimeError(f"only {len(tasks)} distinct behaviours found; the config admits too few")
        if progress and len(tasks) >= next_report:
            print(f"generate_tasks: {len(tasks)} / {count}", file=sys.stderr, flush=True)
            next_report += 1000
    raise AssertionError("unreachable")
