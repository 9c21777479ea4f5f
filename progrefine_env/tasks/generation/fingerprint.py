"""Semantic fingerprints: a program's behaviour as a hash of its outputs on fixed probe inputs
per signature. Two programs with one fingerprint are taken to be the same program: the generator
keeps the first of each (`candidate.py`, `parallel.py`, `generate.py`), and the corpus splits by it.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from functools import lru_cache

from ...lang import Compiled, EvalError, Program, check, compile_program
from ...lang.interpreter import Value
from ..task import Task
from .draw_tests import _input_key

PROBE_COUNT = 24
_PROBE_SEED = "progrefine-probes-v1"


@lru_cache(maxsize=64)
def _probes(signature: tuple[tuple[str, str], ...]) -> tuple[dict[str, Value], ...]:
    digest = hashlib.sha256(f"{_PROBE_SEED}:{signature}".encode()).digest()
    r = random.Random(int.from_bytes(digest[:8], "big"))
    probes, seen = [], set()
    lengths = [0, 1, 2, *range(3, 11)]
    # One int alone has too few values in -3..10 for PROBE_COUNT distinct probes: it takes -10..30.
    low, high = (-10, 30) if signature == (signature[0],) and signature[0][1] == "int" else (-3, 10)
    while len(probes) < PROBE_COUNT:
        inputs: dict[str, Value] = {}
        for name, kind in signature:
            if kind == "list":
                n = lengths[len(probes)] if len(probes) < len(lengths) else r.randint(0, 10)
                inputs[name] = [r.randint(-10, 10) for _ in range(n)]
            else:
                inputs[name] = r.randint(low, high)
        key = _input_key(inputs)
        if key not in seen:
            seen.add(key)
            probes.append(inputs)
    return tuple(probes)


def probe_inputs(input_types: Mapping[str, str]) -> list[dict[str, Value]]:
    """The fixed probe inputs that `fingerprint` runs a program on, for one input signature
    (drawn once from a fixed seed: lists of length 0..10 with values in -10..10, ints in -3..10,
    or -10..30 for a signature of one int alone, the first lists of lengths 0, 1, 2, ...). The
    same for every config and every release of v0."""
    return [dict(p) for p in _probes(tuple(input_types.items()))]


def _fingerprint(compiled: Compiled | EvalError, signature: tuple[tuple[str, str], ...], out: str) -> str:
    if isinstance(compiled, EvalError):
        results: list = [f"!{compiled.kind}"] * PROBE_COUNT
    else:
        results = []
        for probe in _probes(signature):
            got = compiled.run(probe)
            results.append(f"!{got.kind}" if isinstance(got, EvalError) else got)
    text = json.dumps([[list(p) for p in signature], out, results], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def fingerprint(task_or_program: Task | Program, input_types: Mapping[str, str] | None = None) -> str:
    """The behaviour of a program: a hash of its input signature, its output type and its outputs
    (an error as its kind) on `probe_inputs(input_types)`. Two programs with one fingerprint are
    taken to be the same program. For a Task, `input_types` defaults to the task's."""
    if isinstance(task_or_program, Task):
        program = task_or_program.program
        input_types = task_or_program.input_types if input_types is None else input_types
    else:
        program = task_or_program
    if input_types is None:
        raise TypeError("fingerprint(program, input_types) needs the input types")
    signature = tuple(input_types.items())
    info = check(program, input_types) if program.complete else None
    out = {1: "int", 2: "bool", 4: "list"}.get(info.syn[0], "?") if info and info.well_typed else "?"
    return _fingerprint(compile_program(program, input_types), signature, out)
