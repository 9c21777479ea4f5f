"""Edit mode against rewrite mode for one policy: greedy, on the same corrupted programs.

    python benchmarks/edit_vs_rewrite.py                                   # the shipped checkpoint
    python benchmarks/edit_vs_rewrite.py --checkpoint runs/ppo-edit/model.pt --levels 0.25 0.5

For each task of the task file and each corruption level, the same corrupted program (reset with
seed = task index) is refined twice by the checkpoint's network, greedily (argmax under the
action masks): in `edit` mode one edit a step up to the episode's step limit (the env's default,
twice the program's nodes; every allowed edit changes the program, issue 23), and in `rewrite`
mode a token for every node a round, 5 rounds. Printed per level and mode: tasks whose visible
tests all pass, and of those the ones that also pass their held-out tests, the mean steps taken,
and the edits that changed the program. No search and no sampling: one greedy trajectory each.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.acting.policy import GraphPolicy  # noqa: E402
from agents.nn.batching import stack_observations  # noqa: E402
from agents.nn.checkpoint import load_checkpoint  # noqa: E402
from progrefine_env.env import ProgramRefineEnv  # noqa: E402
from progrefine_env.tasks.io import load_tasks  # noqa: E402

TASK_FILE = ROOT / "benchmarks" / "tasks" / "generated_test_200.jsonl"
CHECKPOINT = ROOT / "checkpoints" / "scheduled_sampling.pt"


def refine(policy: GraphPolicy, tasks, level: float, mode: str, rounds: int, chunk: int = 64) -> dict:
    """Greedy episodes of every task at `level` in `mode`, stepped together in chunks of the batch."""
    envs = []
    for index in range(len(tasks)):
        env = ProgramRefineEnv(tasks=tasks, action_mode=mode, corruption=level,
                               max_steps=rounds if mode == "rewrite" else None)  # fmt: skip
        obs, _ = env.reset(seed=index, options={"task_index": index})
        envs.append([env, obs, None, 0])  # env, observation, final info, steps
    changed = 0
    active = list(range(len(envs)))
    while active:
        for start in range(0, len(active), chunk):
            part = active[start : start + chunk]
            actions = policy.act(stack_observations([envs[k][1] for k in part]), deterministic=True).actions
            for k, action in zip(part, actions):
                env = envs[k][0]
                obs, _, terminated, truncated, info = env.step(int(action) if mode == "edit" else action)
                envs[k][1], envs[k][3] = obs, envs[k][3] + 1
                changed += info["nodes_changed"] > 0
                if terminated or truncated:
                    envs[k][2] = (terminated, info)
        active = [k for k in active if envs[k][2] is None]
    solved = [terminated for _, _, (terminated, _), _ in envs]
    held_out = [t and info["held_out_passed"] == info["num_held_out"] for _, _, (t, info), _ in envs]
    steps = [s for *_, s in envs]
    return {"solved": int(sum(solved)), "held_out": int(sum(held_out)), "tasks": len(envs),
            "mean_steps": float(np.mean(steps)), "changing_steps": changed / max(sum(steps), 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=str(CHECKPOINT))
    parser.add_argument("--tasks", default=str(TASK_FILE))
    parser.add_argument("--levels", type=float, nargs="+", default=[0.25, 0.5])
    parser.add_argument("--rounds", type=int, default=5, help="rewrite mode's rounds")
    parser.add_argument("--limit", type=int, default=None, help="the first this many tasks")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model, _ = load_checkpoint(args.checkpoint)
    tasks = load_tasks(args.tasks)[: args.limit]
    print(f"{args.checkpoint} on {len(tasks)} tasks of {args.tasks}, greedy, mask corruption")
    print("| corruption | mode | solved (visible) | also held-out | mean steps | steps changing it | CPU s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for level in args.levels:
        for mode in ("edit", "rewrite"):
            start = time.process_time()
            r = refine(GraphPolicy(model, mode), tasks, level, mode, args.rounds)
            limit = "2 x nodes edits" if mode == "edit" else f"{args.rounds} rounds"
            print(f"| {level} | {mode} ({limit}) | {r['solved']}/{r['tasks']} | {r['held_out']}/{r['tasks']} | "
                  f"{r['mean_steps']:.1f} | {100 * r['changing_steps']:.1f}% | {time.process_time() - start:.0f} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
