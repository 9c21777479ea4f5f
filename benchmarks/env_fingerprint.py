"""A fingerprint of the environment's behaviour: one SHA-256 over long seeded rollouts.

    python benchmarks/env_fingerprint.py               # every configuration, then the total
    python benchmarks/env_fingerprint.py --steps 500   # shorter rollouts (a different fingerprint)

Speed work on the environment must leave what it returns unchanged. This script runs seeded
rollouts in every combination of action mode (rewrite, edit), corruption mode (mask, noise),
invalid-edit handling (ignore, apply) and action choice (random among the grammar mask, or raw
`action_space.sample()`), on the frozen task file `benchmarks/tasks/generated_test_200.jsonl` and
on the test suite's hand-written tasks (with `expert_labels`), with corruption drawn from (0, 1), and hashes every
observation (every key: name, dtype, shape and bytes), reward, termination, truncation and info
(every key, arrays by dtype, shape and bytes). Run it before and after a change: the fingerprints
must be equal. The figures recorded in benchmarks/README.md name the command.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from env_tasks import TASKS  # noqa: E402  (the test suite's hand-written tasks)

from progrefine_env.env import ProgramRefineEnv  # noqa: E402
from progrefine_env.tasks.io import load_tasks  # noqa: E402

TASK_FILE = ROOT / "benchmarks" / "tasks" / "generated_test_200.jsonl"
CONFIGS = list(itertools.product(("rewrite", "edit"), ("mask", "noise"), ("ignore", "apply"), (True, False)))
"""(action_mode, corruption_mode, invalid_edits, masked actions) of every rollout."""


def update(digest, value) -> None:
    """Feed one value (dict, sequence, array or scalar) into `digest`, type and shape included."""
    if isinstance(value, dict):
        for key in sorted(value):
            digest.update(f"<{key}>".encode())
            update(digest, value[key])
    elif isinstance(value, np.ndarray):
        digest.update(f"{value.dtype.str}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        digest.update(f"[{len(value)}".encode())
        for item in value:
            update(digest, item)
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def masked_action(mask: np.ndarray, edit: bool, max_nodes: int, rng: np.random.Generator):
    if edit:
        allowed = np.flatnonzero(mask)
        return int(allowed[rng.integers(len(allowed))])
    rows = mask.reshape(max_nodes, -1)
    return np.where(rows, rng.random(rows.shape) + 1e-9, -1.0).argmax(axis=1).astype(np.int64)


def rollout(tasks, steps: int, action_mode: str, corruption_mode: str, invalid_edits: str, masked: bool,
            seed: int, **options) -> str:  # fmt: skip
    """The hex digest of one seeded rollout of `steps` steps (resets included)."""
    env = ProgramRefineEnv(tasks=tasks, action_mode=action_mode, corruption_mode=corruption_mode,
                           invalid_edits=invalid_edits, corruption=(0.0, 1.0), **options)  # fmt: skip
    env.action_space.seed(seed)
    rng = np.random.default_rng(seed)
    digest = hashlib.sha256()
    obs, info = env.reset(seed=seed)
    update(digest, (obs, info))
    for _ in range(steps):
        if masked:
            action = masked_action(env.action_masks(), action_mode == "edit", env.max_nodes, rng)
        else:
            action = env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        update(digest, (obs, reward, terminated, truncated, info))
        if terminated or truncated:
            obs, info = env.reset()
            update(digest, (obs, info))
    return digest.hexdigest()


def fingerprints(steps: int) -> list[tuple[str, str]]:
    """(configuration, digest) of every rollout."""
    sources = [
        ("generated_test_200", load_tasks(TASK_FILE), {}),
        ("hand-written", TASKS, {"max_nodes": 32, "expert_labels": True}),
    ]
    results = []
    for (name, tasks, options), config in itertools.product(sources, CONFIGS):
        action_mode, corruption_mode, invalid_edits, masked = config
        label = f"{name} {action_mode} {corruption_mode} {invalid_edits} {'masked' if masked else 'unmasked'}"
        results.append((label, rollout(tasks, steps, *config, seed=len(results), **options)))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000, help="steps per rollout (default 2,000)")
    args = parser.parse_args(argv)
    total = hashlib.sha256()
    for label, digest in fingerprints(args.steps):
        print(f"{digest[:16]}  {label}", flush=True)
        total.update(digest.encode())
    print(f"\ntotal ({len(CONFIGS) * 2} rollouts of {args.steps} steps): {total.hexdigest()}")


if __name__ == "__main__":
    main()
