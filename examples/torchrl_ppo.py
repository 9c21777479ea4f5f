"""Masked PPO on ProgramRefine-v0 with TorchRL's collector, GAE and PPO loss, and our graph network.

    pip install -c constraints.txt -e ".[clients]"   # torchrl 0.14.1, tensordict 0.14.3; make setup does it
    python examples/torchrl_ppo.py --total-frames 4096
    python examples/torchrl_ppo.py --action-mode edit --checkpoint checkpoints/scheduled_sampling.pt

The env in TorchRL, in one line:

    TransformedEnv(GymWrapper(ActionMaskObservation(gym.make("ProgramRefine-v0"), layout="auto",
                                                    dtype="bool"), categorical_action_encoding=True),
                   ActionMask())

`ActionMaskObservation(layout="auto")` puts the grammar mask in the shape of TorchRL's action spec
(`[N, V]` for `rewrite`'s per-node tokens, `[N * V]` for `edit`'s one categorical), so that
TorchRL's `ActionMask` transform masks the spec's random actions too. The actor reads the same
`action_mask` key: its distribution (`agents.integrations.distribution.GraphActionDistribution`)
wraps `agents.nn.distribution`'s masked categoricals, so a masked action has probability exactly 0.

Reads top to bottom: config, seeding, env, actor and critic, collector, GAE + ClipPPOLoss loop.
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
from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE
from progrefine_env.wrappers import ActionMaskObservation
from train.cli import add_dataclass_flags, build_dataclass
from train.errors import library_imports, user_errors

INSTALL = 'pip install -c constraints.txt -e ".[clients]"'  # the line printed when the library is missing
with library_imports(INSTALL, ("torchrl", "tensordict")):  # missing: one line with the install command, exit 2
    from tensordict.nn import TensorDictModule
    from torchrl.collectors import Collector
    from torchrl.data import LazyTensorStorage, ReplayBuffer, SamplerWithoutReplacement
    from torchrl.envs import ActionMask, GymWrapper, SerialEnv, TransformedEnv
    from torchrl.modules import ProbabilisticActor, ValueOperator
    from torchrl.objectives import ClipPPOLoss
    from torchrl.objectives.value import GAE


@dataclass(frozen=True)
class Config:
    """Masked PPO with TorchRL.

    Attributes:
        tasks: "generated" (the built-in corpus) or a JSON Lines task file.
        corpus_size: size of the generated corpus (with tasks="generated").
        action_mode: "rewrite" (a token for every node each step) or "edit" (one node a step).
        corruption: fraction of nodes masked at reset.
        max_nodes: the env's node padding.
        num_envs: environments in TorchRL's SerialEnv.
        frames_per_batch: env steps the collector gathers per update (over all environments).
        total_frames: env steps in all.
        minibatch: PPO minibatch size.
        epochs: passes over each batch.
        lr: Adam's learning rate.
        gamma: discount.
        lmbda: GAE's lambda.
        clip_epsilon: PPO's ratio clip.
        entropy_coef: entropy bonus.
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
    frames_per_batch: int = 256
    total_frames: int = 2048
    minibatch: int = 64
    epochs: int = 4
    lr: float = 3e-4
    gamma: float = 0.99
    lmbda: float = 0.95
    clip_epsilon: float = 0.2
    entropy_coef: float = 0.01
    hidden: int = 64
    layers: int = 3
    checkpoint: str = ""
    seed: int = 0


class _Shared:
    """Our network run once for both heads (not a module: the heads register its parameters).

    ClipPPOLoss calls the actor, then the critic, on the same minibatch tensordict: the actor's
    forward keeps the value head's output (with its graph) for those input tensors and the critic
    takes it, so a minibatch costs one forward, as in the CleanRL-style example, not two. Without
    gradients (GAE's value calls over a whole batch) it runs `chunk` rows at a time: the network's
    per-(node, test) tensors make a row cost ~3.5x more at 512 rows than at 64 (memory-bound).
    """

    def __init__(self, net: RefineNet, chunk: int) -> None:
        self.net, self.chunk = net, chunk
        self._kept: tuple[torch.Tensor, torch.Tensor] | None = None

    def __call__(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits [B, N, V], value [B]) of a flat batch."""
        rows = obs["tokens"].shape[0]
        if torch.is_grad_enabled() or rows <= self.chunk:
            out = self.net(obs)
            return out.logits, out.value
        parts = [self.net({k: v[s : s + self.chunk] for k, v in obs.items()}) for s in range(0, rows, self.chunk)]
        return torch.cat([p.logits for p in parts]), torch.cat([p.value for p in parts])

    def keep(self, key: torch.Tensor, value: torch.Tensor) -> None:
        self._kept = (key, value) if torch.is_grad_enabled() else None

    def take(self, key: torch.Tensor) -> torch.Tensor | None:
        kept, self._kept = self._kept, None
        return kept[1] if kept is not None and kept[0] is key and torch.is_grad_enabled() else None


class _Head(nn.Module):
    """The network on TorchRL's flat keyword inputs: `part="logits"` ([..., N, V]) or "value" ([..., 1])."""

    def __init__(self, shared: _Shared, keys: list[str], part: str) -> None:
        super().__init__()
        self.net, self.shared, self.keys, self.part = shared.net, shared, keys, part

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        batch = tensors[0].shape[: tensors[0].dim() - 1]  # the first key is a per-node array: [..., N]
        obs = {key: t.reshape(-1, *t.shape[len(batch) :]) for key, t in zip(self.keys, tensors)}
        if self.part == "logits":
            logits, value = self.shared(obs)
            self.shared.keep(tensors[0], value)
            return logits.reshape(*batch, *logits.shape[1:])
        value = self.shared.take(tensors[0])
        value = self.shared(obs)[1] if value is None else value
        return value.reshape(*batch, 1)


