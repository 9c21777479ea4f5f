"""What a program's visible tests say about each of its nodes, computed without the target.

For every visible test: whether it passes and its error kind; for every node: how often failing
and passing runs reached it (spectrum-based fault localisation: the share of failing tests that
reached the node, and Ochiai's suspiciousness, Abreu et al. 2007), and a compact summary of the
first value it took on each test, beside the same summary of the test's expected output.

A program that cannot run (incomplete, or ill-typed) fails every test with kind `incomplete` or
`type`; its largest complete, closed, well-typed subtrees are still run, so an agent sees values
from round 0, and its failure signal marks the `<mask>` nodes and the nodes in type conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .lang import ERROR_KINDS, MASK, Compiled, EvalError, Program, check, values_equal
from .lang.types import VALUE, TypeInfo
from .lang.vocab import CONSTANTS, INPUT_IDS, INPUT_NAMES, LAM, LAM2, NIL, PARAM_A, PARAM_B
from .tasks.task import Test

VALUE_FEATURES = 14
"""Layout of a value summary: [evaluated, is_int, is_bool, is_list, scalar, wide, first three list
elements, last element, smallest element, largest element, sorted, equals the test's expected
output]. `scalar` is an int or bool clipped to [-10, 10] / 10, or a list's length / 10; `wide` is an
int, or a list's sum, clipped to [-100, 100] / 100, so that values past 10 stay distinct; elements
are clipped to [-10, 10] / 10; `sorted` is 1 for a non-decreasing list."""
CLIP = 10.0
WIDE_CLIP = 100.0

PASSED, WRONG = 0, 1
"""Test outcome codes: 0 passed, 1 ran but gave a wrong value, 2 + k the k-th of `ERROR_KINDS`."""
NUM_OUTCOMES = 2 + len(ERROR_KINDS)


def outcome_code(value, expected) -> int:
    if isinstance(value, EvalError):
        return 2 + ERROR_KINDS.index(value.kind)
    return PASSED if values_equal(value, expected) else WRONG


def summarize(value, expected) -> np.ndarray:
    """The `VALUE_FEATURES` summary of one value (None: not evaluated)."""
    row = _summary_row(value, expected)
    if row is None:
        return np.zeros(VALUE_FEATURES, dtype=np.float32)
    return _scaled(np.array(row, dtype=np.float64)).astype(np.float32)


def summarize_many(values: list, expected: list) -> np.ndarray:
    """`summarize(values[k], expected[k])` for every k, as one float32 array [k, VALUE_FEATURES]."""
    zeros = [0] * VALUE_FEATURES
    rows = [_summary_row(v, e) or zeros for v, e in zip(values, expected)]
    flat = np.array(rows, dtype=np.float64).reshape(len(rows), VALUE_FEATURES)
    return _scaled(flat).astype(np.float32)


def _summary_row(value, expected) -> list | None:
    """The summary of one value before clipping and scaling (None for the all-zero summary): a
    list of Python numbers, built with C-level builtins only, because it runs for every node on
    every test; `_scaled` clips and scales many rows at once."""
    kind = type(value)
    if kind is not list and kind is not int:  # the rarer kinds: none, an error, a bool
        if value is None or isinstance(value, EvalError):
            return None
        if isinstance(value, bool):
            same = float(value == expected and values_equal(value, expected))
            return [1, 0, 1, 0, CLIP * value, WIDE_CLIP * value, 0, 0, 0, 0, 0, 0, 0, same]  # scaled to 0 or 1
        kind = int if isinstance(value, int) else list
    same = float(value == expected and values_equal(value, expected))
    if kind is int:
        return [1, 1, 0, 0, value, value, 0, 0, 0, 0, 0, 0, 0, same]
    if not value:
        return [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, same]
    head = (value[:3] + [0, 0])[:3]
    return [1, 0, 0, 1, len(value), sum(value), *head, value[-1], min(value), max(value), value == sorted(value), same]


_BOUNDS = np.array([1, 1, 1, 1, CLIP, WIDE_CLIP, CLIP, CLIP, CLIP, CLIP, CLIP, CLIP, 1, 1], dtype=np.float64)
"""Per feature: raw values are clipped to [-bound, bound] and divided by it (flags have bound 1)."""


def _scaled(rows: np.ndarray) -> np.ndarray:
    """Raw summary rows ([..., VALUE_FEATURES]) clipped and scaled into [-1, 1]. A list's length
    is never negative, so its clipping to [-10, 10] is the documented min(len, 10)."""
    # np.minimum(np.maximum(...)) is np.clip without its Python-level dispatch.
    return np.minimum(np.maximum(rows, _NEGATIVE_BOUNDS), _BOUNDS) / _BOUNDS


_NEGATIVE_BOUNDS = -_BOUNDS


@dataclass(frozen=True)
class Feedback:
    """Results of running the visible tests on one program.

    Shapes (n nodes, T tests, F = VALUE_FEATURES):
        outcomes: [T] outcome codes (0 passed, 1 wrong value, 2+k error kind k).
        reached_failing: [n] number of failing tests whose run reached the node.
        reached_passing: [n] number of passing tests whose run reached the node.
        node_values: [n, T, F] summary of the first value each node took on each test.
        info: the program's type information (grammar masks).
        conflicts: nodes whose token lies outside their grammar mask (computed once here, read by
            the observation, `info` and the failure signal).
    """

    outcomes: np.ndarray
    reached_failing: np.ndarray
    reached_passing: np.ndarray
    node_values: np.ndarray
    info: TypeInfo
    conflicts: list[int]

    @property
    def passed(self) -> np.ndarray:
        return self.outcomes == PASSED

    @cached_property
    def num_passed(self) -> int:
        return int(np.count_nonzero(self.outcomes == PASSED))

    @cached_property
    def failure_share(self) -> np.ndarray:
        """[n] share of failing tests whose run reached each node (0 when no test fails); read-only."""
        failing = len(self.outcomes) - self.num_passed
        share = self.reached_failing / failing if failing else np.zeros_like(self.reached_failing)
        return _read_only(share)

    @cached_property
    def ochiai(self) -> np.ndarray:
        """[n] Ochiai suspiciousness: failed(n) / sqrt(total_failed * (failed(n) + passed(n))); read-only."""
        failing = len(self.outcomes) - self.num_passed
        denominator = np.sqrt(failing * (self.reached_failing + self.reached_passing))
        return _read_only(
            np.divide(self.reached_failing, denominator, out=np.zeros_like(self.reached_failing), where=denominator > 0)
        )


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def run_tests(
    program: Program,
    input_types: dict[str, str],
    tests: tuple[Test, ...],
    info: TypeInfo | None = None,
    subtree_values: dict | None = None,
) -> Feedback:
    """Run `tests` on `program` and summarise the results per test and per node.

    `info`, when given, must be `check(program, input_types)` (a caller that has it saves a check).
    `subtree_values`, when given, is a dict in which the values of the subtrees run for a program
    that cannot run (incomplete or ill-typed) are kept by the subtree's tokens, so that a subtree
    that did not change since an earlier call is not run again; keep one dict per set of `tests`
    (the environment keeps one per episode), never share it between tasks."""
    if info is None:
        info = check(program, input_types)
    conflicts = info.conflicts(program.tokens)
    n, t = len(program), len(tests)
    node_values = np.zeros((n, t, VALUE_FEATURES), dtype=np.float32)
    reached = np.zeros((n, t), dtype=bool)
    if program.complete and info.well_typed:
        compiled = Compiled(program, trace=True)
        outcomes = np.empty(t, dtype=np.int64)
        values, hits = _Scatter(), _Scatter()
        for k, test in enumerate(tests):
            value = compiled.run(test.inputs)
            outcomes[k] = outcome_code(value, test.output)
            _record(compiled, 0, k, test.output, values, hits)
        if hits.nodes:
            reached[hits.nodes, hits.tests] = True
        nodes, at, rows = values.arrays()
        node_values[nodes, at] = rows
    else:
        kind = "incomplete" if not program.complete else "type"
        outcomes = np.full(t, 2 + ERROR_KINDS.index(kind), dtype=np.int64)
        tokens, end = program.tokens, program.shape.end
        for root in _runnable_subtrees(program, info):
            stop = end[root]
            key = tokens[root:stop]
            block = subtree_values.get(key) if subtree_values is not None else None
            if block is None:
                block = _subtree_block(program, root, stop, tests)
                if subtree_values is not None:
                    subtree_values[key] = block
            node_values[root:stop] = block
        # The tests fail because the program cannot run, not because of what ran: the failure
        # signal points at the holes and the type conflicts instead of the spectrum (every test
        # fails, so each of those nodes was reached by all of them and by no passing one).
        flagged = [i for i, tok in enumerate(tokens) if tok == MASK]
        reached_failing = np.zeros(n, dtype=np.float32)
        reached_failing[flagged + conflicts] = t
        feedback = Feedback(outcomes, reached_failing, np.zeros(n, dtype=np.float32), node_values, info, conflicts)
        # Every test fails and no passing test reached anything: both the failure share (t / t)
        # and Ochiai (t / sqrt(t * t)) are exactly 1 at the flagged nodes and 0 elsewhere.
        spectrum = _read_only((reached_failing > 0).astype(np.float32))
        feedback.__dict__["failure_share"] = feedback.__dict__["ochiai"] = spectrum
        return feedback
    failing = outcomes != PASSED
    return Feedback(
        outcomes=outcomes,
        reached_failing=(reached & failing).sum(axis=1).astype(np.float32),
        reached_passing=(reached & ~failing).sum(axis=1).astype(np.float32),
        node_values=node_values,
        info=info,
        conflicts=conflicts,
    )


def _subtree_block(program: Program, root: int, stop: int, tests: tuple[Test, ...]) -> np.ndarray:
    """[stop - root, T, VALUE_FEATURES] summaries of the first value each node of the runnable
    subtree at `root` took on each test (zeros where it took none)."""
    tok = program.tokens[root]
    if stop == root + 1 and (tok in CONSTANTS or tok == NIL or tok in INPUT_IDS):
        # A leaf takes one value per test, the one the interpreter would give it: no compiling.
        if tok in INPUT_IDS:
            name = INPUT_NAMES[INPUT_IDS.index(tok)]
            values = [test.inputs.get(name) for test in tests]
        else:
            values = [CONSTANTS[tok] if tok != NIL else [] for _ in tests]
        return summarize_many(values, [test.output for test in tests]).reshape(1, len(tests), VALUE_FEATURES)
    # A subtree of a valid program is a valid program: built without checking it again.
    subtree = object.__new__(Program)
    object.__setattr__(subtree, "tokens", program.tokens[root:stop])
    object.__setattr__(subtree, "arities", program.arities[root:stop])
    compiled, t = Compiled(subtree, trace=True), len(tests)
    rows: list = [_NO_ROW] * ((stop - root) * t)  # node-major, as the block
    for k, test in enumerate(tests):
        compiled.run(test.inputs)
        expected = test.output
        for i, taken in enumerate(compiled.values):
            if taken:
                rows[i * t + k] = _summary_row(taken[0], expected) or _NO_ROW
    flat = np.array(rows, dtype=np.float64).reshape(stop - root, t, VALUE_FEATURES)
    return _scaled(flat).astype(np.float32)


_NO_ROW = [0] * VALUE_FEATURES
"""The raw summary of a value not taken (scaled, all zeros)."""


class _Scatter:
    """(node, test) index lists and, for values, their summary rows laid end to end: gathered in
    Python, then turned into arrays and written in one assignment."""

    __slots__ = ("nodes", "tests", "flat")

    def __init__(self) -> None:
        self.nodes: list[int] = []
        self.tests: list[int] = []
        self.flat: list[float] = []

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Node indices [k], test indices [k] and rows [k, VALUE_FEATURES] (float64; rounded to
        float32 once, where they are written)."""
        rows = _scaled(np.array(self.flat, dtype=np.float64).reshape(-1, VALUE_FEATURES))
        return np.array(self.nodes, dtype=np.intp), np.array(self.tests, dtype=np.intp), rows


