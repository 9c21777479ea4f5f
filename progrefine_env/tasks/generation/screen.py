"""Screening a candidate: the rules a kept program obeys, checked in order (`rejection_reason`),
and, while generating, the repair of a redundant node by the descendant it equals (`_screen`),
which turns big candidates into medium-sized programs with the same outputs on the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ...lang import Compiled, EvalError, Program, check
from ...lang.interpreter import Value
from .config import GeneratorConfig
from .grammar import _T, _VALUE_TYPES
from .perturb import _Probe
from .redundant import (
    _bypass_nodes,
    _identity_nodes,
    _insensitive_nodes,
    _node_kinds,
    _traced,
    constant_subtrees,
    idle_lambdas,
)


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
