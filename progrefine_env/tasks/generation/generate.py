"""The entry points: `count` tasks with distinct behaviours (fingerprints), from blocks taken in
order, the first program found for each behaviour kept.
"""

from __future__ import annotations

import sys

from ..task import Task
from .config import GeneratorConfig
from .parallel import _blocks


def generate_tasks(
    count: int,
    seed: int = 0,
    config: GeneratorConfig = GeneratorConfig(),  # noqa: B008 - frozen, so a shared default is safe
    workers: int = 1,
    progress: bool = False,
) -> list[Task]:
    """`count` tasks with distinct behaviours (fingerprints), named `gen-{seed}-{k}`.

    The same `seed` and `config` give the same tasks whatever `workers` is: candidates are drawn
    in blocks of `BLOCK_SIZE`, each block from its own seed, and blocks are taken in order; the
    first program found for a behaviour is kept. `workers > 1` runs blocks in that many processes
    (falling back to one where processes cannot be started). `progress` prints a line now and then.

    Raises RuntimeError if the config admits too few behaviours to reach `count`."""
    return generate_tasks_with_fingerprints(count, seed, config, workers, progress)[0]


def generate_tasks_with_fingerprints(
    count: int,
    seed: int = 0,
    config: GeneratorConfig = GeneratorConfig(),  # noqa: B008 - frozen, so a shared default is safe
    workers: int = 1,
    progress: bool = False,
) -> tuple[list[Task], list[str]]:
    """`generate_tasks`, with the `fingerprint` of each task."""
    if count < 0:
        raise ValueError("count must be >= 0")
    tasks: list[Task] = []
    fps: list[str] = []
    seen: set[str] = set()
    barren, next_report = 0, 1000
    if count == 0:
        return tasks, fps
    for results in _blocks(seed, config, max(1, workers)):
        before = len(tasks)
        for task, fp in results:
            if fp in seen:
                continue
            seen.add(fp)
            fps.append(fp)
            tasks.append(Task(f"gen-{seed}-{len(tasks)}", task.input_types, task.program, task.tests,
                              task.held_out_tests))  # fmt: skip
            if len(tasks) == count:
                return tasks, fps
        barren = barren + 1 if len(tasks) == before else 0
        if barren >= 50:
            raise RuntimeError(f"only {len(tasks)} distinct behaviours found; the config admits too few")
        if progress and len(tasks) >= next_report:
            print(f"generate_tasks: {len(tasks)} / {count}", file=sys.stderr, flush=True)
            next_report += 1000
    raise AssertionError("unreachable")
