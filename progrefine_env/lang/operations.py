"""The language's operations on evaluated values (LANGUAGE.md, "Semantics"): strict, with limits.

`_OPS` holds the first-order operators by token name, `_HIGHER_ORDER` and `_HIGHER_ORDER3` the
higher-order ones, which apply a lambda body's closure `fn(a, b)`. A limit broken or an undefined
result (division by zero, `head` of `nil`, ...) raises `_Fail`, which the interpreter turns into
an `EvalError` value.
"""

from __future__ import annotations

from collections.abc import Callable

from .values import INT_MAX, INT_MIN, MAX_LIST_LENGTH


class _Fail(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind


def _int(v: int) -> int:
    if INT_MIN <= v <= INT_MAX:
        return v
    raise _Fail("overflow")


def _list(v: list) -> list:
    if len(v) <= MAX_LIST_LENGTH:
        return v
    raise _Fail("length")


def _div(x: int, y: int) -> int:
    if y == 0:
        raise _Fail("zero_division")
    return _int(x // y)


def _mod(x: int, y: int) -> int:
    if y == 0:
        raise _Fail("zero_division")
    return x % y


def _nonempty(xs: list) -> list:
    if xs:
        return xs
    raise _Fail("empty_list")


def _index(i: int, xs: list) -> int:
    if 0 <= i < len(xs):
        return xs[i]
    raise _Fail("index")


def _range(n: int) -> list:
    if n > MAX_LIST_LENGTH:
        raise _Fail("length")
    return list(range(n))


# Strict operators on already evaluated arguments.
_OPS: dict[str, Callable] = {
    "+": lambda x, y: _int(x + y),
    "-": lambda x, y: _int(x - y),
    "*": lambda x, y: _int(x * y),
    "/": _div,
    "%": _mod,
    "min": min,
    "max": max,
    "<": lambda x, y: x < y,
    ">": lambda x, y: x > y,
    "=": lambda x, y: x == y,
    "and": lambda x, y: x and y,
    "or": lambda x, y: x or y,
    "not": lambda x: not x,
    "len": len,
    "sum": lambda xs: _int(sum(xs)),
    "head": lambda xs: _nonempty(xs)[0],
    "last": lambda xs: _nonempty(xs)[-1],
    "maximum": lambda xs: max(_nonempty(xs)),
    "minimum": lambda xs: min(_nonempty(xs)),
    "reverse": lambda xs: xs[::-1],
    "sort": sorted,
    "take": lambda n, xs: xs[: max(n, 0)],
    "drop": lambda n, xs: xs[max(n, 0) :],
    "index": _index,
    "cons": lambda e, xs: _list([e, *xs]),
    "concat": lambda xs, ys: _list(xs + ys),
    "range": _range,
}


def _map(f, xs, b):
    return [f(e, b) for e in xs]


def _filter(p, xs, b):
    return [e for e in xs if p(e, b)]


def _count(p, xs, b):
    return sum(1 for e in xs if p(e, b))


def _scanl1(f, xs, _b):
    if not xs:
        return []
    out = [xs[0]]
    for e in xs[1:]:
        out.append(f(out[-1], e))
    return out


def _fold(f, init, xs, _b):
    acc = init
    for e in xs:
        acc = f(acc, e)
    return acc


def _zipwith(f, xs, ys, _b):
    return [f(p, q) for p, q in zip(xs, ys)]


_HIGHER_ORDER = {"map": _map, "filter": _filter, "count": _count, "scanl1": _scanl1}
_HIGHER_ORDER3 = {"fold": _fold, "zipwith": _zipwith}
