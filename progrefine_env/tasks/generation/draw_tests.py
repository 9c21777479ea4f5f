"""Drawing a candidate's tests: random inputs of a signature within the config's ranges, kept
when the program runs on them without error, chosen to show as many different outputs as they can.

(Named so that pytest does not collect it.)
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from functools import lru_cache

from ...lang import Compiled, EvalError
from ...lang.interpreter import Value
from .config import GeneratorConfig


def _draw_inputs(r: random.Random, signature, config: GeneratorConfig) -> dict[str, Value]:
    inputs: dict[str, Value] = {}
    for name, kind in signature:
        if kind == "list":
            values = _value_range(config.value_low, config.value_high)
            inputs[name] = r.choices(values, k=r.randrange(config.max_list_length + 1))
        else:
            inputs[name] = r.randrange(config.int_low, config.int_high + 1)
    return inputs


@lru_cache(maxsize=16)
def _value_range(low: int, high: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1))


def _draw_tests(
    r: random.Random, compiled: Compiled, signature, config: GeneratorConfig
) -> tuple[list[dict[str, Value]], list[Value]] | None:
    """Distinct random inputs on which the program runs without error, with their outputs.

    Draws until `num_tests + num_held_out` inputs with pairwise different outputs are found, or
    twice that many valid inputs, or `max_input_draws` inputs were tried; then keeps one input
    per distinct output first (so that the tests show as much of the program's behaviour as they
    can), filled up in draw order, and
    returns them in draw order, except that if the visible tests (the first `num_tests`) would
    all share one output, a held-out test with another output takes the last visible place.
    None if fewer valid inputs than needed were found, or all outputs are the same."""
    wanted = config.num_tests + config.num_held_out
    valid: list[tuple[dict[str, Value], Value]] = []
    keys: set = set()
    distinct: dict = {}  # output key -> index in valid of the first input giving it
    failures, allowed = 0, config.max_input_draws - wanted
    for _ in range(config.max_input_draws):
        candidate = _draw_inputs(r, signature, config)
        key = _input_key(candidate)
        if key in keys:
            continue
        keys.add(key)
        got = compiled.run(candidate)
        if isinstance(got, EvalError):
            failures += 1
            if failures > allowed:
                return None
            continue
        out_key = (type(got), tuple(got)) if isinstance(got, list) else (type(got), got)
        distinct.setdefault(out_key, len(valid))
        valid.append((candidate, got))
        if len(distinct) >= wanted or len(valid) >= 2 * wanted:
            break
    if len(valid) < wanted:
        return None
    chosen = set(list(distinct.values())[:wanted])
    for k in range(len(valid)):
        if len(chosen) == wanted:
            break
        chosen.add(k)
    picked = [valid[k] for k in sorted(chosen)]
    # The visible tests must not all share one output (a constant program would pass them).
    visible = config.num_tests
    first = picked[0][1]
    if visible > 1 and all(type(o) is type(first) and o == first for _, o in picked[1:visible]):
        for k in range(visible, len(picked)):
            if type(picked[k][1]) is not type(first) or picked[k][1] != first:
                picked[visible - 1], picked[k] = picked[k], picked[visible - 1]
                break
        else:
            return None
    return [i for i, _ in picked], [o for _, o in picked]


def _input_key(inputs: Mapping[str, Value]) -> tuple:
    return tuple(tuple(v) if isinstance(v, list) else v for v in inputs.values())
