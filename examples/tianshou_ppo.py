"""Masked PPO on ProgramRefine-v0 with Tianshou's collector and PPOPolicy, and our graph network.

    pip install -c constraints.txt -e ".[clients]"   # tianshou 0.5.1 (2.x needs filelock<4); make setup does it
    python examples/tianshou_ppo.py --epochs 10
    python examples/tianshou_ppo.py --action-mode edit --checkpoint checkpoints/scheduled_sampling.pt

The env in Tianshou, in one line (Tianshou's masked policies read `obs.mask` and invert it with `~`,
hence booleans; `layout="auto"` makes a masked argmax over the last axis a valid action):

    ActionMaskObservation(gym.make("ProgramRefine-v0"), key="mask", observations_key="obs",
                          layout="auto", dtype="bool")

The actor hands PPOPolicy's `dist_fn` the network's logits and that mask;
`agents.integrations.distribution.GraphActionDistribution` applies it (`agents.nn.distribution`'s
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
from torch import nn

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)
from agents.integrations.distribution import GraphActionDistribution
from agents.nn.checkpoint import load_checkpoint
from agents.nn.network import ModelConfig, RefineNet
from progrefine_env.lang import VOCAB_SIZE
from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE
from progrefine_env.wrappers import ActionMaskObservation
from train.cli import add_dataclass_flags, build_dataclass
from train.errors import library_imports, user_errors

INSTALL = 'pip install -c constraints.txt -e ".[clients]"'  # the line printed when the library is missing
with library_imports(INSTALL, ("tianshou",)):  # missing: one line with the install command, exit 2
    from tianshou.data import Collector, VectorReplayBuffer
    from tianshou.env import DummyVectorEnv
    from tianshou.policy import PPOPolicy


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
    corpus_size: int = DEFAULT_CORPUS_SIZE
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


class Shared(nn.Module):
    """Our network for both of PPOPolicy's modules, run once for both heads.

    PPOPolicy calls the actor, then the critic, on the same minibatch (`minibatch.obs`, the same
    object): the actor's forward keeps the value head's output (with its graph) for that object and
    the critic takes it, so a minibatch costs one forward, as in the CleanRL-style example, not two.
    Without gradients (the old log-probabilities and GAE's values over a whole batch) it runs
    `chunk` rows at a time: a row costs ~3.5x more at 512 rows than at 64 (memory-bound tensors).
    """

    def __init__(self, net: RefineNet, chunk: int) -> None:
        super().__init__()
        self.net, self.chunk = net, chunk
        self._kept: tuple[object, torch.Tensor] | None = None

    def forward(self, obs) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, value) of a Tianshou observation Batch."""
        inputs = tensors(obs)
        rows = inputs["tokens"].shape[0]
        if torch.is_grad_enabled() or rows <= self.chunk:
            out = self.net(inputs)
            return out.logits, out.value
        parts = [self.net({k: v[s : s + self.chunk] for k, v in inputs.items()}) for s in range(0, rows, self.chunk)]
        return torch.cat([p.logits for p in parts]), torch.cat([p.value for p in parts])

    def keep(self, obs, value: torch.Tensor) -> None:
        self._kept = (obs, value) if torch.is_grad_enabled() else None

    def take(self, obs) -> torch.Tensor | None:
        kept, self._kept = self._kept, None
        return kept[1] if kept is not None and kept[0] is obs and torch.is_grad_enabled() else None


class Actor(nn.Module):
    """(logits, mask) for PPOPolicy's `dist_fn`, the logits in the mask's shape (`[B, N, V]`, or
    `[B, N * V]` in `edit` mode): Tianshou stacks the pair into one Batch."""

    def __init__(self, shared: Shared) -> None:
        super().__init__()
        self.shared = shared

    def forward(self, obs, state=None, info=None):
        (logits, value), mask = self.shared(obs), torch.as_tensor(obs.mask)
        self.shared.keep(obs, value)
        return (logits.reshape(mask.shape), mask), state


def dist_fn(logits: torch.Tensor, mask: torch.Tensor) -> GraphActionDistribution:
    """Our masked categoricals (node per node, or one flat edit) from the actor's pair."""
    return GraphActionDistribution(logits.reshape(*logits.shape[:1], -1, VOCAB_SIZE), mask)


class Critic(nn.Module):
    """The value head: the actor's forward on the same observations, else a forward of its own."""

    def __init__(self, shared: Shared) -> None:
        super().__init__()
        self.shared = shared

    def forward(self, obs, **kwargs) -> torch.Tensor:
        value = self.shared.take(obs)
        return (self.shared(obs)[1] if value is None else value).unsqueeze(-1)


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
    shared = Shared(net, chunk=config.minibatch)
    policy = PPOPolicy(
        Actor(shared),
        Critic(shared),
        torch.optim.Adam(net.parameters(), lr=config.lr),
        dist_fn,
        discount_factor=config.gamma,
        gae_lambda=config.gae_lambda,
        ent_coef=config.ent_coef,
        action_space=envs.action_space[0],
        action_scaling=False,
        deterministic_eval=False,
        max_batchsize=config.minibatch,  # GAE's value calls, in minibatch-sized pieces
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
            f"loss {np.mean(losses['loss']):+.3f}  time/sps {steps / (time.perf_counter() - start):.1f}"
        )
    print(f"masked actions taken: {taken} of {checked} checked")
    envs.close()


if __name__ == "__main__":
    main()
