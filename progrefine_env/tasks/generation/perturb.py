"""Running a program with one node's value replaced (`_Probe`): how screening tells whether a
node's value reaches the output (`insensitive_nodes`) or whether a node can be bypassed by a child
(`bypass_nodes`), without rebuilding the program for every try.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...lang import Compiled, Program
from .grammar import _VALUE_TYPES


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
