"""One candidate task: draw a signature, grow a program, screen what needs no run, draw tests,
screen and repair on them, fingerprint it, and hold back benchmark behaviours. Most candidates are
thrown away (None).
"""

from __future__ import annotations

import random
from bisect import bisect

import numpy as np

from ...lang import Compiled
from ..held_back import passes_held_back
from ..task import Task, Test
from .config import GeneratorConfig
from .draw_tests import _draw_tests
from .fingerprint import _fingerprint
from .grammar import _KIND_NAME
from .grow import _cumulative, _grow_program
from .screen import _screen, _static_reason


def _generate(r: random.Random, config: GeneratorConfig, seen: set[str] | None) -> tuple[Task, str] | None:
    signature = _draw_signature(r, config)
    grown = _grow_program(r, config, signature)
    if grown is None:
        return None
    program, kinds = grown
    names = [name for name, _ in signature]
    if _static_reason(program, names, config):
        return None
    compiled = Compiled(program)
    drawn = _draw_tests(r, compiled, signature, config)
    if drawn is None:
        return None
    inputs, outputs = drawn
    size = len(program)
    program, kinds, reason = _screen(
        program, kinds, inputs, outputs, config.reject_bypass, repair=True,
        static=lambda p: _static_reason(p, names, config),
    )  # fmt: skip
    if reason is not None:
        return None
    if len(program) != size:
        compiled = Compiled(program)
    fp = _fingerprint(compiled, signature, _KIND_NAME[kinds[0]])
    if seen is not None and fp in seen:
        return None
    if config.hold_back and passes_held_back(compiled, dict(signature), _KIND_NAME[kinds[0]]):
        return None
    tests = tuple(Test(i, o) for i, o in zip(inputs, outputs))
    task = Task("", dict(signature), program, tests[: config.num_tests], tests[config.num_tests :])
    return task, fp


def _draw_signature(r: random.Random, config: GeneratorConfig) -> tuple[tuple[str, str], ...]:
    if not config.signature_weights:
        return config.signatures[r.randrange(len(config.signatures))]
    cum = _cumulative(config.signature_weights)
    return config.signatures[bisect(cum, r.random() * cum[-1])]


def _rng_for(rng: np.random.Generator) -> random.Random:
    return random.Random(int(rng.integers(0, 2**63 - 1)))


def generate_task(
    rng: np.random.Generator,
    config: GeneratorConfig = GeneratorConfig(),  # noqa: B008 - frozen, so a shared default is safe
) -> Task | None:
    """One random task (unnamed), or None when the candidate drawn from `rng` was rejected.

    Deterministic in `rng`'s state; each call consumes one draw from it."""
    result = _generate(_rng_for(rng), config, None)
    return None if result is None else result[0]
