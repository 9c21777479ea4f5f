"""Fillings of a subtree and how a parent's values are composed from its children's.

A `Filling` is one way to fill a subtree's holes, kept as the representative of its observational
class: its token, its children's fillings, and its value in every cell of its binding context
(`cells.Cells`). Values are composed bottom-up with the interpreter's own operators, so a composed
value is what a run of the program computes:

- an error is a value (`EvalError`), passed up by the first child that has one, in the
  interpreter's left-to-right order; `if` looks only at the branch its condition chooses;
- a higher-order token runs its lambda's filling, compiled into the interpreter's node closures,
  on the real arguments of each cell (with the enclosing `b` when a `lam` sits in a `lam2`);
- fuel (LANGUAGE.md: 10,000 evaluation steps a test) is counted per cell for every subtree holding
  a higher-order token. A subtree without one takes at most as many steps as it has nodes, and
  that bound stands in for its count: only a run ending within a few dozen steps of the limit can
  be judged differently than by the interpreter, and every match is confirmed by the env's runner.
"""

from __future__ import annotations

from collections.abc import Callable

from ..lang.interpreter import (
    FUEL,
    HIGHER_ORDER,
    OPERATORS,
    EvalError,
    EvalFailure,
    EvalState,
    node_closure,
)
from ..lang.types import BOOL, FN1, FN2, INT, LIST, PRED, SIGNATURES
from ..lang.vocab import CONSTANTS, IF, INPUT_IDS, LAM, LAM2, NIL, PARAM_A, PARAM_B, VOCAB
from .cells import Cells

_ERRORS: dict[str, EvalError] = {}
VALUE_TYPES = (INT, BOOL, LIST)


def error(kind: str) -> EvalError:
    """The one `EvalError` of each kind (errors are values: shared, compared by kind)."""
    found = _ERRORS.get(kind)
    if found is None:
        found = _ERRORS[kind] = EvalError(kind)
    return found


FUEL_ERROR = error("fuel")


class Filling:
    """One filling of a subtree: the representative of its class at one node and context.

    Attributes:
        token: the node's token.
        kids: the children's fillings (a lambda's: its body's).
        values: the value in each cell (a lambda: its body's values in the body's cells).
        steps: evaluation steps per cell, or None when the subtree holds no higher-order token
            (then at most `size` steps).
        size: nodes in the subtree.
        type: the type bit (`lang.types`: INT, BOOL, LIST, FN1, PRED, FN2).
        level: the cost level at which it was found (sum of its tokens' levels).
    """

    __slots__ = ("token", "kids", "values", "steps", "size", "type", "level", "_closure")

    def __init__(self, token: int, kids: tuple, values: tuple, steps, typ: int, level: int) -> None:
        self.token, self.kids, self.values, self.steps, self.type, self.level = token, kids, values, steps, typ, level
        self.size = 1 + sum(k.size for k in kids)
        self._closure: Callable | None = None

    def closure(self, state: EvalState) -> Callable:
        """The interpreter's closure `f(a, b)` of this subtree (compiled once, on first use)."""
        if self._closure is None:
            if self.token in (LAM, LAM2):
                self._closure = self.kids[0].closure(state)
            else:
                self._closure = node_closure(self.token, [k.closure(state) for k in self.kids], state)
        return self._closure

    def key(self) -> tuple:
        """The class key: the type and the values (lists as tuples; a lambda: its body's class)."""
        if self.type in (FN1, PRED, FN2):
            return (self.type, id(self.kids[0]))
        if self.type == LIST:
            return (LIST, tuple(v if type(v) is EvalError else tuple(v) for v in self.values))
        return (self.type, self.values)


def typings(token: int, context: int, signature: tuple[int, int, int]) -> tuple[tuple[tuple[int, ...], int], ...]:
    """(children's types, result type) the token can have in `context`; () where it cannot stand."""
    if token in (PARAM_A, PARAM_B):
        bound = context >= 1 if token == PARAM_A else context == 2
        return (((), INT),) if bound else ()
    if token in INPUT_IDS:
        declared = signature[INPUT_IDS.index(token)]
        return (((), declared),) if declared else ()
    if token == IF:
        return tuple(((BOOL, t, t), t) for t in VALUE_TYPES)
    if token == LAM:
        return (((INT,), FN1), ((BOOL,), PRED))
    if token == LAM2:
        return (((INT,), FN2),)
    return (SIGNATURES[token],)


