"""The interpreter of LANGUAGE.md, "Semantics": strict, left to right, with limits.

A program is compiled once into nested Python closures (one per node, built bottom-up without
recursion) and then run on each test's inputs. Errors are values (`EvalError`), never exceptions
that reach the caller: running a program can only compute a value.

The values, their limits and `EvalError` are in `lang.values`, the operators on evaluated values
in `lang.operations`; this module compiles and runs programs. It also offers their public names
where they have always been imported from (each `import x as x` below is such a re-export).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from functools import lru_cache

from .operations import _HIGHER_ORDER, _HIGHER_ORDER3, _OPS, _Fail
from .program import Program, shape_of
from .types import check, input_signature
from .values import ERROR_KINDS as ERROR_KINDS
from .values import FUEL, EvalError, Value, input_error, value_type
from .values import INT_MAX as INT_MAX
from .values import INT_MIN as INT_MIN
from .values import MAX_LIST_LENGTH as MAX_LIST_LENGTH
from .values import values_equal as values_equal
from .vocab import CONSTANTS, INPUT_IDS, INPUT_NAMES, LAM, LAM2, MASK, PARAM_A, PARAM_B, VOCAB


class _State:
    """Per-run mutable state shared by a compiled program's closures."""

    __slots__ = ("fuel", "inputs", "reached", "values")

    def __init__(self) -> None:
        self.fuel = FUEL
        self.inputs: list = [None, None, None]
        self.reached: list[int] = []
        self.values: list[list] = []


Hook = Callable[[Value], Value]
_FRAMES_PER_LEVEL = 8
"""Python frames one level of a program can take at most while it runs: the node's closure, a
trace and a hook wrapper, a higher-order operator, a comprehension or generator, a lambda body."""


class Compiled:
    """A complete, well-typed program ready to run on many inputs.

    Args:
        program: the program (must be complete and well-typed; `compile_program` checks).
        trace: record, per node, how often it was evaluated and every value it took.
        hooks: node -> function applied to that node's value each time it is computed (used to
            perturb a subtree, e.g. to find dead code).
    """

    def __init__(self, program: Program, trace: bool = False, hooks: Mapping[int, Hook] | None = None):
        self.program, self.trace = program, trace
        self._state = _State()
        self._root = _build(program, self._state, trace, hooks or {})

    def run(self, inputs: Mapping[str, Value]) -> Value | EvalError:
        """The program's value on `inputs` ({"x": [...], ...}), or the error that ended the run.

        The result does not depend on how deep in the Python stack the caller is: a run that
        meets Python's recursion limit is run again with the limit raised for it."""
        try:
            return self._start(inputs)
        except _Fail as fail:
            return EvalError(fail.kind)
        except RecursionError:
            return self._run_with_room(inputs)

    def _start(self, inputs: Mapping[str, Value]) -> Value:
        st = self._state
        st.fuel = FUEL
        st.inputs = [inputs.get(name) for name in INPUT_NAMES]
        if self.trace:
            n = len(self.program)
            st.reached, st.values = [0] * n, [[] for _ in range(n)]
        return self._root(0, 0)

    def _run_with_room(self, inputs: Mapping[str, Value]) -> Value | EvalError:
        """Run again with the recursion limit raised above the caller's depth by what this
        program can need: a bounded number of frames per level (`MAX_DEPTH` bounds the levels)."""
        depth, frame = 0, sys._getframe()
        while frame is not None:
            depth, frame = depth + 1, frame.f_back
        wanted = depth + _FRAMES_PER_LEVEL * (max(self.program.shape.depth) + 1) + 100
        previous = sys.getrecursionlimit()
        sys.setrecursionlimit(max(previous, wanted))
        try:
            return self._start(inputs)
        except _Fail as fail:
            return EvalError(fail.kind)
        except RecursionError:  # only if another thread lowered the limit meanwhile
            return EvalError("fuel")
        finally:
            if sys.getrecursionlimit() == max(previous, wanted):
                sys.setrecursionlimit(previous)

    @property
    def reached(self) -> list[int]:
        """After a traced run: how many times each node was evaluated."""
        return self._state.reached

    @property
    def values(self) -> list[list]:
        """After a traced run: every value each node took, in evaluation order."""
        return self._state.values


def _build(program: Program, st: _State, trace: bool, hooks: Mapping[int, Hook]):
    """One closure `f(a, b)` per node, bottom-up (children before parents, no recursion)."""
    tokens, shape = program.tokens, shape_of(program.arities)
    closures: list = [None] * len(tokens)
    for i in range(len(tokens) - 1, -1, -1):
        tok = tokens[i]
        if tok in (LAM, LAM2):
            closures[i] = closures[shape.children[i][0]]  # a lambda is its body, applied by its parent
            continue
        f = _node(tok, [closures[c] for c in shape.children[i]], st)
        if i in hooks:
            f = _hooked(f, hooks[i])
        if trace:
            f = _traced(f, i, st)
        closures[i] = f
    return closures[0]


