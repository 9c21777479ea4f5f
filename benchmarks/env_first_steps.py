"""Mean CPU time per step over a fresh process's first steps, everything included.

    python benchmarks/env_first_steps.py                       # 20,000 edit and 8,000 rewrite steps
    python benchmarks/env_first_steps.py --edit-steps 5000 --rewrite-steps 2000

`env_throughput.py` reports the best of several runs, which keeps the runs that no full garbage
collection and few type-cache misses fell into. This script reports what a user's first training
steps cost instead: from `gym.make("ProgramRefine-v0")` (default corpus, corruption 0.5), masked
random actions, resets, garbage collection and the filling of the type checker's caches all
counted (the drawing of actions too: a few µs). Run it in a new process for each figure.
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym
import numpy as np
from env_throughput import masked_action  # the same action drawing as the best-of-N benchmark

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)


def mean_step_cpu(mode: str, steps: int, seed: int = 0) -> float:
    """Mean CPU µs per `env.step` (with resets and action drawing) over `steps` steps."""
    env = gym.make("ProgramRefine-v0", action_mode=mode, corruption=0.5)
    base, rng = env.unwrapped, np.random.default_rng(seed)
    env.reset(seed=seed)
    start = time.process_time()
    for _ in range(steps):
        action = masked_action(base.action_masks(), mode == "edit", rng, base.max_nodes)
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    elapsed = time.process_time() - start
    env.close()
    return elapsed / steps * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edit-steps", type=int, default=20_000)
    parser.add_argument("--rewrite-steps", type=int, default=8_000)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.2f}")
    for mode, steps in (("edit", args.edit_steps), ("rewrite", args.rewrite_steps)):
        print(f"{mode:<8} {steps:>7,} steps  {mean_step_cpu(mode, steps):8.1f} µs / step (CPU, mean)")


if __name__ == "__main__":
    main()
