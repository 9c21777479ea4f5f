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

import numpy as np

from .lang import ERROR_KINDS, INT_MAX, MASK, Compiled, EvalError, Program, check, values_equal
from .lang.types import TypeInfo
from .tasks.task import Test

VALUE_FEATURES = 9
"""Layout of a value summary: [evaluated, is_int, is_bool, is_list, scalar, first three list
elements, equals the test's expected output]. Scalars and elements are clipped to [-10, 10] and
divided by 10; a list's scalar is its length / 10."""
CLIP = 10.0

PASSED, WRONG = 0, 1
"""Test outcome codes: 0 passed, 1 ran but gave a wrong value, 2 + k the k-th of `ERROR_KINDS`."""
NUM_OUTCOMES = 2 + len(ERROR_KINDS)


def outcome_code(value, expected) -> int:
    if isinstance(value, EvalError):
        return 2 + ERROR_KINDS.index(value.kind)
    return PASSED if values_equal(value, expected) else WRONG


def summarize(value, expected) -> np.ndarray:
    """The `VALUE_FEATURES` summary of one value (None: not evaluated)."""
    out = np.zeros(VALUE_FEATURES, dtype=np.float32)
    if value is None or isinstance(value, EvalError):
        return out
    out[0] = 1.0
    if isinstance(value, bool):
        out[2], out[4] = 1.0, float(value)
    elif isinstance(value, int):
        out[1], out[4] = 1.0, max(-CLIP, min(CLIP, value)) / CLIP
    else:
        out[3], out[4] = 1.0, min(len(value), CLIP) / CLIP
        for k, e in enumerate(value[:3]):
            out[5 + k] = max(-CLIP, min(CLIP, e)) / CLIP
    out[8] = float(values_equal(value, expected))
    return out


@dataclass(frozen=True)
class Feedback:
    """Results of running the visible tests on one program.

    Shapes (n nodes, T tests, F = VALUE_FEATURES):
        outcomes: [T] outcome codes (0 passed, 1 wrong value, 2+k error kind k).
        reached_failing: [n] number of failing tests whose run reached the node.
        reached_passing: [n] number of passing tests whose run reached the node.
        node_values: [n, T, F] summary of the first value each node took on each test.
        info: the program's type information (grammar masks, conflicts).
    """

    outcomes: np.ndarray
    reached_failing: np.ndarray
    reached_passing: np.ndarray
    node_values: np.ndarray
    info: TypeInfo

    @property
    def passed(self) -> np.ndarray:
        return self.outcomes == PASSED

    @property
    def num_passed(self) -> int:
        return int(self.passed.sum())

    @property
    def failure_share(self) -> np.ndarray:
        """[n] share of failing tests whose run reached each node (0 when no test fails)."""
        failing = len(self.outcomes) - self.num_passed
        return self.reached_failing / failing if failing else np.zeros_like(self.reached_failing)

    @property
    def ochiai(self) -> np.ndarray:
        """[n] Ochiai suspiciousness: failed(n) / sqrt(total_failed * (failed(n) + passed(n)))."""
        failing = len(self.outcomes) - self.num_passed
        denominator = np.sqrt(failing * (self.reached_failing + self.reached_passing))
        return np.divide(
            self.reached_failing, denominator, out=np.zeros_like(self.reached_failing), where=denominator > 0
        )


def run_tests(program: Program, input_types: dict[str, str], tests: tuple[Test, ...]) -> Feedback:
    """Run `tests` on `program` and summarise the results per test and per node."""
    info = check(program, input_types)
    n, t = len(program), len(tests)
    node_values = np.zeros((n, t, VALUE_FEATURES), dtype=np.float32)
    reached = np.zeros((n, t), dtype=bool)
    if program.complete and info.well_typed:
        compiled = Compiled(program, trace=True)
        outcomes = np.empty(t, dtype=np.int64)
        for k, test in enumerate(tests):
            value = compiled.run(test.inputs)
            outcomes[k] = outcome_code(value, test.output)
            _record(compiled, 0, test.output, node_values[:, k], reached[:, k])
    else:
        kind = "incomplete" if not program.complete else "type"
        outcomes = np.full(t, 2 + ERROR_KINDS.index(kind), dtype=np.int64)
        for root in _runnable_subtrees(program, input_types):
            compiled = Compiled(program.subtree(root), trace=True)
            for k, test in enumerate(tests):
                compiled.run(test.inputs)
                _record(compiled, root, test.output, node_values[:, k], reached[:, k])
        # The tests fail because the program cannot run, not because of what ran: the failure
        # signal points at the holes and the type conflicts instead of the spectrum.
        reached[:] = False
        reached[[i for i, tok in enumerate(program.tokens) if tok == MASK]] = True
        reached[info.conflicts(program.tokens)] = True
    failing = outcomes != PASSED
    return Feedback(
        outcomes=outcomes,
        reached_failing=(reached & failing).sum(axis=1).astype(np.float32),
        reached_passing=(reached & ~failing).sum(axis=1).astype(np.float32),
        node_values=node_values,
        info=info,
    )


def _record(compiled: Compiled, offset: int, expected, values_out: np.ndarray, reached_out: np.ndarray):
    """Copy a traced run's per-node reach and first values into rows `offset...` of the outputs."""
    for i, (count, values) in enumerate(zip(compiled.reached, compiled.values)):
        if count:
            reached_out[offset + i] = True
            if values:
                values_out[offset + i] = summarize(values[0], expected)


def _runnable_subtrees(program: Program, input_types: dict[str, str]) -> list[int]:
    """Roots of the largest subtrees that are complete, closed and well-typed on their own."""
    roots, shape, i = [], program.shape, 0
    while i < len(program):
        end = shape.end[i]
        if program.arities[i] or program.tokens[i] != MASK:
            sub = program.subtree(i)
            if sub.complete and check(sub, input_types).well_typed:
                roots.append(i)
                i = end
                continue
        i += 1
    return roots


assert INT_MAX > CLIP
