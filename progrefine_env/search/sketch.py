"""Bottom-up search over a sketch: a program's fixed tree with holes, filled to fit its tests.

The environment keeps a program's tree shape, so a corrupted program is a *sketch*: known arities
everywhere, tokens known except at the holes. `SketchSearch` fills the holes bottom-up, keeping one
filling per *observational class* of every node and binding context (its values on the visible
tests; inside a lambda body, on probe values of `a` and `b`: `cells`), and composes a parent's
classes from its children's (`compose`). Every node's choices carry an integer cost level;
fillings are built in increasing total level (best-first bottom-up, the order of Bustle and
CrossBeam), so each class is represented by its cheapest filling, and root fillings whose values
equal every visible output are judged, cheapest first, by a `judge` (the env's own test runner),
the search going on if it disagrees.

    search = SketchSearch(sketch, mask_choices(sketch, weights), judge=env.run_visible_tests_of)
    result = search.run()   # SearchResult: tokens, solved, fillings, candidates_run, cpu_seconds

Choices: `mask_choices` (every allowed token at level 0, tried in the given frequency order: the
classical enumeration), `noise_choices` (a node's current token at level 0, any other at 1: fillings
in increasing number of changed nodes, the classical repair) and `guided_choices` (levels from a
policy's log-probabilities: the agent's decoding). Only well-typed programs are ever built: each
token's children must have the types its signature asks for, `a` and `b` stand only where bound,
lambdas only as a higher-order token's first argument (nothing else takes a function type), inputs
only where the task declares them.

This module needs only the language (no torch): the classical search runs where torch is absent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import product

from ..lang import MASK, Program, check, input_signature, shape_of, value_type, values_equal
from ..lang.interpreter import EvalState
from ..lang.types import BOOL, INT, LIST
from ..lang.vocab import TOKENS_BY_ARITY
from ..tasks.task import Test
from .cells import context_cells
from .compose import Filling, compose, inner_context, leaf_values, typings

MAX_CLASSES = 4000
"""Most classes kept per node and binding context (a cap that binds only near full masking)."""
_CHECK_EVERY = 64  # fillings composed between looks at the clock
_TYPE_BITS = {"int": INT, "bool": BOOL, "list": LIST}

Choices = Sequence[Sequence[tuple[int, int]]]
"""Per node, (token, cost level) pairs in the order to try them, levels non-decreasing."""


@dataclass(frozen=True)
class Sketch:
    """A program's tree with holes, and the tests its filling must pass.

    Attributes:
        tokens: pre-order tokens; `<mask>` at a hole of mask mode, the current (possibly wrong)
            token at a hole of noise mode.
        arities: the fixed tree shape.
        holes: the nodes whose token the search chooses.
        input_types: the task's declared inputs ({"x": "list", ...}).
        tests: the visible tests (never the held-out ones).
    """

    tokens: tuple[int, ...]
    arities: tuple[int, ...]
    holes: tuple[int, ...]
    input_types: dict[str, str]
    tests: tuple[Test, ...]

    def allowed(self) -> list[tuple[int, ...]]:
        """Per node, the tokens it may hold: its own at a fixed node; at a hole of mask mode the
        grammar mask of the sketch (tokens some well-typed filling puts there); at a hole holding
        a token (noise mode) every token of its arity, since several nodes may change at once."""
        masks = None
        if MASK in self.tokens:
            masks = check(Program(self.tokens, self.arities), self.input_types).masks
        holes, out = set(self.holes), []
        for i, (tok, arity) in enumerate(zip(self.tokens, self.arities)):
            if i not in holes:
                out.append((tok,))
            elif tok == MASK:
                out.append(tuple(t for t in TOKENS_BY_ARITY.get(arity, ()) if (masks[i] >> t) & 1))
            else:
                out.append(TOKENS_BY_ARITY.get(arity, ()))
        return out


def mask_choices(sketch: Sketch, weights: Sequence[float] | None = None) -> list[list[tuple[int, int]]]:
    """Every allowed token at level 0, the more frequent (`weights[token]`) first: the classical
    enumeration, exhaustive node by node."""
    return [[(t, 0) for t in _by_weight(tokens, weights)] for tokens in sketch.allowed()]


def noise_choices(sketch: Sketch, weights: Sequence[float] | None = None) -> list[list[tuple[int, int]]]:
    """A node's current token at level 0, every other allowed token at level 1: fillings come in
    increasing number of changed nodes (the classical repair when the wrong nodes are unknown)."""
    out = []
    for tok, tokens in zip(sketch.tokens, sketch.allowed()):
        others = [(t, 1) for t in _by_weight(tokens, weights) if t != tok]
        out.append(([(tok, 0)] if tok in tokens else []) + others)
    return out


def guided_choices(
    sketch: Sketch, log_probs: Sequence[Sequence[float]], nats_per_level: float = 1.0, max_level: int = 12,
    prune_below: float = 0.0,
) -> list[list[tuple[int, int]]]:  # fmt: skip
    """Levels from a policy: token t at node i costs `-log_probs[i][t]` nats, binned into levels of
    `nats_per_level` and capped at `max_level` (a token the policy rules out stays reachable at the
    cap); tokens below probability `prune_below` are dropped, the most likely always kept. Holes
    only; a fixed node keeps its token at level 0."""
    holes, out = set(sketch.holes), []
    floor = -math.log(prune_below) if prune_below > 0 else float("inf")
    for i, tokens in enumerate(sketch.allowed()):
        if i not in holes:
            out.append([(tokens[0], 0)])
            continue
        nll = sorted((-float(log_probs[i][t]), t) for t in tokens)
        kept = [(c, t) for k, (c, t) in enumerate(nll) if k == 0 or c <= floor]
        out.append([(t, min(max_level, int(round(c / nats_per_level)))) for c, t in kept])
        out[-1].sort(key=lambda pair: pair[1])  # stable: most likely first within a level
    return out


@dataclass
class SearchResult:
    """What one search found.

    Attributes:
        tokens: the program found (confirmed by the judge), else the root filling matching the most
            visible outputs (the first found on ties), else None.
        solved: the judge confirmed that `tokens` passes every visible test.
        matched: visible outputs `tokens` matches.
        fillings: fillings composed (every combination of children tried, kept or not).
        candidates_run: root fillings handed to the judge.
        cpu_seconds: process time of the search.
        stop: "solved", "fillings", "cpu" (budgets) or "exhausted" (every level tried).
    """

    tokens: tuple[int, ...] | None
    solved: bool
    matched: int
    fillings: int
    candidates_run: int
    cpu_seconds: float
    stop: str


class _Stop(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass
class _Classes:
    """One node's classes in one binding context."""

    keys: dict = field(default_factory=dict)  # class key -> representative Filling
    levels: dict = field(default_factory=dict)  # level -> type bit -> [Filling]
    nonempty: dict = field(default_factory=dict)  # type bit -> levels with fillings, increasing
    full: bool = False


