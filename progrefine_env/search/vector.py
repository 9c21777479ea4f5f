"""Int and bool values of many fillings at once: numpy arrays over cells, errors as values.

The fast sketch search (`fast`) stores an int or bool filling's values as one int64 row over its
binding context's cells. An int is itself; a bool is 0 or 1; an error is `ERR + k`, k its kind's
index in `ERROR_KINDS`, far outside the language's integers ([-1e6, 1e6]), so a row is an exact
class key (its type beside it) and an error keeps its kind. `compose_block` computes a token over
every combination of its children's class lists with one broadcast numpy operation: the
combinations come out in `itertools.product` order (the last child fastest), as the reference
search composes them. Semantics are the interpreter's: Python floor division and modulo, the
overflow bound as an error, zero division, the first erroring child (left to right) passing its
error up, `if` looking only at the branch its condition chooses, and steps counted as
`compose._counted` counts them wherever a child holds a higher-order token.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..lang.interpreter import ERROR_KINDS, FUEL, INT_MAX, INT_MIN, EvalError
from ..lang.types import BOOL
from ..lang.vocab import TOKEN_ID
from .compose import error

ERR = 1 << 50
"""Rows hold `ERR + k` for an error of kind `ERROR_KINDS[k]`."""
OVERFLOW, ZERO_DIVISION, FUEL_CODE = (ERR + ERROR_KINDS.index(k) for k in ("overflow", "zero_division", "fuel"))
_ERRORS = [error(kind) for kind in ERROR_KINDS]


def encode(values) -> np.ndarray:
    """A values tuple (ints, bools, `EvalError`s) as an int64 row."""
    return np.array([ERR + ERROR_KINDS.index(v.kind) if type(v) is EvalError else int(v) for v in values], np.int64)


def decode(row: np.ndarray, typ: int) -> tuple:
    """An int64 row as the reference's values tuple (bools as `bool`, errors as shared `EvalError`s)."""
    out = []
    for x in row.tolist():
        if x >= ERR:
            out.append(_ERRORS[x - ERR])
        else:
            out.append(bool(x) if typ == BOOL else x)
    return tuple(out)


def _bound(r: np.ndarray) -> np.ndarray:
    return np.where((r < INT_MIN) | (r > INT_MAX), OVERFLOW, r)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    zero = b == 0
    return np.where(zero, ZERO_DIVISION, _bound(np.floor_divide(a, np.where(zero, 1, b))))


def _mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    zero = b == 0
    return np.where(zero, ZERO_DIVISION, np.remainder(a, np.where(zero, 1, b)))


def _as_int(fn: Callable) -> Callable:
    return lambda a, b: fn(a, b).astype(np.int64)


BINARY: dict[int, Callable] = {
    TOKEN_ID["+"]: lambda a, b: _bound(a + b),
    TOKEN_ID["-"]: lambda a, b: _bound(a - b),
    TOKEN_ID["*"]: lambda a, b: _bound(a * b),
    TOKEN_ID["/"]: _div,
    TOKEN_ID["%"]: _mod,
    TOKEN_ID["min"]: np.minimum,
    TOKEN_ID["max"]: np.maximum,
    TOKEN_ID["<"]: _as_int(np.less),
    TOKEN_ID[">"]: _as_int(np.greater),
    TOKEN_ID["="]: _as_int(np.equal),
    TOKEN_ID["and"]: np.bitwise_and,
    TOKEN_ID["or"]: np.bitwise_or,
}
"""Binary int/bool tokens on error-free operands (an error operand's result is discarded)."""
NOT, IF = TOKEN_ID["not"], TOKEN_ID["if"]
VECTOR_TOKENS = frozenset([*BINARY, NOT, IF])
"""Tokens `compose_block` computes (with int or bool children and result)."""


def compose_block(token: int, mats: list) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """`token` over every combination of its children's classes.

    Args:
        token: a token of `VECTOR_TOKENS`.
        mats: per child, (values [n, w], steps [n, w] or None, counted [n] bool): steps where a
            filling holds a higher-order token, its size elsewhere (as `compose._steps` reads it).

    Returns:
        values [m, w], steps [m, w] (None where no child counts steps), counted [m], m the product
        of the children's counts, in `itertools.product` order.
    """
    k = len(mats)
    vals = [_axis(m[0], j, k) for j, m in enumerate(mats)]
    errs = [v >= ERR for v in vals]
    if token == IF:
        c, t, o = vals
        values = np.where(errs[0], c, np.where(c == 1, t, o))
    elif token == NOT:
        values = np.where(errs[0], vals[0], 1 - vals[0])
    else:
        a, b = vals
        values = np.where(errs[0], a, np.where(errs[1], b, BINARY[token](a, b)))
    width = vals[0].shape[-1]
    counted = _product_any([m[2] for m in mats])
    if not counted.any():
        return values.reshape(-1, width), None, counted
    steps = [_axis(m[1], j, k) for j, m in enumerate(mats)]
    if token == IF:
        used = 1 + steps[0] + np.where(errs[0], 0, np.where(vals[0] == 1, steps[1], steps[2]))
    elif token == NOT:
        used = 1 + steps[0]
    else:
        used = 1 + steps[0] + np.where(errs[0], 0, steps[1])
    values = np.where(used > FUEL, FUEL_CODE, values)
    shape = values.shape
    return values.reshape(-1, width), np.broadcast_to(used, shape).reshape(-1, width), counted


def _axis(mat: np.ndarray, j: int, k: int) -> np.ndarray:
    """Child `j` of `k`'s matrix [n, w] reshaped to broadcast along axis j of the product."""
    shape = [1] * k + [mat.shape[-1]]
    shape[j] = mat.shape[0]
    return mat.reshape(shape)


def _product_any(flags: list[np.ndarray]) -> np.ndarray:
    """Per combination (product order), whether any child's flag is set."""
    out = flags[0]
    for f in flags[1:]:
        out = (out[:, None] | f[None, :]).reshape(-1)
    return out


_COEFFS: dict[int, np.ndarray] = {}
_TYPE_SALT = 0x1E3779B97F4A7C15


def row_hashes(values: np.ndarray, types: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row and its type (collisions are checked by the caller)."""
    width = values.shape[1]
    coeffs = _COEFFS.get(width)
    if coeffs is None:
        rng = np.random.default_rng(width)
        coeffs = _COEFFS[width] = rng.integers(1, 2**62, size=width, dtype=np.int64) | 1
    return (values * coeffs).sum(axis=1) + types * _TYPE_SALT