def inner_context(token: int, context: int) -> int:
    """The binding context a token gives its children (LANGUAGE.md: `lam` rebinds only `a`)."""
    if token == LAM:
        return max(context, 1)
    return 2 if token == LAM2 else context


def leaf_values(token: int, cells: Cells) -> tuple:
    """An atom's value in every cell."""
    if token in CONSTANTS:
        return (CONSTANTS[token],) * len(cells)
    if token == NIL:
        return ([],) * len(cells)  # shared: no operator mutates its arguments
    if token == PARAM_A:
        return cells.a
    if token == PARAM_B:
        return cells.b
    slot = INPUT_IDS.index(token)
    return tuple(inputs[slot] for inputs in cells.inputs)


def compose(token: int, kids: tuple[Filling, ...], cells: Cells, state: EvalState) -> tuple[tuple, tuple | None]:
    """A non-atom's (values, steps) in every cell from its children's fillings."""
    if token in (LAM, LAM2):
        return kids[0].values, kids[0].steps
    name = VOCAB[token]
    if name in HIGHER_ORDER:
        return _higher_order(HIGHER_ORDER[name], kids, cells, state)
    if any(k.steps is not None for k in kids):
        return _counted(token, kids, len(cells))
    if token == IF:
        cond, then, other = (k.values for k in kids)
        return tuple(c if type(c) is EvalError else (t if c else o) for c, t, o in zip(cond, then, other)), None
    op = OPERATORS[name]
    if len(kids) == 1:
        return tuple(_unary(op, v) for v in kids[0].values), None
    return tuple(_binary(op, v, w) for v, w in zip(kids[0].values, kids[1].values)), None


def _unary(op: Callable, v):
    if type(v) is EvalError:
        return v
    try:
        return op(v)
    except EvalFailure as failure:
        return error(failure.kind)


def _binary(op: Callable, v, w):
    if type(v) is EvalError:
        return v
    if type(w) is EvalError:
        return w
    try:
        return op(v, w)
    except EvalFailure as failure:
        return error(failure.kind)


def _steps(kid: Filling, k: int) -> int:
    return kid.size if kid.steps is None else kid.steps[k]


def _arguments(kids: tuple[Filling, ...], k: int) -> tuple[int, EvalError | None, list]:
    """Cell `k`'s children evaluated left to right: 1 + their steps, the first error (None if
    none; the children after it are not evaluated), and the values before it."""
    used, args = 1, []
    for kid in kids:
        used += _steps(kid, k)
        v = kid.values[k]
        if type(v) is EvalError:
            return used, v, args
        args.append(v)
    return used, None, args


def _counted(token: int, kids: tuple[Filling, ...], count: int) -> tuple[tuple, tuple]:
    """A first-order node or `if` over children of which some count their steps: per cell, the
    value and 1 + the steps of the children evaluated (a fuel error past FUEL)."""
    op = None if token == IF else OPERATORS[VOCAB[token]]
    values, steps = [], []
    for k in range(count):
        used, value, args = _arguments(kids[:1] if token == IF else kids, k)
        if value is None and token == IF:
            branch = kids[1] if args[0] else kids[2]
            used += _steps(branch, k)
            value = branch.values[k]
        elif value is None:
            value = _unary(op, args[0]) if len(args) == 1 else _binary(op, args[0], args[1])
        values.append(FUEL_ERROR if used > FUEL else value)
        steps.append(used)
    return tuple(values), tuple(steps)


def _higher_order(op: Callable, kids: tuple[Filling, ...], cells: Cells, state: EvalState) -> tuple[tuple, tuple]:
    """`op(fn, *args, b)` in every cell, the lambda's body run by the interpreter's closures with
    the fuel the cell has left, so that fuel runs out exactly where a run's would."""
    fn = kids[0].closure(state)
    values, steps = [], []
    for k in range(len(cells)):
        used, value, args = _arguments(kids[1:], k)
        if value is None and used <= FUEL:
            state.inputs, state.fuel = cells.inputs[k], FUEL - used
            try:
                value = op(fn, *args, cells.b[k])
            except EvalFailure as failure:
                value = error(failure.kind)
            except RecursionError:  # deeper than this process's stack allows: the runner decides
                value = FUEL_ERROR
            used += FUEL - used - state.fuel
        values.append(FUEL_ERROR if used > FUEL else value)
        steps.append(used)
    return tuple(values), tuple(steps)
