"""Candidates in blocks: each block of `BLOCK_SIZE` candidates is drawn from its own seed, so that
blocks can run in worker processes and the result does not depend on how many there are.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import random
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

from ..task import Task
from .candidate import _generate
from .config import GeneratorConfig

BLOCK_SIZE = 128
"""Candidates per block: `generate_tasks` draws candidates in blocks, each from its own seed, so
that blocks can run in parallel and the result does not depend on the number of workers."""


def _block_seed(seed: int, block: int) -> int:
    digest = hashlib.sha256(f"progrefine-generate:{seed}:{block}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _iter_block(seed: int, block: int, config: GeneratorConfig) -> Iterator[tuple[Task, str]]:
    """The tasks (with fingerprints) that block `block` of seed `seed` yields, first per behaviour."""
    r = random.Random(_block_seed(seed, block))
    seen: set[str] = set()
    for _ in range(BLOCK_SIZE):
        result = _generate(r, config, seen)
        if result is not None:
            seen.add(result[1])
            yield result


def _generate_block(seed: int, block: int, config: GeneratorConfig) -> list[tuple[Task, str]]:
    return list(_iter_block(seed, block, config))


def _blocks(seed: int, config: GeneratorConfig, workers: int) -> Iterator[Iterable[tuple[Task, str]]]:
    """The results of blocks 0, 1, 2, ... in order, computed lazily here or by `workers` processes."""
    pool = None
    if workers > 1:
        try:
            context = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        except (OSError, ValueError, AssertionError):  # e.g. inside a daemonic process
            pool = None
    if pool is None:
        block = 0
        while True:
            yield _iter_block(seed, block, config)
            block += 1
    try:
        pending: deque = deque()
        block = 0
        while True:
            while len(pending) < workers:
                pending.append(pool.submit(_generate_block, seed, block, config))
                block += 1
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
