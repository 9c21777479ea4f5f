"""The sketch search at the machine's pace: `FastSketchSearch`, the reference search vectorised.

Same search, same order, same answer as `sketch.SketchSearch` (the reference, which stays): the
same levels, nodes, contexts, tokens, typings, level splits and `itertools.product` order of the
children's classes. What changes is how a block of combinations is composed and sorted into
classes:

- int and bool classes are int64 rows over their context's cells (`vector`: a bool is 0/1, an
  error `ERR + kind`); every (token, split) whose token is arithmetic, a comparison, logic or an
  int/bool `if` is one broadcast numpy operation over its children's stacked class lists
  (`vector.compose_block`), not a Python loop per filling. Consecutive such blocks of a node are
  gathered into a batch (in the reference order) and sorted into classes together: a 64-bit hash
  of each row (collisions checked by comparing rows; a collision sends the batch down the exact
  per-filling path), first occurrences found with one `np.unique`, one dictionary probe per
  distinct hash against the node's classes (`classes.FastClasses`);
- list and function classes keep the reference representation (a tuple of per-cell lists or
  `EvalError`s; a lambda keyed by its body) and are composed by the reference's `compose`, so
  higher-order tokens run their lambda through the interpreter's closures with exact fuel;
- fillings are counted exactly as the reference counts them: a batch is cut at the combination
  where the reference would stop (the fillings budget: the combination that reaches it is counted,
  not added; the class cap: the combination whose class fills the table is added, the rest of the
  node's level is not composed), so a fillings budget stops both searches at the same filling;
- at the root, new classes and combinations equal to the visible outputs are handled one by one
  in order (`_at_root`, `_fit`), so matches are judged in the reference order. CPU budgets are
  looked at between batches (and every 64 fillings on the reference path).

Classes are not cached across rounds (each round is a new search).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from ..lang.types import BOOL, INT
from .classes import FastClasses, FastFilling
from .compose import compose, inner_context, leaf_values, typings
from .sketch import _CHECK_EVERY, SketchSearch, _splits, _Stop
from .vector import VECTOR_TOKENS, compose_block, encode, row_hashes

ELEMENTS = 1 << 20
"""Values (rows x cells) composed per batch at most (memory; not a semantic limit)."""
SMALL_BATCH = 64
"""Batches of fewer combinations are composed the reference way (numpy's fixed cost per call is
more than Python's per filling there; the classes and counts are the same either way)."""


@dataclass
class _Block:
    """One (token, split)'s combinations: the children's class lists and where its rows start."""

    token: int
    result: int
    level: int
    lists: list
    mats: list
    offset: int

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(lst) for lst in self.lists)

    def kids(self, q: int) -> tuple:
        """The children's fillings of this block's combination `q` (product order)."""
        out = []
        for lst in reversed(self.lists):
            q, r = divmod(q, len(lst))
            out.append(lst[r])
        return tuple(reversed(out))


