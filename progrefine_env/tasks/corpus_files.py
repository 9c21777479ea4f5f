"""What the corpus files share, the cache's (`corpus.py`) and the shipped one's (`shipped.py`):
the default size, the key that names a corpus by everything that determines it, the letter that
records each task's split, and the task lines both are read from.

Its own module so that `corpus.py` can read the shipped file and `shipped.py` can use these
without either importing the other back.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterable, Sequence

from ..lang import TOKEN_ID, Program
from .generation import GENERATOR_VERSION, GeneratorConfig
from .held_back import held_back_digest
from .io import task_from_json
from .task import Task, Test

DEFAULT_CORPUS_SIZE = 20_000
"""The corpus size of every entry point (environment, demo, command lines, examples) by default."""

_LETTER = {"train": "r", "val": "v", "test": "t"}
"""One letter a split, in the split records of the corpus files (meta file, shipped header)."""


def corpus_key(size: int, seed: int, config: GeneratorConfig) -> str:
    """A hash of everything that determines a corpus."""
    settings = {"generator": GENERATOR_VERSION, "size": size, "seed": seed, "config": config.to_json()}
    if config.hold_back:  # the behaviours held back change with the benchmark files
        settings["held_back"] = held_back_digest()
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:20]


def decode_lines(lines: Iterable[str], wanted: Sequence[bool] | None = None, verify: bool = False) -> list[Task]:
    """The tasks of JSON Lines `lines` (blank and `#` lines skipped): all, or the k-th only where
    `wanted[k]`. Trusted (built without re-running the tests) unless `verify`, which validates
    each like `load_tasks` (raising ValueError with the line's reason)."""
    tasks: list[Task] = []
    token_id = TOKEN_ID
    k = -1
    collecting = gc.isenabled()
    gc.disable()  # a million small objects: the collector would triple the time, finding nothing
    try:
        for line in lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            k += 1
            if wanted is None or wanted[k]:
                record = json.loads(line)
                tasks.append(task_from_json(record) if verify else _trusted_task(record, token_id))
    finally:
        if collecting:
            gc.enable()
    if wanted is not None and k + 1 != len(wanted):
        raise ValueError(f"{k + 1} tasks, expected {len(wanted)}")
    return tasks


def _trusted_task(record: dict, token_id: dict[str, int]) -> Task:
    text = record["program"]
    # Canonical text: the tokens alone determine the tree (every token has one arity).
    program = Program.from_tokens([token_id[t] for t in text.replace("(", " ").replace(")", " ").split()])
    tests = tuple(Test(t["input"], t["output"]) for t in record["tests"])
    held_out = tuple(Test(t["input"], t["output"]) for t in record.get("held_out_tests", ()))
    return Task(record.get("name", ""), record["inputs"], program, tests, held_out)
