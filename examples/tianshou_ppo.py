"""Masked PPO on ProgramRefine-v0 with Tianshou's collector and PPOPolicy, and our graph network.

    pip install tianshou==0.5.1     # what installs beside our pins (2.x needs filelock<4)
    python examples/tianshou_ppo.py --epochs 10
    python examples/tianshou_ppo.py --action-mode edit --checkpoint checkpoints/scheduled_sampling.pt

The env in Tianshou, in one line (Tianshou's masked policies read `obs.mask` and invert it with `~`,
hence booleans; `layout="auto"` makes a masked argmax over the last axis a valid action):

    ActionMaskObservation(gym.make("ProgramRefine-v0"), key="mask", observations_key="obs",
                          layout="auto", dtype="bool")

The actor hands PPOPolicy's `dist_fn` the network's logits and that mask;
`agents.integrations.distribution.GraphActionDistribution` applies it (`agents.distribution`'s
masked categoricals), so a masked action has probability exactly 0.

Reads top to bottom: config, seeding, vector env, actor and critic, PPOPolicy, collect/update loop.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from tianshou.data import Collector, VectorReplayBuffer
from tianshou.env import DummyVectorEnv
from tianshou.policy import PPOPolicy
from torch import nn

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)
from agents.checkpoint import load_checkpoint
from agents.integrations.distribution import GraphActionDistribution
from agents.network import ModelConfig, RefineNet
from progrefine_env.lang import VOCAB_SIZE
from progrefine_env.wrappers import ActionMaskObservation
from train.cli import add_dataclass_flags, build_dataclass
from train.errors import user_errors


@dataclass(frozen=True)
class Config:
    """Masked PPO with Tianshou.

    Attributes:
        tasks: "generated" (the built-in corpus) or a JSON Lines task file.
        corpus_size: size of the generated corpus (with tasks="generated").
        action_mode: "rewrite" (a token for every node each step) or "edit" (one node a step).
        corruption: fraction of nodes masked at reset.
        max_nodes: the env's node padding.
        num_envs: environments in Tianshou's DummyVectorEnv.
        steps_per_epoch: env steps collected per update (over all environments).
        epochs: collect-and-update rounds.
        repeat: passes over each collected batch.
        minibatch: PPO minibatch size.
        lr: Adam's learning rate.
        gamma: discount.
        gae_lambda: GAE's lambda.
        ent_coef: entropy bonus.
        hidden: width of a fresh network (ignored with checkpoint).
        layers: message-passing rounds of a fresh network (ignored with checkpoint).
        checkpoint: a supervised checkpoint to start from ("" for a fresh network).
        seed: seeds torch, numpy and the environments.
    """

    tasks: str = "generated"
    corpus_size: int = 2000
    action_mode: str = "rewrite"
    corruption: float = 0.25
    max_nodes: int = 64
    num_envs: int = 2
    steps_per_epoch: int = 256
    epochs: int = 8
    repeat: int = 4
    minibatch: int = 64
    lr: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    ent_coef: float = 0.01
    hidden: int = 64
    layers: int = 3
    checkpoint: str = ""
    seed: int = 0


def make_env(config: Config) -> gym.Env:
    options = dict(
        tasks=config.tasks, action_mode=config.action_mode, corruption=config.corruption, max_nodes=config.max_nodes
    )
    if config.tasks == "generated":
        options["corpus_size"] = config.corpus_size
    env = gym.make("ProgramRefine-v0", **options)
    return ActionMaskObservation(env, key="mask", observations_key="obs", layout="auto", dtype="bool")


def tensors(obs) -> dict[str, torch.Tensor]:
    """Tianshou's Batch of the env's observation arrays as our network's dict of tensors."""
    return {key: torch.as_tensor(value) for key, value in obs.obs.items()}


class Actor(nn.Module):
    """(logits, mask) for PPOPolicy's `dist_fn`, the logits in the mask's shape (`[B, N, V]`, or
    `[B, N * V]` in `edit` mode): Tianshou stacks the pair into one Batch."""

    def __init__(self, net: RefineNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, obs, state=None, info=None):
        logits, mask = self.net(tensors(obs)).logits, torch.as_tensor(obs.mask)
        return (logits.reshape(mask.shape), mask), state


def dist_fn(logits: torch.Tensor, mask: torch.Tensor) -> GraphActionDistribution:
    """Our masked categoricals (node per node, or one flat edit) from the actor's pair."""
    return GraphActionDistribution(logits.reshape(*logits.shape[:1], -1, VOCAB_SIZE), mask)


class Critic(nn.Module):
    def __init__(self, net: RefineNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, obs, **kwargs) -> torch.Tensor:
        return self.net(tensors(obs)).value.unsqueeze(-1)


def masked_actions(buffer: VectorReplayBuffer) -> tuple[int, int]:
    """(actions outside their mask, actions checked): every action in the buffer."""
    batch, _ = buffer.sample(0)  # 0: everything, in order
    mask, action = np.asarray(batch.obs.mask), np.asarray(batch.act).astype(np.int64)
    ok = np.take_along_axis(mask, action[..., None], axis=-1).reshape(len(action), -1).all(-1)
    return int((~ok).sum()), len(ok)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataclass_flags(parser, Config, "ppo")
    with user_errors():  # a bad task file, checkpoint or option: one `error:` line, exit 2
        config = build_dataclass(Config, parser.parse_args(argv))
        net = load_checkpoint(config.checkpoint)[0] if config.checkpoint else None
        envs = DummyVectorEnv([lambda: make_env(config) for _ in range(config.num_envs)])

    # Seeding
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    envs.seed(config.seed)

    # Actor and critic share our graph network; PPOPolicy with our masked distribution
    net = net or RefineNet(ModelConfig(hidden=config.hidden, layers=config.layers))
    policy = PPOPolicy(
        Actor(net),
        Critic(net),
        torch.optim.Adam(net.parameters(), lr=config.lr),
        dist_fn,
        discount_factor=config.gamma,
        gae_lambda=config.gae_lambda,
        ent_coef=config.ent_coef,
        action_space=envs.action_space[0],
        action_scaling=False,
        deterministic_eval=False,
    )
    buffer = VectorReplayBuffer(config.steps_per_epoch, config.num_envs)
    collector = Collector(policy, envs, buffer)

    start, steps, taken, checked = time.perf_counter(), 0, 0, 0
    for epoch in range(1, config.epochs + 1):
        result = collector.collect(n_step=config.steps_per_epoch)
        bad, count = masked_actions(buffer)
        taken, checked, steps = taken + bad, checked + count, steps + int(result["n/st"])
        losses = policy.update(0, buffer, batch_size=config.minibatch, repeat=config.repeat)
        buffer.reset()
        episodes = int(result["n/ep"])
        mean_return = float(result["rew"]) if episodes else float("nan")
        print(
            f"epoch {epoch:3d}  env steps {steps:6d}  episodes {episodes:3d}  return {mean_return:+.3f}  "
            f"loss {np.mean(losses['loss']):+.3f}  ({steps / (time.perf_counter() - start):.1f} steps/s)"
        )
    print(f"masked actions taken: {taken} of {checked} checked")
    envs.close()


if __name__ == "__main__":
    main()
