"""Nodes that do nothing: constant subtrees and idle lambdas (seen without running the program),
and, on given inputs, nodes that equal a descendant (`identity_nodes`), nodes whose value never
reaches the output (`insensitive_nodes`) and nodes that one of their children can replace
(`bypass_nodes`). `screen.py` rejects or repairs programs with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...lang import Compiled, Program, check
from ...lang.interpreter import Value
from ...lang.vocab import ARITY, CONSTANTS, INPUT_NAMES, LAM, LAM2, PARAM_A, PARAM_B
from .grammar import _T, _VALUE_TYPES, BOOL, FN1, INT, LIST
from .perturb import _Probe


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
