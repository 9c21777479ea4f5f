"""Train PPO from Ray RLlib (new API stack) on ProgramRefine-v0 with our graph network.

    pip install -c constraints-rllib.txt -e ".[rllib]"     # or: make test-rllib (its own .venv-rllib)
    python examples/rllib_ppo.py --iterations 20                      # 2 env runners (Ray workers)
    python examples/rllib_ppo.py --checkpoint checkpoints/scheduled_sampling.pt   # warm start
    python examples/rllib_ppo.py --action-mode edit --env-runners 4

The env is used as it is (`gym.make("progrefine_env:ProgramRefine-v0", **env_config)` on every
worker); the policy is `agents.integrations.rllib_module.RefineRLModule`, our `RefineNet` with
per-node grammar-masked logits and a value head. Env runners are Ray actors: on a Ray cluster
(`ray start --head` on one machine, `ray start --address=HEAD:6379` on the others, then run this
with `--address auto`), the same script samples on every machine. A warm-start checkpoint must
then lie at the same path on every machine.

Every action the env runners take is checked against the grammar mask of the observation it
answered (`masked actions taken` below; it must be 0).

Reads top to bottom: config, seeding, Ray, PPO config, train loop, evaluation.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)
from agents.nn.checkpoint import load_checkpoint
from progrefine_env.env import edit_mask
from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE
from train.cli import add_dataclass_flags, build_dataclass
from train.errors import library_imports, user_errors

INSTALL = (  # the line printed when Ray is missing: RLlib has its own environment (it pins gymnasium 1.2.2)
    "make test-rllib (creates .venv-rllib), or: python3 -m venv .venv-rllib && "
    ".venv-rllib/bin/pip install -c constraints-rllib.txt torch==2.13.0 && "
    '.venv-rllib/bin/pip install -c constraints-rllib.txt -e ".[rllib]"; then run this with .venv-rllib/bin/python'
)
with library_imports(INSTALL, ("ray",)):  # missing: one line with the install command, exit 2
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.columns import Columns
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from agents.integrations.rllib_module import RefineRLModule

ENV_ID = "progrefine_env:ProgramRefine-v0"  # "module:id": each Ray worker imports the module first


@dataclass(frozen=True)
class Config:
    """What the example trains and how.

    Attributes:
        tasks: "generated" (the built-in corpus) or a JSON Lines task file.
        corpus_size: size of the generated corpus (with tasks="generated").
        action_mode: "rewrite" (a token for every node each step) or "edit" (one node a step).
        corruption: fraction of nodes masked at reset.
        max_nodes: the env's node padding (tasks with more nodes are refused).
        iterations: PPO iterations (each samples train_batch env steps, then updates).
        env_runners: Ray workers that step environments (the way to scale past one machine).
        train_batch: env steps per iteration, over all env runners.
        minibatch: PPO minibatch size.
        epochs: passes over each train batch.
        lr: Adam learning rate.
        entropy_coeff: entropy bonus.
        hidden: width of a fresh network (ignored with checkpoint).
        layers: message-passing rounds of a fresh network (ignored with checkpoint).
        checkpoint: a supervised checkpoint to start from ("" for a fresh network).
        eval_episodes: greedy episodes on a local env after training.
        seed: seeds the network, the env runners and the evaluation.
        address: a Ray cluster to join ("auto"), or "" for a local Ray on this machine.
    """

    tasks: str = "generated"
    corpus_size: int = DEFAULT_CORPUS_SIZE
    action_mode: str = "rewrite"
    corruption: float = 0.25
    max_nodes: int = 64
    iterations: int = 10
    env_runners: int = 2
    train_batch: int = 256
    minibatch: int = 64
    epochs: int = 4
    lr: float = 3e-4
    entropy_coeff: float = 0.01
    hidden: int = 64
    layers: int = 3
    checkpoint: str = ""
    eval_episodes: int = 10
    seed: int = 0
    address: str = ""


def env_config(config: Config) -> dict:
    options = dict(
        tasks=config.tasks, action_mode=config.action_mode, corruption=config.corruption, max_nodes=config.max_nodes
    )
    if config.tasks == "generated":
        options["corpus_size"] = config.corpus_size
    return options


def count_masked_actions(*, metrics_logger=None, samples=None, **kwargs) -> None:
    """RLlib callback (`on_sample_end`, on each env runner): every action against its mask."""
    checked = masked = 0
    for episode in samples:
        observations, actions = episode.get_observations(), episode.get_actions()
        for t in range(len(actions)):
            obs = observations[t] if isinstance(observations, list) else {k: v[t] for k, v in observations.items()}
            allowed = obs["grammar_mask"].astype(bool)
            action = np.asarray(actions[t])
            if action.ndim == 0:  # edit: node * V + token, a real node and not its current token
                node, token = divmod(int(action), allowed.shape[1])
                ok = edit_mask(allowed, obs["tokens"], obs["node_mask"])[node, token]
            else:  # rewrite: one token per node (padded nodes: only <pad>)
                ok = allowed[np.arange(len(action)), action].all()
            checked, masked = checked + 1, masked + (not ok)
    metrics_logger.log_value("actions_checked", checked, reduce="sum")
    metrics_logger.log_value("masked_actions_taken", masked, reduce="sum")


def ppo_config(config: Config) -> PPOConfig:
    model_config = {"checkpoint": config.checkpoint} if config.checkpoint else {}
    model_config["network"] = {"hidden": config.hidden, "layers": config.layers}
    fragment = max(config.train_batch // max(config.env_runners, 1), 1)
    return (
        PPOConfig()
        .environment(ENV_ID, env_config=env_config(config))
        .env_runners(num_env_runners=config.env_runners, num_envs_per_env_runner=1, rollout_fragment_length=fragment)
        .rl_module(rl_module_spec=RLModuleSpec(module_class=RefineRLModule, model_config=model_config))
        .training(
            train_batch_size_per_learner=config.train_batch,
            minibatch_size=config.minibatch,
            num_epochs=config.epochs,
            lr=config.lr,
            entropy_coeff=config.entropy_coeff,
        )
        .callbacks(on_sample_end=count_masked_actions)
        .debugging(seed=config.seed)
    )


def evaluate(module: RefineRLModule, config: Config) -> tuple[float, int]:
    """Greedy episodes on a local env: (mean return, solved)."""
    env = gym.make("ProgramRefine-v0", **env_config(config))
    returns, solved = [], 0
    obs, _ = env.reset(seed=config.seed + 1)
    for _ in range(config.eval_episodes):
        total, done = 0.0, False
        while not done:
            batch = {Columns.OBS: {k: torch.as_tensor(v)[None] for k, v in obs.items()}}
            with torch.no_grad():
                inputs = module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS]
            action = module.get_inference_action_dist_cls().from_logits(inputs).to_deterministic().sample()[0]
            obs, reward, terminated, truncated, _ = env.step(action.numpy() if action.ndim else int(action))
            total, done = total + reward, terminated or truncated
        returns.append(total)
        solved += terminated
        obs, _ = env.reset()
    return float(np.mean(returns)), solved


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataclass_flags(parser, Config, "example")
    with user_errors():  # a bad task file, checkpoint or option: one `error:` line, exit 2
        config = build_dataclass(Config, parser.parse_args(argv))
        if config.iterations < 1 or config.env_runners < 0:
            raise ValueError(f"need iterations >= 1 and env_runners >= 0, got {config}")
        if config.checkpoint:
            load_checkpoint(config.checkpoint)
        gym.make("ProgramRefine-v0", **env_config(config)).close()  # refuse bad options here, not in a worker

    torch.manual_seed(config.seed)
    ray.init(address=config.address or None, include_dashboard=False, log_to_driver=False)
    algo = ppo_config(config).build_algo()
    start, checked, masked = time.perf_counter(), 0, 0
    for iteration in range(1, config.iterations + 1):
        runners = algo.train()["env_runners"]
        steps = runners.get("num_env_steps_sampled_lifetime", 0)
        checked += int(runners.get("actions_checked", 0))  # summed over this iteration's samples
        masked += int(runners.get("masked_actions_taken", 0))
        print(
            f"iteration {iteration:3d}  env steps {int(steps):6d}  "
            f"return {runners.get('episode_return_mean', float('nan')):+.3f}  "
            f"time/sps {steps / (time.perf_counter() - start):.1f}"
        )
    print(f"masked actions taken: {masked} of {checked} checked")
    mean_return, solved = evaluate(algo.get_module(), config)
    print(f"eval: mean return {mean_return:+.3f}, solved {solved}/{config.eval_episodes}")
    algo.stop()
    ray.shutdown()


if __name__ == "__main__":
    main()
