"""Graphs per second of the scheduled-sampling and DAgger trainers (rollouts included) beside the
model-only figure of the same network on the same machine (forward + backward on a batch already in
memory), so the ratio shows what the data path costs.

    python benchmarks/train_throughput.py [--batch-size 64] [--hidden 128] [--layers 4] [--iterations 5]
        [--vectorization sync|async]
"""

from __future__ import annotations

import argparse
import time

import torch

from agents.acting.collector import make_vector_env
from agents.nn.batching import stack_observations, to_tensors
from agents.nn.network import ModelConfig, RefineNet
from agents.training.dagger import DaggerConfig, DaggerTrainer
from agents.training.scheduled_sampling import ScheduledSamplingConfig, ScheduledSamplingTrainer
from progrefine_env.env import ProgramRefineEnv
from progrefine_env.tasks.generator import generate_tasks


def model_only(model: RefineNet, obs: dict, repeats: int) -> float:
    optimizer = torch.optim.Adam(model.parameters())
    batch = obs["tokens"].shape[0]
    for _ in range(2):  # warm-up
        model(obs).value.sum().backward()
    start = time.perf_counter()
    for _ in range(repeats):
        out = model(obs)
        loss = out.logits.masked_fill(torch.isinf(out.logits), 0).mean() + out.value.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if obs["tokens"].is_cuda:
        torch.cuda.synchronize()
    return batch * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--vectorization", default="sync", choices=["sync", "async"])
    args = parser.parse_args()
    tasks = generate_tasks(args.tasks, seed=123)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    header = ("device", "trainer", "batch", "hidden", "layers", "model-only g/s", "trainer g/s", "ratio")
    print(" ".join(f"{h:>{max(6, len(h))}}" for h in header))
    for device in devices:
        for name in ("scheduled_sampling", "dagger"):
            torch.manual_seed(0)
            model = RefineNet(ModelConfig(hidden=args.hidden, layers=args.layers)).to(device)
            trainer = build_trainer(name, model, tasks, args, device)
            env = ProgramRefineEnv(tasks=tasks, corruption=(0.5, 1.0))
            obs = to_tensors(stack_observations([env.reset(seed=k)[0] for k in range(args.batch_size)]), device)
            model_rate = model_only(model, obs, repeats=max(3, args.iterations))
            trainer.run_iteration()  # warm-up
            rates = [graphs_per_s(trainer.run_iteration()) for _ in range(args.iterations)]
            trainer_rate = sum(rates) / len(rates)
            print(f"{device:>6} {name:>18} {args.batch_size:>6} {args.hidden:>6} {args.layers:>6} {model_rate:>14.0f} "
                  f"{trainer_rate:>11.0f} {trainer_rate / model_rate:>6.2f}")  # fmt: skip


def build_trainer(name: str, model: RefineNet, tasks, args, device):
    """The trainer `name` on `args.batch_size` environments (DAgger: one gradient step per round, as
    scheduled sampling takes, so the two rates compare)."""
    if name == "scheduled_sampling":
        config = ScheduledSamplingConfig(batch_size=args.batch_size, vectorization=args.vectorization)
        envs = make_vector_env(config.batch_size, config.vectorization, tasks=tasks, corruption=(0.5, 1.0),
                               max_steps=config.rounds, expert_labels=True)  # fmt: skip
        return ScheduledSamplingTrainer(model, envs, config, device)
    config = DaggerConfig(num_envs=args.batch_size, beta0=0.5, vectorization=args.vectorization)
    envs = make_vector_env(config.num_envs, config.vectorization, tasks=tasks, **config.env_kwargs())
    return DaggerTrainer(model, envs, config, device)


def graphs_per_s(metrics: dict) -> float:
    return metrics.get("time/graphs_per_s", metrics.get("time/sps", float("nan")))


if __name__ == "__main__":
    main()