class _Batch:
    """Blocks of one node and context waiting to be composed together, in the reference order."""

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self.rows = 0

    def add(self, token: int, result: int, level: int, lists: list, mats: list) -> None:
        """Add one block (a piece of a (token, split)'s combinations, see `_pieces`)."""
        self.blocks.append(_Block(token, result, level, lists, mats, self.rows))
        self.rows += int(np.prod([len(lst) for lst in lists]))

    def compute(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
        """(values [m, w], steps [m, w] or None, counted [m], types [m]) of every block, in order."""
        parts = [compose_block(b.token, b.mats) for b in self.blocks]
        values = np.concatenate([p[0] for p in parts])
        counted = np.concatenate([p[2] for p in parts])
        types = np.repeat([b.result for b in self.blocks], [len(p[0]) for p in parts])
        steps = None
        if counted.any():
            steps = np.concatenate([p[1] if p[1] is not None else np.zeros_like(p[0]) for p in parts])
        return values, steps, counted, types


def _pieces(lists: list, mats: list, cap: int):
    """The product of `lists` as rectangular pieces of at most `cap` combinations (one, where a
    single combination is more), in product order: split along the first child, and where even
    one of its classes times the rest is more than `cap`, one class at a time over the rest."""
    sizes = [len(lst) for lst in lists]
    rest = int(np.prod(sizes[1:])) if len(sizes) > 1 else 1
    if sizes[0] * rest <= cap:
        yield lists, mats
    elif rest <= cap or len(lists) == 1:
        step = max(1, cap // rest)
        for start in range(0, sizes[0], step):
            yield [lists[0][start : start + step], *lists[1:]], [_rows(mats[0], start, step), *mats[1:]]
    else:
        for start in range(sizes[0]):
            for tail, tail_mats in _pieces(lists[1:], mats[1:], cap):
                yield [lists[0][start : start + 1], *tail], [_rows(mats[0], start, 1), *tail_mats]


def _rows(mat: tuple, start: int, count: int) -> tuple:
    return tuple(m[start : start + count] for m in mat)


class FastSketchSearch(SketchSearch):
    """`SketchSearch` with int and bool classes composed by numpy (see the module docstring).

    Takes the reference's arguments and returns the same `SearchResult`; `classes()` gives the
    reference's class keys.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.table = [{c: FastClasses() for c in row} for row in self.table]
        self.widths = [len(cells) for cells in self.cells]
        vector_root = self.root_type in (INT, BOOL)
        self.output_row = encode(self.outputs) if vector_root else None

    def classes(self, node: int, context: int) -> dict:
        """The class keys found at `node` in `context` (the reference's keys), with representatives."""
        return {f.reference_key(): f for f in self.table[node][context].keys.values()}

    def _grow(self, i: int, context: int, level: int) -> None:
        """Node `i`'s fillings of total level `level` in `context` (the reference's `_grow`, batched)."""
        table, batch = self.table[i][context], _Batch()
        for tok, cost in self.choices[i]:
            if cost > level or table.full:
                break
            for kid_types, result in typings(tok, context, self.signature):
                if i == 0 and result != self.root_type:
                    continue
                if not kid_types:
                    if cost == level:
                        values = leaf_values(tok, self.cells[context])
                        self._add(i, context, FastFilling.of_values(tok, (), values, None, result, level))
                    continue
                if self._grow_token(i, context, level, tok, cost, kid_types, result, batch):
                    return
        self._flush(i, context, batch)

    def _grow_token(self, i, context, level, tok, cost, kid_types, result, batch: _Batch) -> bool:
        """One typing of a composite token: vectorised blocks into `batch`, others the reference
        way. True when the node's table is full (the rest of its level is not composed)."""
        inner = inner_context(tok, context)
        kids = [self.table[c][inner] for c in self.children[i]]
        width = self.widths[inner]
        vector = tok in VECTOR_TOKENS and result in (INT, BOOL)
        for split in _splits(kids, kid_types, level - cost):
            lists = [kid.levels[lv][ty] for kid, lv, ty in zip(kids, split, kid_types)]
            if vector:
                mats = [kid.matrices(lv, ty, width) for kid, lv, ty in zip(kids, split, kid_types)]
                for piece, piece_mats in _pieces(lists, mats, self._batch_rows(width)):
                    batch.add(tok, result, level, piece, piece_mats)
                    if batch.rows >= self._batch_rows(width) and self._flush(i, context, batch):
                        return True
                continue
            if self._flush(i, context, batch):
                return True
            _materialise(lists)
            for combo in product(*lists):
                values, steps = compose(tok, combo, self.cells[context], self.state)
                self._add(i, context, FastFilling.of_values(tok, combo, values, steps, result, level))
                if self.table[i][context].full:
                    return True
        return False

    def _batch_rows(self, width: int) -> int:
        """Combinations gathered before a batch is composed: bounded by memory and by the fillings
        left to the budget (so that little is composed past it)."""
        cap = max(1, ELEMENTS // max(width, 1))
        if self.fillings_budget is not None:
            cap = min(cap, max(1, self.fillings_budget - self.fillings))
        return cap

    def _add(self, i: int, context: int, filling: FastFilling) -> None:
        """One filling the reference way (leaves, list and higher-order tokens, collisions)."""
        self.fillings += 1
        if self.fillings % _CHECK_EVERY == 0 or self.fillings == self.fillings_budget:
            self._check_budgets()
        table, key = self.table[i][context], filling.key()
        if key in table.keys:
            if i == 0 and key == self.fit_key:
                self._fit(filling)
            return
        table.insert(filling, self.max_classes)
        if i == 0:
            self._at_root(filling)

    def _flush(self, i: int, context: int, batch: _Batch) -> bool:
        """Compose the batch, sort its combinations into classes; True when the table filled."""
        if not batch.blocks:
            return False
        if batch.rows < SMALL_BATCH:
            blocks, batch.blocks, batch.rows = batch.blocks, [], 0
            return self._compose_each(i, context, blocks)
        blocks, (values, steps, counted, types) = batch.blocks, batch.compute()
        batch.blocks, batch.rows = [], 0
        table, before = self.table[i][context], self.fillings
        hashes = row_hashes(values, types)
        new = self._new_positions(table, values, types, hashes)
        if new is None:  # a hash collision: the exact path
            return self._exact(i, context, blocks, values, steps, counted)
        stop, reason = self._cut(table, len(values), new)
        new = new[: np.searchsorted(new, stop, side="right" if reason == "full" else "left")]
        rows = _Rows(blocks, values, steps, counted, types, hashes)
        if i == 0:
            self._root_events(table, rows, new, stop, before)
        elif len(new):
            table.insert_new(rows.fillings(new), rows.hashes[new].tolist(), rows.values[new], self.max_classes)
        self.fillings = before + (stop + 1 if reason else len(values))
        if reason == "fillings":
            raise _Stop("fillings")
        if self.cpu_budget is not None and self.clock() - self.start >= self.cpu_budget:
            raise _Stop("cpu")
        return table.full

    def _new_positions(self, table: FastClasses, values, types, hashes) -> np.ndarray | None:
        """Sorted positions of the first combination of each class not yet in `table`; None on a
        hash collision (within the batch or against the table)."""
        unique, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        if not ((values == values[first[inverse]]).all() and (types == types[first[inverse]]).all()):
            return None
        found = table.lookup(unique)
        hit = found >= 0
        if hit.any():
            at, where = found[hit], first[hit]
            if not ((table.rows[at] == values[where]).all() and (table.types[at] == types[where]).all()):
                return None
        return np.sort(first[~hit])

    def _cut(self, table: FastClasses, m: int, new: np.ndarray) -> tuple[int, str | None]:
        """Where the reference would stop in this batch: (position, "fillings" or "full"), or
        (m, None) when it composes all of it."""
        stop, reason = m, None
        if self.fillings_budget is not None and self.fillings_budget - self.fillings <= m:
            stop, reason = self.fillings_budget - self.fillings - 1, "fillings"
        need = self.max_classes - len(table.keys)
        if len(new) >= need and new[need - 1] < stop:
            stop, reason = int(new[need - 1]), "full"
        return stop, reason

    def _root_events(self, table: FastClasses, rows: _Rows, new: np.ndarray, stop: int, before: int) -> None:
        """At the root, in order: each new class (`_at_root`) and each combination equal to the
        visible outputs (another fit: `_fit`), the fillings count as the reference's at each."""
        fits = np.flatnonzero((rows.values[:stop] == self.output_row).all(axis=1)) if self.outputs else []
        fresh = set(new.tolist())
        for p in sorted(fresh.union(np.asarray(fits).tolist())):
            self.fillings = before + p + 1
            filling = rows.filling(p).materialise()
            if p in fresh:
                table.insert(filling, self.max_classes, rows.hash(p))
                self._at_root(filling)
            elif filling.key() == self.fit_key:
                self._fit(filling)

    def _compose_each(self, i: int, context: int, blocks: list[_Block]) -> bool:
        """A small batch one filling at a time, the reference way; True when the table filled."""
        table = self.table[i][context]
        for block in blocks:
            _materialise(block.lists)
            for combo in product(*block.lists):
                values, steps = compose(block.token, combo, self.cells[context], self.state)
                filling = FastFilling.of_values(block.token, combo, values, steps, block.result, block.level)
                self._add(i, context, filling)
                if table.full:
                    return True
        return False

    def _exact(self, i: int, context: int, blocks: list[_Block], values, steps, counted) -> bool:
        """The batch one filling at a time with exact keys (after a hash collision)."""
        rows = _Rows(blocks, values, steps, counted, None, None)
        for p in range(len(values)):
            self._add(i, context, rows.filling(p).materialise())
            if self.table[i][context].full:
                return True
        return False


def _materialise(lists: list) -> None:
    """The reference's values and steps of every filling in `lists` (before `compose` reads them)."""
    for lst in lists:
        for f in lst:
            if f.values is None:
                f.materialise()


class _Rows:
    """A composed batch: position -> its filling (children found through the blocks)."""

    def __init__(self, blocks, values, steps, counted, types, hashes) -> None:
        self.blocks, self.values, self.steps, self.counted, self.hashes = blocks, values, steps, counted, hashes
        self.offsets = [b.offset for b in blocks]

    def filling(self, p: int) -> FastFilling:
        block = self.blocks[int(np.searchsorted(self.offsets, p, side="right")) - 1]
        srow = self.steps[p].copy() if self.counted[p] else None  # copies: the batch is not kept alive
        kids = block.kids(p - block.offset)
        return FastFilling(block.token, kids, self.values[p].copy(), srow, block.result, block.level)

    def fillings(self, positions: np.ndarray) -> list[FastFilling]:
        """The fillings at sorted `positions` (rows gathered once; each filling a view of them)."""
        blocks = np.searchsorted(self.offsets, positions, side="right") - 1
        values, counted = self.values[positions], self.counted[positions]
        steps = self.steps[positions] if self.steps is not None else None
        out = []
        for j, (p, b) in enumerate(zip(positions.tolist(), blocks.tolist())):
            block = self.blocks[b]
            srow = steps[j] if counted[j] else None
            kids = block.kids(p - block.offset)
            out.append(FastFilling(block.token, kids, values[j], srow, block.result, block.level))
        return out

    def hash(self, p: int) -> int:
        return int(self.hashes[p])