def make_env(config: Config) -> TransformedEnv:
    options = dict(
        tasks=config.tasks, action_mode=config.action_mode, corruption=config.corruption, max_nodes=config.max_nodes
    )
    if config.tasks == "generated":
        options["corpus_size"] = config.corpus_size
    env = ActionMaskObservation(gym.make("ProgramRefine-v0", **options), layout="auto", dtype="bool")
    return TransformedEnv(GymWrapper(env, categorical_action_encoding=True), ActionMask())


def masked_actions(batch) -> tuple[int, int]:
    """(actions outside their mask, actions checked) in a collected batch: every action (a
    `rewrite` action is outside when any node's token is)."""
    action, mask = batch["action"], batch["action_mask"]
    ok = mask.gather(-1, action.unsqueeze(-1)).reshape(batch.numel(), -1).all(-1)
    return int((~ok).sum()), batch.numel()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataclass_flags(parser, Config, "ppo")
    with user_errors():  # a bad task file, checkpoint or option: one `error:` line, exit 2
        config = build_dataclass(Config, parser.parse_args(argv))
        net = load_checkpoint(config.checkpoint)[0] if config.checkpoint else None
        make_env(config).close()  # refuse bad options here, not inside the collector

    # Seeding
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)

    # Env: TorchRL's batched env over the one-line env above
    env = SerialEnv(config.num_envs, lambda: make_env(config))
    env.set_seed(config.seed)
    keys = [key for key in env.observation_spec.keys() if key != "action_mask"]

    # Actor (masked tokens) and critic (state value) share our graph network
    net = net or RefineNet(ModelConfig(hidden=config.hidden, layers=config.layers))
    shared = _Shared(net, chunk=config.minibatch)
    actor = ProbabilisticActor(
        TensorDictModule(_Head(shared, keys, "logits"), in_keys=keys, out_keys=["logits"]),
        in_keys=["logits", "action_mask"],
        distribution_class=GraphActionDistribution,
        return_log_prob=True,
        spec=env.action_spec,
    )
    critic = ValueOperator(_Head(shared, keys, "value"), in_keys=keys)

    # Collector, advantage, loss
    collector = Collector(
        env, actor, frames_per_batch=config.frames_per_batch, total_frames=config.total_frames, split_trajs=False
    )
    # deactivate_vmap: our batching drops padded edges with a boolean index, which vmap cannot batch.
    advantage = GAE(
        gamma=config.gamma, lmbda=config.lmbda, value_network=critic, average_gae=True, deactivate_vmap=True
    )
    # functional=False: the loss calls actor and critic as the plain modules they are (one network), so
    # the critic can take the value from the actor's forward (`_Shared`); the gradients are the same.
    loss_module = ClipPPOLoss(
        actor, critic, clip_epsilon=config.clip_epsilon, entropy_coeff=config.entropy_coef, functional=False
    )
    optimizer = torch.optim.Adam(loss_module.parameters(), lr=config.lr)
    buffer = ReplayBuffer(
        storage=LazyTensorStorage(config.frames_per_batch),
        sampler=SamplerWithoutReplacement(),
        batch_size=config.minibatch,
    )

    start, frames, taken, checked = time.perf_counter(), 0, 0, 0
    for iteration, batch in enumerate(collector, start=1):
        bad, count = masked_actions(batch)
        taken, checked, frames = taken + bad, checked + count, frames + batch.numel()
        rewards = batch["next", "reward"]
        ended = batch["next", "done"]
        with torch.no_grad():  # advantages once per batch, as the CleanRL-style example does
            advantage(batch)
        buffer.extend(batch.reshape(-1))
        for _ in range(config.epochs):
            for minibatch in buffer:
                losses = loss_module(minibatch)
                loss = losses["loss_objective"] + losses["loss_critic"] + losses["loss_entropy"]
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(loss_module.parameters(), 0.5)
                optimizer.step()
        print(
            f"iteration {iteration:3d}  frames {frames:6d}  reward/step {rewards.mean().item():+.3f}  "
            f"episodes ended {int(ended.sum())}  time/sps {frames / (time.perf_counter() - start):.1f}"
        )
    print(f"masked actions taken: {taken} of {checked} checked")
    collector.shutdown()  # closes the env too


if __name__ == "__main__":
    main()