class SketchSearch:
    """Best-first bottom-up search of a sketch (see the module docstring).

    Args:
        sketch: the tree with holes and the visible tests.
        choices: per node, (token, level) in the order to try (`mask_choices`, ...).
        judge: tokens -> visible tests passed (-1: cannot run); None trusts the composed values.
        max_classes: classes kept per node and binding context.
        fillings: stop after this many fillings composed (deterministic; None: no cap).
        cpu_seconds: stop after this much process time (None: no cap).
        clock: the clock `cpu_seconds` reads.
        scores: per node, each token's exact cost (e.g. its negative log-likelihood; [N, V]). When
            given, the search does not stop at the first confirmed match but finishes the root's
            fillings of that level, and returns the confirmed match of least total cost: levels
            are coarse, and among the programs that fit the visible tests the likeliest is the one
            most often right on the held-out ones. None: the first confirmed match.
    """

    def __init__(
        self, sketch: Sketch, choices: Choices, judge: Callable[[tuple[int, ...]], int] | None = None, *,
        max_classes: int = MAX_CLASSES, fillings: int | None = None, cpu_seconds: float | None = None,
        clock: Callable[[], float] = time.process_time, scores: Sequence[Sequence[float]] | None = None,
    ) -> None:  # fmt: skip
        self.sketch, self.choices, self.judge, self.scores = sketch, [list(c) for c in choices], judge, scores
        self.max_classes, self.fillings_budget, self.cpu_budget, self.clock = max_classes, fillings, cpu_seconds, clock
        self.children = shape_of(sketch.arities).children
        self.signature = input_signature(sketch.input_types)
        self.outputs = [t.output for t in sketch.tests]
        self.root_type = _TYPE_BITS[value_type(self.outputs[0])] if self.outputs else None
        self.state = EvalState()
        self.cells = [context_cells(sketch.tests, c) for c in range(3)]
        self.contexts = self._contexts()
        self.table = [{c: _Classes() for c in self.contexts[i]} for i in range(len(sketch.tokens))]
        self.fillings = self.candidates_run = 0
        self.best: Filling | None = None
        self.best_matched = -1
        self.found: Filling | None = None
        self.found_cost = math.inf
        self.fit_key: tuple | None = None

    def _contexts(self) -> list[list[int]]:
        """Per node, the binding contexts it may stand in (from the tokens its ancestors may hold)."""
        contexts: list[set[int]] = [set() for _ in self.choices]
        contexts[0].add(0)
        for i, kids in enumerate(self.children):
            for tok, _ in self.choices[i]:
                for c in contexts[i]:
                    for kid in kids:
                        contexts[kid].add(inner_context(tok, c))
        return [sorted(c) for c in contexts]

    def classes(self, node: int, context: int) -> dict:
        """The class keys found at `node` in `context`, each with its representative filling."""
        return self.table[node][context].keys

    def run(self) -> SearchResult:
        """Search until a confirmed match, a budget, or every level is done."""
        self.start = self.clock()
        top = sum(max((level for _, level in c), default=0) for c in self.choices)
        try:
            if self.root_type is not None:
                for level in range(top + 1):
                    for i in reversed(range(len(self.choices))):
                        for context in self.contexts[i]:
                            self._grow(i, context, level)
                    if self.found is not None:  # the root's fillings of this level are all judged
                        raise _Stop("solved")
            stop = "exhausted"
        except _Stop as stopped:
            stop = "solved" if self.found is not None else stopped.reason
        chosen = self.found or self.best
        return SearchResult(
            tokens=None if chosen is None else self.tokens_of(chosen),
            solved=self.found is not None,
            matched=len(self.outputs) if self.found is not None else max(self.best_matched, 0),
            fillings=self.fillings,
            candidates_run=self.candidates_run,
            cpu_seconds=self.clock() - self.start,
            stop=stop,
        )

    def _grow(self, i: int, context: int, level: int) -> None:
        """Add node `i`'s fillings of total level `level` in `context`."""
        table = self.table[i][context]
        for tok, cost in self.choices[i]:
            if cost > level or table.full:
                return
            for kid_types, result in typings(tok, context, self.signature):
                if i == 0 and result != self.root_type:
                    continue
                if not kid_types:
                    if cost == level:
                        values = leaf_values(tok, self.cells[context])
                        self._add(i, context, Filling(tok, (), values, None, result, level))
                    continue
                inner = inner_context(tok, context)
                kids = [self.table[c][inner] for c in self.children[i]]
                for split in _splits(kids, kid_types, level - cost):
                    lists = [kid.levels[lv][ty] for kid, lv, ty in zip(kids, split, kid_types)]
                    for combo in product(*lists):
                        values, steps = compose(tok, combo, self.cells[context], self.state)
                        self._add(i, context, Filling(tok, combo, values, steps, result, level))
                        if table.full:
                            return

    def _add(self, i: int, context: int, filling: Filling) -> None:
        self.fillings += 1
        if self.fillings % _CHECK_EVERY == 0 or self.fillings == self.fillings_budget:
            self._check_budgets()
        table, key = self.table[i][context], filling.key()
        if key in table.keys:
            if i == 0 and key == self.fit_key:
                self._fit(filling)  # another program that fits: judged too (see `scores`)
            return
        table.keys[key] = filling
        by_type = table.levels.setdefault(filling.level, {})
        if filling.type not in by_type:
            by_type[filling.type] = []
            table.nonempty.setdefault(filling.type, []).append(filling.level)
        by_type[filling.type].append(filling)
        if len(table.keys) >= self.max_classes:
            table.full = True
        if i == 0:
            self._at_root(filling)

    def _check_budgets(self) -> None:
        if self.fillings_budget is not None and self.fillings >= self.fillings_budget:
            raise _Stop("fillings")
        if self.cpu_budget is not None and self.clock() - self.start >= self.cpu_budget:
            raise _Stop("cpu")

    def _at_root(self, filling: Filling) -> None:
        """A new class at the root: judged when it matches every visible output."""
        matched = sum(values_equal(v, out) for v, out in zip(filling.values, self.outputs))
        if matched > self.best_matched:
            self.best, self.best_matched = filling, matched
        if matched == len(self.outputs):
            self.fit_key = filling.key()
            self._fit(filling)

    def _fit(self, filling: Filling) -> None:
        """A root filling whose values match every visible output (the one class that does)."""
        if self.judge is not None:
            self.candidates_run += 1
            if self.judge(self.tokens_of(filling)) != len(self.outputs):
                return  # the runner disagrees (a fuel bound): keep searching
        if self.scores is None:
            self.found = filling
            raise _Stop("solved")
        tokens = self.tokens_of(filling)
        cost = sum(float(self.scores[i][t]) for i, t in enumerate(tokens))
        if cost < self.found_cost:
            self.found, self.found_cost = filling, cost

    def tokens_of(self, filling: Filling) -> tuple[int, ...]:
        """The whole program's tokens for a root filling."""
        tokens = list(self.sketch.tokens)
        stack = [(0, filling)]
        while stack:
            i, f = stack.pop()
            tokens[i] = f.token
            stack.extend(zip(self.children[i], f.kids))
        return tuple(tokens)


def _splits(kids: list[_Classes], types: tuple[int, ...], total: int) -> Iterator[tuple[int, ...]]:
    """Level tuples, one per child, summing to `total`, where every child has fillings of its type."""
    if len(kids) == 1:
        if total in kids[0].levels and types[0] in kids[0].levels[total]:
            yield (total,)
        return
    for level in kids[0].nonempty.get(types[0], ()):
        if level > total:
            return
        for rest in _splits(kids[1:], types[1:], total - level):
            yield (level, *rest)


def _by_weight(tokens: Sequence[int], weights: Sequence[float] | None) -> list[int]:
    if weights is None:
        return list(tokens)
    return sorted(tokens, key=lambda t: -float(weights[t]))


