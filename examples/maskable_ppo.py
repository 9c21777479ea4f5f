"""Train sb3-contrib's MaskablePPO on ProgramRefine-v0 with the graph policy, then evaluate it with
grammar masks.

    pip install "progrefine[agents]"     # stable-baselines3, sb3-contrib, torch
    python examples/maskable_ppo.py --timesteps 20000
    python examples/maskable_ppo.py --action-mode edit --timesteps 20000
    python examples/maskable_ppo.py --init checkpoints/scheduled_sampling.pt --save ppo_graph.zip
    python examples/maskable_ppo.py --policy mlp        # SB3's MultiInputPolicy, for comparison

`--policy graph` (default) is `agents.integrations.sb3_policy.MaskableGraphPolicy`: the repository's graph
network (backbone as features extractor, per-node action head, masked distribution over
`[nodes, tokens]`), which `--init` loads from a supervised checkpoint. `--policy mlp` flattens the
Dict observation into an MLP: it shows the plumbing (masks through `env.action_masks()`), not a
good program repairer.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)
from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE
from train.errors import library_imports, user_errors  # a bad task file, checkpoint or option: one `error:` line

INSTALL = 'pip install -c constraints.txt -e ".[agents]"'  # the line printed when a library is missing
with library_imports(INSTALL, ("torch", "sb3_contrib", "stable_baselines3", "torch_geometric")):  # one line, exit 2
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.logger import Logger, configure

    from agents.integrations.sb3_policy import MaskableGraphPolicy, warm_start
    from agents.nn.network import ModelConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=2048)
    parser.add_argument("--policy", choices=["graph", "mlp"], default="graph", help="graph network or SB3's MLP")
    parser.add_argument("--init", default=None, help="graph policy: start from this supervised checkpoint")
    parser.add_argument("--hidden", type=int, default=64, help="graph policy width (without --init)")
    parser.add_argument("--layers", type=int, default=2, help="graph policy message-passing rounds (without --init)")
    parser.add_argument("--action-mode", choices=["rewrite", "edit"], default="rewrite")
    parser.add_argument("--corruption", type=float, default=0.25, help="fraction of nodes masked at reset")
    parser.add_argument("--tasks", default="generated", help="a JSON Lines task file (default: generated)")
    parser.add_argument("--corpus-size", type=int, default=DEFAULT_CORPUS_SIZE, help="size of the generated corpus")
    parser.add_argument("--max-nodes", type=int, default=64)
    parser.add_argument("--n-envs", type=int, default=2)
    parser.add_argument("--n-steps", type=int, default=128, help="steps per environment per rollout")
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--save", default=None, help="save the trained model here (.zip; MaskablePPO.load reads it)")
    parser.add_argument("--tensorboard-log", default=None, help="TensorBoard directory (default: no logs written)")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def make_model(args, env) -> MaskablePPO:
    common = dict(n_steps=args.n_steps, batch_size=64, seed=args.seed, device="cpu")
    if args.policy == "mlp":
        return MaskablePPO("MultiInputPolicy", env, **common)
    config = ModelConfig(hidden=args.hidden, layers=args.layers)
    if args.init:
        from agents.nn.checkpoint import load_checkpoint

        config = load_checkpoint(args.init)[0].config
    model = MaskablePPO(MaskableGraphPolicy, env, policy_kwargs={"model_config": config}, **common)
    if args.init:
        warm_start(model.policy, args.init)
    return model


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    options = dict(tasks=args.tasks, action_mode=args.action_mode, corruption=args.corruption, max_nodes=args.max_nodes)
    if args.tasks == "generated":
        options["corpus_size"] = args.corpus_size
    # MaskablePPO finds the masks by calling each env's action_masks() through the VecEnv.
    # (render_mode=None: make_vec_env would ask for "rgb_array", pictures nobody looks at here.)
    with user_errors():
        env = make_vec_env(
            "ProgramRefine-v0", n_envs=args.n_envs, seed=args.seed, env_kwargs={**options, "render_mode": None}
        )
        model = make_model(args, env)
    # SB3's default logger makes an empty SB3-<date> folder in the temp folder on every run even
    # when it logs nothing; a logger of our own writes nowhere (or only the TensorBoard folder asked for).
    logs = configure(args.tensorboard_log, ["tensorboard"]) if args.tensorboard_log else Logger(None, [])
    model.set_logger(logs)
    start = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    sps = model.num_timesteps / (time.perf_counter() - start)  # SB3's time/fps, over the whole run
    print(f"trained {model.num_timesteps} steps ({args.action_mode} mode, {args.policy} policy)  time/sps {sps:.1f}")
    if args.save:
        model.save(args.save)
        print(f"saved {args.save}")

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
