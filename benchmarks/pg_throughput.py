"""Environment steps per second of policy-gradient training end to end (rollouts, environment
steps and updates): sb3-contrib's MaskablePPO with the graph policy (`agents.integrations.sb3_policy`), SB3's
MLP `MultiInputPolicy` for comparison, and our own PPO (`agents.training.policy_gradient`), in both action
modes. Wall-clock and process-CPU rates side by side: on a machine shared with other jobs the CPU
rate says what the code costs, the wall rate what this run got.

    python benchmarks/pg_throughput.py [--steps 512] [--hidden 64] [--layers 2] [--n-envs 8] [--max-nodes 64]
    python benchmarks/pg_throughput.py --rows graph,ours --modes edit --profile   # where the time goes

`--profile` runs each row under cProfile and prints the share of the timed run spent in each part
(rollout: env steps, observation batching, forward; update: forward, backward, optimizer), read off
the cumulative time of the functions named in `PARTS`. cProfile inflates Python-heavy parts (the env
more than torch's kernels), so the shares are a guide, the rates without `--profile` the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import torch
from sb3_contrib import MaskablePPO
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.acting.collector import make_vector_env
from agents.integrations.sb3_policy import MaskableGraphPolicy
from agents.nn.network import ModelConfig, RefineNet
from agents.training.policy_gradient import PolicyGradientConfig, PolicyGradientTrainer
from progrefine_env.env import ProgramRefineEnv
from progrefine_env.tasks.generator import generate_tasks

# Per trainer: part -> (file suffix, function name[, caller name]) whose cumulative time (in calls
# from that caller, if named) is that part's.
PARTS = {
    "sb3": {
        "rollout": ("ppo_mask.py", "collect_rollouts"),
        "  env steps": ("dummy_vec_env.py", "step_wait"),
        "  observation batching": ("common/utils.py", "obs_as_tensor"),
        "  forward (acting)": ("maskable/policies.py", "forward"),
        "update": ("ppo_mask.py", "train"),
        "  forward (log-probs, values)": ("maskable/policies.py", "evaluate_actions"),
        "  backward": ("torch/_tensor.py", "backward"),
        "  optimizer": ("torch/optim/optimizer.py", "wrapper"),
    },
    "ours": {
        "rollout": ("agents/acting/collector.py", "collect"),
        "  env steps": ("sync_vector_env.py", "step"),
        "  observation batching": ("agents/nn/batching.py", "to_tensors"),
        "  forward (acting)": ("agents/acting/policy.py", "act"),
        "update": ("agents/training/policy_gradient.py", "_update"),
        "  forward (log-probs, values)": ("agents/acting/policy.py", "distribution", "_minibatch_step"),
        "  backward": ("torch/_tensor.py", "backward"),
        "  optimizer": ("torch/optim/optimizer.py", "wrapper"),
    },
}
PROFILE: cProfile.Profile | None = None


def timed(run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    if PROFILE is not None:
        PROFILE.enable()
    run()
    if PROFILE is not None:
        PROFILE.disable()
    return time.perf_counter() - wall, time.process_time() - cpu


def shares(profile: cProfile.Profile, parts: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """Share of the profiled run in each part (cumulative time of its function, summed over matches)."""
    stats = pstats.Stats(profile).stats  # (file, line, name) -> (calls, primitive, tottime, cumtime, callers)
    total = sum(entry[2] for entry in stats.values())
    out = {}
    for part, (suffix, name, *caller) in parts.items():
        cumulative = [
            entry[3] if not caller else sum(c[3] for (_, _, by), c in entry[4].items() if by == caller[0])
            for (file, _, func), entry in stats.items()
            if file.endswith(suffix) and func == name
        ]
        out[part] = max(cumulative, default=0.0) / total  # recursive entries repeat the outer time: take the largest
    return out


def sb3_rate(policy, mode: str, args, tasks) -> tuple[int, float, float]:
    env_kwargs = dict(tasks=tasks, action_mode=mode, corruption=(0.5, 1.0), max_nodes=args.max_nodes)
    env = DummyVecEnv([lambda: ProgramRefineEnv(**env_kwargs)] * args.n_envs)
    n_steps = max(args.steps // args.n_envs, 8)
    kwargs = {"policy_kwargs": {"model_config": ModelConfig(hidden=args.hidden, layers=args.layers)}}
    model = MaskablePPO(
        policy, env, n_steps=n_steps, batch_size=64, n_epochs=args.epochs, seed=0, device="cpu",
        **(kwargs if policy is MaskableGraphPolicy else {}),
    )  # fmt: skip
    model.set_logger(Logger(None, []))
    model.learn(n_steps * args.n_envs)  # warm-up rollout and update
    wall, cpu = timed(lambda: model.learn(n_steps * args.n_envs, reset_num_timesteps=False))
    env.close()
    return n_steps * args.n_envs, wall, cpu


def ours_rate(mode: str, args, tasks) -> tuple[int, float, float]:
    rounds = 5 if mode == "rewrite" else 16
    steps = max(args.steps // (args.n_envs * rounds), 1) * args.n_envs * rounds
    config = PolicyGradientConfig(
        total_steps=steps + args.n_envs * rounds, num_envs=args.n_envs, rollout_steps=rounds, rounds=rounds,
        action_mode=mode, epochs=args.epochs, minibatch_size=64,
    )  # fmt: skip
    torch.manual_seed(0)
    envs = make_vector_env(args.n_envs, tasks=tasks, max_nodes=args.max_nodes, **config.env_kwargs())
    trainer = PolicyGradientTrainer(RefineNet(ModelConfig(hidden=args.hidden, layers=args.layers)), envs, config)
    trainer.run_iteration()  # warm-up
    warm_up_steps = trainer.num_steps

    def run() -> None:
        while trainer.num_steps < config.total_steps:
            trainer.run_iteration()

    wall, cpu = timed(run)
    envs.close()
    # The steps timed, counted: until 2026-12-07 the run was 2 * steps long and reported `steps` while
    # timing every step after the warm-up iteration (896 in edit mode), understating our PPO's rate 1.75x.
    return trainer.num_steps - warm_up_steps, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=512, help="environment steps timed per row (after a warm-up)")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max-nodes", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--rows", default="graph,mlp,ours", help="which of graph, mlp, ours to time")
    parser.add_argument("--modes", default="edit,rewrite", help="action modes to time")
    parser.add_argument("--profile", action="store_true", help="print where each row's time goes (cProfile)")
    args = parser.parse_args()
    global PROFILE
    PROFILE = cProfile.Profile() if args.profile else None
    torch.set_num_threads(args.threads)
    tasks = generate_tasks(300, seed=123)
    rows = args.rows.split(",")
    print(f"hidden {args.hidden}, layers {args.layers}, {args.n_envs} envs, {args.epochs} epochs")
    print(f"{'trainer':<28} {'mode':<8} {'steps':>6} {'wall s':>7} {'steps/s':>8} {'cpu s':>7} {'steps/cpu-s':>11}")
    names = {"graph": "MaskablePPO + graph policy", "mlp": "MaskablePPO + MLP", "ours": "ours (policy_gradient, PPO)"}
    for mode in args.modes.split(","):
        for key in rows:
            if key == "ours":
                steps, wall, cpu = ours_rate(mode, args, tasks)
            else:
                policy = MaskableGraphPolicy if key == "graph" else "MultiInputPolicy"
                steps, wall, cpu = sb3_rate(policy, mode, args, tasks)
            rates = f"{steps / wall:>8.0f} {cpu:>7.1f} {steps / cpu:>11.0f}"
            print(f"{names[key]:<28} {mode:<8} {steps:>6} {wall:>7.1f} {rates}")
            if PROFILE is not None:
                for part, share in shares(PROFILE, PARTS["ours" if key == "ours" else "sb3"]).items():
                    print(f"    {part:<30} {100 * share:5.1f}%")
                PROFILE = cProfile.Profile()


if __name__ == "__main__":
    main()
