"""Train sb3-contrib's MaskablePPO on ProgramRefine-v0, then evaluate it with grammar masks.

    pip install "progrefine[agents]"     # stable-baselines3, sb3-contrib, torch
    python examples/maskable_ppo.py --timesteps 20000
    python examples/maskable_ppo.py --action-mode edit --timesteps 20000

The default "MultiInputPolicy" flattens the Dict observation into an MLP: a baseline that shows
the plumbing (masks through `env.action_masks()`), not a good program repairer; see `agents/` for
the graph network.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import torch
from sb3_contrib import MaskablePPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)
from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE
from train.errors import user_errors  # a bad task file or option: one `error:` line, exit 2


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=2048)
    parser.add_argument("--action-mode", choices=["rewrite", "edit"], default="rewrite")
    parser.add_argument("--corruption", type=float, default=0.25, help="fraction of nodes masked at reset")
    parser.add_argument("--tasks", default="generated", help="a JSON Lines task file (default: generated)")
    parser.add_argument("--corpus-size", type=int, default=DEFAULT_CORPUS_SIZE, help="size of the generated corpus")
    parser.add_argument("--max-nodes", type=int, default=64)
    parser.add_argument("--n-envs", type=int, default=2)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for a small MLP)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    options = dict(tasks=args.tasks, action_mode=args.action_mode, corruption=args.corruption, max_nodes=args.max_nodes)
    if args.tasks == "generated":
        options["corpus_size"] = args.corpus_size
    # MaskablePPO finds the masks by calling each env's action_masks() through the VecEnv.
    # (render_mode=None: make_vec_env would ask for "rgb_array", which this env does not draw.)
    with user_errors():
        env = make_vec_env(
            "ProgramRefine-v0", n_envs=args.n_envs, seed=args.seed, env_kwargs={**options, "render_mode": None}
        )
    model = MaskablePPO(
        "MultiInputPolicy", env, n_steps=max(256 // args.n_envs, 32), batch_size=64, seed=args.seed, device="cpu"
    )
    # SB3's default logger makes an empty SB3-<date> folder in the temp folder on every run even
    # when it logs nothing; a logger of our own writes nowhere.
    model.set_logger(Logger(folder=None, output_formats=[]))
    model.learn(total_timesteps=args.timesteps)
    print(f"trained {model.num_timesteps} steps ({args.action_mode} mode)")

    # Evaluation: predict() must be given the masks.
    eval_env = gym.make("ProgramRefine-v0", **options)
    returns, solved = [], 0
    obs, _ = eval_env.reset(seed=args.seed + 1)
    for _ in range(args.eval_episodes):
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(obs, action_masks=eval_env.unwrapped.action_masks(), deterministic=True)
            obs, reward, terminated, truncated, info = eval_env.step(action)
            total, done = total + reward, terminated or truncated
        returns.append(total)
        solved += terminated
        obs, _ = eval_env.reset()
    print(f"eval: mean return {np.mean(returns):+.3f}, solved {solved}/{args.eval_episodes}")
    env.close()
    eval_env.close()


if __name__ == "__main__":
    main()
