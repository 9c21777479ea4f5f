"""Behaviours held back from the generated corpus: those of the benchmark task sets.

The benchmark tasks (`benchmarks/tasks/handwritten.jsonl` and the frozen
`benchmarks/tasks/generated_test_200.jsonl`) measure agents on programs they were not trained on.
So the generator rejects every program that passes all the tests (visible and held out) of one of
them: it computes the same function on every input the benchmark checks. `held_back.json.gz`
beside this module holds those tests (inputs and outputs only, no programs), written by
`benchmarks/make_handwritten.py` from the two files; its digest is part of the corpus cache key.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from ..lang import Compiled, EvalError, values_equal
from ..lang.interpreter import Value
from .task import Task

__all__ = ["HELD_BACK_FILE", "held_back_digest", "held_back_records", "passes_held_back", "write_held_back"]

HELD_BACK_FILE = Path(__file__).with_name("held_back.json.gz")

_KIND = {bool: "bool", int: "int", list: "list"}
Record = tuple[tuple[dict[str, Value], ...], tuple[Value, ...]]


def write_held_back(tasks: Iterable[Task], path: str | Path = HELD_BACK_FILE) -> None:
    """Write the tests of `tasks` as a held-back file (gzip'd JSON, byte-for-byte reproducible)."""
    records = [
        {"inputs": t.input_types, "tests": [[u.inputs, u.output] for u in t.tests + t.held_out_tests]}
        for t in tasks
    ]
    data = json.dumps(records, separators=(",", ":"), sort_keys=True).encode()
    Path(path).write_bytes(gzip.compress(data, mtime=0))


@cache
def _load(path: str) -> tuple[str, dict[tuple, tuple[Record, ...]]]:
    raw = Path(path).read_bytes()
    grouped: dict[tuple, list[Record]] = {}
    for record in json.loads(gzip.decompress(raw)):
        tests = record["tests"]
        key = (tuple(sorted(record["inputs"].items())), _KIND[type(tests[0][1])])
        grouped.setdefault(key, []).append((tuple(i for i, _ in tests), tuple(o for _, o in tests)))
    return hashlib.sha256(raw).hexdigest()[:16], {k: tuple(v) for k, v in grouped.items()}


def held_back_digest(path: str | Path = HELD_BACK_FILE) -> str:
    """A short hash of the held-back file (it keys the corpus cache)."""
    return _load(str(path))[0]


def held_back_records(input_types: Mapping[str, str], kind: str, path: str | Path = HELD_BACK_FILE):
    """The held-back (inputs, outputs) records of one input signature and output type ("int",
    "bool" or "list")."""
    return _load(str(path))[1].get((tuple(sorted(input_types.items())), kind), ())


def passes_held_back(
    compiled: Compiled, input_types: Mapping[str, str], kind: str, path: str | Path = HELD_BACK_FILE
) -> bool:
    """Whether the program passes every test of some held-back task with its inputs and output type."""
    for inputs, outputs in held_back_records(input_types, kind, path):
        for test_inputs, output in zip(inputs, outputs):
            got = compiled.run(test_inputs)
            if isinstance(got, EvalError) or not values_equal(got, output):
                break
        else:
            return True
    return False
