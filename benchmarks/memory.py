"""Long-run memory and soundness check: RSS of one process stepping ProgramRefine-v0 for a
million steps, with what must never happen counted along the way.

    nice -n 10 python benchmarks/memory.py --steps 1000000 --every 100000
    nice -n 10 python benchmarks/memory.py --walk --steps 1000000      # masked edit walks only

Drives the test suite's fuzzer (tests/env_fuzz.py): one environment per combination of the
dynamics options (action mode, corruption mode, invalid edits, reward; some rendering, some with
3-step episodes), an episode each in turn, on the default generated corpus (train split, 20,000
tasks, loaded once and shared), corruption drawn from [0, 1]; a third of the actions are one
masked edit, a third a masked round (rewrite) or masked edit (edit mode), a third
`action_space.sample()`. `--walk` instead runs only edit-mode environments (mask and noise
corruption, both `invalid_edits`) with masked edits: the check that an edit inside the grammar
mask never takes a well-typed program to an ill-typed one.

Prints a table: steps so far, RSS (MB, from /proc/self/status), entries in the language's caches,
and the counts of exceptions, bad rewards, observations outside the space (one in 50 checked),
masked edits from a well-typed program and those that left it ill-typed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from env_fuzz import OPTION_GRID, Fuzzer  # noqa: E402

from progrefine_env import graph  # noqa: E402
from progrefine_env.lang import interpreter, program, types  # noqa: E402
from progrefine_env.tasks.corpus import load_corpus  # noqa: E402


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cache_entries() -> int:
    """Entries held by the language's and the graph encoder's module-level caches."""
    lru = (program.shape_of, graph.static_graph, interpreter._compile_cached)
    return sum(types.cache_sizes().values()) + sum(f.cache_info().currsize for f in lru)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=100_000, help="steps between rows")
    parser.add_argument("--walk", action="store_true", help="masked edit-mode walks only")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tasks = load_corpus("train")
    configs = OPTION_GRID
    if args.walk:
        configs = [
            {**c, "max_steps": None} for c in OPTION_GRID if c["action_mode"] == "edit" and c["reward"] == "delta"
        ]
    fuzzer = Fuzzer(tasks, seed=args.seed, check_every=50, configs=configs, max_nodes=64, max_tests=8)
    if args.walk:
        fuzzer.kinds = (0,)  # masked edits only
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"{len(tasks)} tasks, {len(configs)} environments, {'walk' if args.walk else 'all actions'}\n")
    header = ("steps", "minutes", "RSS MB", "cache entries", "exceptions", "bad rewards", "obs outside",
              "masked edits", "ill-typed after")  # fmt: skip
    print(" | ".join(header))
    start, done = time.perf_counter(), 0
    row(0, start, fuzzer.stats)
    while done < args.steps:
        chunk = min(args.every, args.steps - done)
        fuzzer.run(chunk)
        done += chunk
        row(done, start, fuzzer.stats)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    for failure in fuzzer.stats.failures:
        print(failure)


def row(done: int, start: float, stats) -> None:
    minutes = (time.perf_counter() - start) / 60
    cells = (f"{done:,}", f"{minutes:.1f}", f"{rss_mb():.0f}", f"{cache_entries():,}", stats.exceptions,
             stats.bad_rewards, stats.outside_space, f"{stats.masked_edits:,}", stats.broke_types)  # fmt: skip
    print(" | ".join(str(c) for c in cells), flush=True)


if __name__ == "__main__":
    main()
