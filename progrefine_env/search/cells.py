"""Where a sketch search evaluates a subtree: one cell per visible test, and inside a lambda body
one cell per test and probe value of the parameters.

A subtree in binding context 0 (nothing bound) has one value per visible test. Inside a lambda
body its value also depends on `a` (context 1) or on `a` and `b` (context 2), so it is evaluated on
a few fixed probe values of them per test: small integers first, then the integers of that test's
inputs (int inputs and the first elements of list inputs). Two fillings that agree on every cell
are one *observational class* for the search. Probes are fixed, never drawn, so a search is
deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..lang.vocab import INPUT_NAMES
from ..tasks.task import Test

SMALL_INTS = (0, 1, -1, 2, 3)
"""Probe values every test gets, first."""
PROBES_A = 9
"""Probe values of `a` per test in context 1."""
PROBES_AB = 5
"""Probe values of each of `a` and `b` per test in context 2 (their product: 25 pairs)."""
ELEMENTS_PER_LIST = 4
"""Leading elements of each list input that join the probes."""


@dataclass(frozen=True)
class Cells:
    """The cells of one binding context.

    Attributes:
        tests: the visible test of each cell (its index).
        a, b: the parameters' probe values in each cell (None where unbound).
        inputs: each cell's test inputs as the interpreter's `[x, y, z]` slots.
    """

    tests: tuple[int, ...]
    a: tuple[int | None, ...]
    b: tuple[int | None, ...]
    inputs: tuple[list, ...]

    def __len__(self) -> int:
        return len(self.tests)


def probe_values(test: Test) -> list[int]:
    """The fixed probe values of one test, small integers first, without repeats."""
    values = list(SMALL_INTS)
    for name in INPUT_NAMES:
        value = test.inputs.get(name)
        if isinstance(value, list):
            values += value[:ELEMENTS_PER_LIST]
        elif value is not None:
            values.append(value)
    return list(dict.fromkeys(values))


def context_cells(tests: Sequence[Test], context: int) -> Cells:
    """The cells of binding context 0, 1 or 2 over `tests`."""
    rows: list[tuple[int, int | None, int | None]] = []
    for k, test in enumerate(tests):
        probes = probe_values(test)
        if context == 0:
            rows.append((k, None, None))
        elif context == 1:
            rows += [(k, a, None) for a in probes[:PROBES_A]]
        else:
            rows += [(k, a, b) for a in probes[:PROBES_AB] for b in probes[:PROBES_AB]]
    slots = [[t.inputs.get(name) for name in INPUT_NAMES] for t in tests]
    return Cells(
        tests=tuple(r[0] for r in rows),
        a=tuple(r[1] for r in rows),
        b=tuple(r[2] for r in rows),
        inputs=tuple(slots[r[0]] for r in rows),
    )
