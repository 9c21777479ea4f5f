"""The fast search's fillings and class tables: int and bool values as numpy rows, keys exact.

`FastFilling` is a `compose.Filling` whose int or bool values live in an int64 row over its
context's cells (`vector`: errors as `ERR + kind`), decoded to the reference's values tuple only
when something asks (a higher-order or list token composed the reference way, a root match, a
test). Its class key is `(type, row bytes)`: exact. A list or function filling keeps the reference
representation and key (lists as tuples per cell, errors as `EvalError`s; a lambda: its body's
filling).

`FastClasses` is a node's classes in one context, as `sketch._Classes`, plus what the vectorised
composition needs: per (level, type) list, its rows stacked into matrices (cached: a list of a
level no longer grows once its parents compose from it), and a 64-bit hash of every int and bool
class's row and type pointing at its row in `rows`, so that a block of composed rows is looked up
with one dictionary probe per distinct hash and the rows found compared in one numpy operation
(a hash that names a different row is a collision: the caller takes the exact path).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..lang.types import BOOL, INT
from .compose import Filling
from .sketch import _Classes
from .vector import decode, encode, row_hashes

ROW_TYPES = (INT, BOOL)


class FastFilling(Filling):
    """A `Filling` whose int or bool values are an int64 row (`row`), steps a row or None (`srow`).

    `values` and `steps` (the reference's tuples) are filled in by `materialise()`, which whoever
    reads them calls first (the reference's `compose` on a block's children, a root match, a test):
    plain attributes, so that the reference's per-cell loops read them at full speed.
    """

    __slots__ = ("row", "srow")

    def __init__(self, token: int, kids: tuple, row, srow, typ: int, level: int, values=None, steps=None) -> None:
        self.token, self.kids, self.type, self.level = token, kids, typ, level
        self.row, self.srow, self.values, self.steps = row, srow, values, steps
        self.size = 1 + sum(k.size for k in kids)
        self._closure = None

    @classmethod
    def of_values(cls, token: int, kids: tuple, values: tuple, steps, typ: int, level: int) -> FastFilling:
        """A filling composed the reference way (values tuple, steps tuple or None)."""
        row = encode(values) if typ in ROW_TYPES else None
        srow = None if steps is None else np.asarray(steps, dtype=np.int64)
        return cls(token, kids, row, srow, typ, level, values, steps)

    def materialise(self) -> FastFilling:
        """Fill in `values` and `steps` from the rows (once)."""
        if self.values is None:
            self.values = decode(self.row, self.type)
            if self.srow is not None:
                self.steps = tuple(self.srow.tolist())
        return self

    def key(self) -> tuple:
        """Exact: (type, row bytes) for int and bool, the reference key otherwise."""
        if self.row is not None:
            return (self.type, self.row.tobytes())
        return Filling.key(self)

    def reference_key(self) -> tuple:
        """The reference search's key for this class (`Filling.key`)."""
        return Filling.key(self.materialise())


@dataclass
class FastClasses(_Classes):
    """`_Classes` with stacked rows per class list and a hash index of int and bool classes."""

    hashes: dict = field(default_factory=dict)  # row hash -> index into rows/types
    rows: np.ndarray | None = None  # [capacity, w]: the hashed classes' rows, in insertion order
    types: np.ndarray | None = None  # [capacity]: their types
    count: int = 0
    pending: list = field(default_factory=list)  # classes added one at a time, hashed at the next lookup
    stacked: dict = field(default_factory=dict)  # (level, type) -> (count, (values, steps, counted))

    def insert(self, filling: Filling, max_classes: int, hashed: int | None = None) -> None:
        """Add a new class (its key not yet present); `hashed`: its row's hash if known."""
        self.keys[filling.key()] = filling
        by_type = self.levels.setdefault(filling.level, {})
        if filling.type not in by_type:
            by_type[filling.type] = []
            self.nonempty.setdefault(filling.type, []).append(filling.level)
        by_type[filling.type].append(filling)
        if len(self.keys) >= max_classes:
            self.full = True
        row = getattr(filling, "row", None)
        if row is None:
            return
        if hashed is None:
            self.pending.append(filling)
        elif hashed not in self.hashes:  # else a collision: that row is found by the exact key only
            self._append(row, filling.type)
            self.hashes[hashed] = self.count - 1

    def _hash_pending(self) -> None:
        """Hash the classes added one at a time since the last lookup, in one numpy call."""
        pending, self.pending = self.pending, []
        types = np.array([f.type for f in pending])
        for f, hashed in zip(pending, row_hashes(np.stack([f.row for f in pending]), types).tolist()):
            if hashed not in self.hashes:
                self._append(f.row, f.type)
                self.hashes[hashed] = self.count - 1

    def insert_new(self, fillings: list, hashes: list, rows: np.ndarray, max_classes: int) -> None:
        """Add int and bool classes at once: keys and hashes known new (`rows`: theirs, stacked)."""
        keys, levels, nonempty = self.keys, self.levels, self.nonempty
        for f in fillings:
            keys[(f.type, f.row.tobytes())] = f
            by_type = levels.setdefault(f.level, {})
            if f.type not in by_type:
                by_type[f.type] = []
                nonempty.setdefault(f.type, []).append(f.level)
            by_type[f.type].append(f)
        if len(keys) >= max_classes:
            self.full = True
        if self.pending:
            self._hash_pending()
        start, end = self.count, self.count + len(fillings)
        self._reserve(end, rows.shape[1])
        self.rows[start:end], self.types[start:end] = rows, [f.type for f in fillings]
        self.count = end
        self.hashes.update(zip(hashes, range(start, end)))

    def _append(self, row: np.ndarray, typ: int) -> None:
        self._reserve(self.count + 1, len(row))
        self.rows[self.count], self.types[self.count] = row, typ
        self.count += 1

    def _reserve(self, size: int, width: int) -> None:
        """Room for `size` hashed rows (doubling)."""
        if self.rows is not None and size <= len(self.rows):
            return
        capacity = max(64, 2 * size)
        rows, types = np.zeros((capacity, width), np.int64), np.zeros(capacity, np.int64)
        if self.rows is not None:
            rows[: self.count], types[: self.count] = self.rows[: self.count], self.types[: self.count]
        self.rows, self.types = rows, types

    def matrices(self, level: int, typ: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(values [n, w], steps [n, w] (a filling's size where it counts none), counted [n])."""
        fillings = self.levels[level][typ]
        cached = self.stacked.get((level, typ))
        if cached is not None and cached[0] == len(fillings):
            return cached[1]
        values = np.stack([f.row for f in fillings]) if fillings else np.zeros((0, width), np.int64)
        steps = np.stack([f.srow if f.srow is not None else np.full(width, f.size, np.int64) for f in fillings])
        counted = np.array([f.srow is not None for f in fillings], dtype=bool)
        out = (values, steps, counted)
        self.stacked[(level, typ)] = (len(fillings), out)
        return out

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Per hash, the index of the row registered under it, -1 where none."""
        if self.pending:
            self._hash_pending()
        get = self.hashes.get
        return np.fromiter((get(h, -1) for h in hashes.tolist()), dtype=np.int64, count=len(hashes))