def _hooked(f, hook):
    return lambda a, b: hook(f(a, b))


def _traced(f, i, st):
    def traced(a, b):
        st.reached[i] += 1
        value = f(a, b)
        st.values[i].append(value)
        return value

    return traced


def _node(tok: int, kids: list, st: _State):  # noqa: C901 - one case per token family
    name = VOCAB[tok]

    def tick() -> None:
        st.fuel -= 1
        if st.fuel < 0:
            raise _Fail("fuel")

    if tok in CONSTANTS:
        value = CONSTANTS[tok]
        return lambda a, b: tick() or value
    if name == "nil":
        return lambda a, b: tick() or []
    if tok in INPUT_IDS:
        slot = INPUT_IDS.index(tok)
        return lambda a, b: tick() or st.inputs[slot]
    if tok == PARAM_A:
        return lambda a, b: tick() or a
    if tok == PARAM_B:
        return lambda a, b: tick() or b
    if name == "if":
        cond, then, other = kids
        return lambda a, b: tick() or (then(a, b) if cond(a, b) else other(a, b))
    if name in _HIGHER_ORDER:
        op, fn, xs = _HIGHER_ORDER[name], kids[0], kids[1]
        return lambda a, b: tick() or op(fn, xs(a, b), b)
    if name in _HIGHER_ORDER3:
        op, fn, k1, k2 = _HIGHER_ORDER3[name], kids[0], kids[1], kids[2]
        return lambda a, b: tick() or op(fn, k1(a, b), k2(a, b), b)
    op = _OPS[name]
    if len(kids) == 1:
        (k,) = kids
        return lambda a, b: tick() or op(k(a, b))
    left, right = kids
    return lambda a, b: tick() or op(left(a, b), right(a, b))


def _compile_checked(program: Program, signature: tuple[int, int, int]) -> Compiled | EvalError:
    if MASK in program.tokens:
        return EvalError("incomplete")
    if not check(program, signature).well_typed:
        return EvalError("type")
    return Compiled(program)


_compile_cached = lru_cache(maxsize=512)(_compile_checked)
_CACHED_NODES = 256
"""Larger programs are compiled afresh each time: a few of them would fill the cache's memory."""


def compile_program(program: Program, input_types: Mapping[str, str]) -> Compiled | EvalError:
    """Check `program` and compile it, or say why it cannot run (`incomplete` or `type`)."""
    if not isinstance(program, Program):
        raise TypeError(f"expected a Program, got {type(program).__name__} (parse text with `parse`)")
    compile_ = _compile_cached if len(program) <= _CACHED_NODES else _compile_checked
    return compile_(program, input_signature(input_types))


def evaluate(program: Program, inputs: Mapping[str, Value]) -> Value | EvalError:
    """Run `program` on `inputs`; the input types are those of the values given.

    Returns the value, or an `EvalError` whose kind says why the run failed. Never raises for
    anything the program does; raises `ValueError` only for inputs that are not a mapping of
    ints or lists of ints within the language's limits, and `TypeError` for a `program` that is
    not a `Program`.
    """
    problem = input_error(inputs)
    if problem:
        raise ValueError(problem)
    types = {name: value_type(value) for name, value in inputs.items()}
    compiled = compile_program(program, types)  # type: ignore[arg-type]
    return compiled if isinstance(compiled, EvalError) else compiled.run(inputs)


# The pieces a bottom-up search composes values from (progrefine_env.search): the same operators
# and node closures the interpreter runs, so that a composed value is the one a run computes.
EvalFailure = _Fail
"""Raised inside an operator or a node closure when a run fails; `.kind` is an `ERROR_KINDS` entry."""
EvalState = _State
"""The mutable state node closures share: `fuel` (steps left) and `inputs` (x, y, z values)."""
OPERATORS: Mapping[str, Callable] = _OPS
"""Strict first-order operators by token name, on evaluated arguments (raise `EvalFailure`)."""
HIGHER_ORDER: Mapping[str, Callable] = {**_HIGHER_ORDER, **_HIGHER_ORDER3}
"""Higher-order operators by token name: `op(fn, *lists_or_init, b)`, `fn(a, b)` a lambda body closure."""


def node_closure(token: int, children: list, state: EvalState) -> Callable:
    """The closure `f(a, b)` of one node over its children's closures (a lambda's closure is its
    body's: pass the body's). Each call ticks `state.fuel`, as a run of a compiled program does."""
    return _node(token, children, state)