def _record(compiled: Compiled, offset: int, test: int, expected, values: _Scatter, hits: _Scatter | None):
    """Gather a traced run of test `test`: the first value each node took (as a summary row, for
    node `offset + i`) into `values`, and the nodes it reached into `hits` (unless None)."""
    for i, (count, taken) in enumerate(zip(compiled.reached, compiled.values)):
        if count:
            if hits is not None:
                hits.nodes.append(offset + i)
                hits.tests.append(test)
            if taken:
                row = _summary_row(taken[0], expected)
                if row is not None:
                    values.nodes.append(offset + i)
                    values.tests.append(test)
                    values.flat.extend(row)


def _runnable_subtrees(program: Program, info: TypeInfo) -> list[int]:
    """Roots of the largest subtrees that are complete, closed and well-typed on their own.

    Read off the whole program's type information, without checking each subtree again: a
    subtree's type set does not depend on its context (parameters count as bound), and for a
    closed subtree (every `a`/`b` in it bound by a lambda in it) the whole program's `syn` is that
    set, so the subtree is well-typed on its own exactly when it holds a value type."""
    tokens, shape = program.tokens, program.shape
    children, n = shape.children, len(tokens)
    # Bottom-up, one bit set per node: the subtree holds a `<mask>` (1), an `a` (2) or a `b` (4)
    # that no lambda inside it binds.
    flags = [0] * n
    for i in range(n - 1, -1, -1):
        tok = tokens[i]
        if tok == MASK:
            flags[i] = _HOLED
            continue
        kids = children[i]
        if kids:
            f = 0
            for c in kids:
                f |= flags[c]
            if tok == LAM:
                f &= ~_FREE_A
            elif tok == LAM2:
                f &= ~(_FREE_A | _FREE_B)
            flags[i] = f
        elif tok == PARAM_A:
            flags[i] = _FREE_A
        elif tok == PARAM_B:
            flags[i] = _FREE_B
    roots, end, syn, i = [], shape.end, info.syn, 0
    while i < n:
        if not flags[i] and syn[i] & VALUE:
            roots.append(i)
            i = end[i]
        else:
            i += 1
    return roots


_HOLED, _FREE_A, _FREE_B = 1, 2, 4
