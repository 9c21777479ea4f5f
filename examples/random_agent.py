"""A random agent that only picks edits the grammar allows, on ProgramRefine-v0.

    python examples/random_agent.py                      # the built-in generated corpus
    python examples/random_agent.py --action-mode edit --episodes 20
    python examples/random_agent.py --tasks my_tasks.jsonl

Each step it draws, for every node (`rewrite` mode) or for the one edit (`edit` mode), a token
uniformly among those `env.action_masks()` allows, and prints each episode's return.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)
from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE
from train.errors import user_errors  # a bad task file or option: one `error:` line, exit 2


def masked_random_action(env: gym.Env, rng: np.random.Generator):
    """A uniformly random allowed action, for either action mode."""
    mask = env.unwrapped.action_masks()  # max_nodes * V booleans, node-major
    if isinstance(env.action_space, gym.spaces.Discrete):  # edit: one (node, token) pair
        return int(rng.choice(np.flatnonzero(mask)))
    rows = mask.reshape(len(env.action_space.nvec), -1)  # rewrite: one token per node
    return np.array([rng.choice(np.flatnonzero(row)) for row in rows], dtype=np.int64)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--action-mode", choices=["rewrite", "edit"], default="rewrite")
    parser.add_argument("--corruption", type=float, default=0.5, help="fraction of nodes masked at reset")
    parser.add_argument("--tasks", default="generated", help="a JSON Lines task file (default: generated)")
    parser.add_argument("--corpus-size", type=int, default=DEFAULT_CORPUS_SIZE, help="size of the generated corpus")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    options = {"tasks": args.tasks, "action_mode": args.action_mode, "corruption": args.corruption}
    if args.tasks == "generated":
        options["corpus_size"] = args.corpus_size  # the default size ships with the package
    with user_errors():
        env = gym.make("ProgramRefine-v0", **options)
    rng = np.random.default_rng(args.seed)
    returns, solved, total_steps, start = [], 0, 0, time.perf_counter()
    obs, info = env.reset(seed=args.seed)
    for episode in range(args.episodes):
        total, steps, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(masked_random_action(env, rng))
            total, steps, done = total + reward, steps + 1, terminated or truncated
        solved += terminated
        returns.append(total)
        total_steps += steps
        print(
            f"episode {episode:3d}  return {total:+.3f}  steps {steps:3d}  "
            f"tests {info['tests_passed']}/{info['num_tests']}  {'solved' if terminated else 'unsolved'}"
        )
        obs, info = env.reset()
    print(f"mean return {np.mean(returns):+.3f} over {args.episodes} episodes, solved {solved}")
    print(f"time/sps {total_steps / (time.perf_counter() - start):.1f}  (env steps a second, resets included)")
    env.close()


if __name__ == "__main__":
    main()
