"""The values programs compute, their limits, and the errors a run can end with (LANGUAGE.md,
"Semantics").

A value is an int, a bool or a list of ints; a run that fails is an `EvalError`, a value too,
never an exception. This module also says which Python values are valid program inputs
(`input_error`) and how a test compares an output with what it expects (`values_equal`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .brief import brief
from .vocab import INPUT_NAMES

INT_MIN, INT_MAX = -1_000_000, 1_000_000
MAX_LIST_LENGTH = 100
FUEL = 10_000

ERROR_KINDS: tuple[str, ...] = (
    "zero_division", "empty_list", "index", "overflow", "length", "fuel", "type", "incomplete",
)  # fmt: skip
"""Every error kind, in the order observations encode them (0 is reserved for "no error")."""

Value = int | bool | list


@dataclass(frozen=True)
class EvalError:
    """The outcome of a run that failed; `kind` is one of `ERROR_KINDS`."""

    kind: str


def value_type(value: Value) -> str | None:
    """The language type of a Python value ("int", "bool", "list"), None if it is none of them."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, list) and all(type(e) is int for e in value):
        return "list"
    return None


def input_error(inputs: Mapping[str, Value]) -> str | None:
    """Why `inputs` are not valid program inputs, or None."""
    if not isinstance(inputs, Mapping):
        return f"inputs must be a mapping such as {{'x': [1, 2]}}, got {type(inputs).__name__}"
    for name, value in inputs.items():
        if name not in INPUT_NAMES:
            return f"unknown input {brief(name)}"
        kind = value_type(value)
        if kind not in ("int", "list"):
            return f"input {name!r} is not an int or a list of ints: {brief(value)}"
        items = value if kind == "list" else [value]
        if kind == "list" and len(value) > MAX_LIST_LENGTH:
            return f"input {name!r} is longer than {MAX_LIST_LENGTH}"
        if any(not INT_MIN <= e <= INT_MAX for e in items):
            return f"input {name!r} holds an integer outside [{INT_MIN}, {INT_MAX}]"
    return None


def values_equal(value: Value | EvalError, expected: Value) -> bool:
    """A test's comparison: same type and same value (`true` is not `1`)."""
    return value_type(value) == value_type(expected) and value == expected  # type: ignore[arg-type]
