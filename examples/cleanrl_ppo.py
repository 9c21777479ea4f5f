"""Masked PPO on ProgramRefine-v0 with our graph network, in one file, the way CleanRL's ppo.py reads.

    python examples/cleanrl_ppo.py --total-timesteps 20000
    python examples/cleanrl_ppo.py --action-mode edit --num-envs 4
    python examples/cleanrl_ppo.py --checkpoint checkpoints/scheduled_sampling.pt   # warm start
    tensorboard --logdir runs/cleanrl_ppo

Top to bottom: config (a frozen dataclass; every field is a flag), seeding, vector env, agent
(`RefineNet` + `agents.acting.policy.action_distribution`: per-node tokens under the grammar masks in
`rewrite` mode, one masked (node, token) pair in `edit` mode), rollout storage, the PPO loop
(GAE, clipped surrogate, clipped value loss, entropy bonus), logging. As in CleanRL, a truncated
episode is treated as ended (no bootstrap from its last state).
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)
from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE
from train.cli import add_dataclass_flags, build_dataclass
from train.errors import library_imports, user_errors

INSTALL = 'pip install -c constraints.txt -e ".[agents]"'  # the line printed when a library is missing
with library_imports(INSTALL, ("torch", "tensorboard", "torch_geometric")):  # missing: one line, exit 2
    import torch
    from torch import nn
    from torch.utils.tensorboard import SummaryWriter

    from agents.acting.policy import action_distribution
    from agents.nn.checkpoint import load_checkpoint
    from agents.nn.distribution import edit_mask
    from agents.nn.network import ModelConfig, RefineNet


@dataclass(frozen=True)
class Args:
    """PPO on ProgramRefine-v0.

    Attributes:
        tasks: "generated" (the built-in corpus) or a JSON Lines task file.
        corpus_size: size of the generated corpus (with tasks="generated").
        action_mode: "rewrite" (a token for every node each step) or "edit" (one node a step).
        corruption: fraction of nodes masked at reset.
        max_nodes: the env's node padding.
        seed: seeds Python, numpy, torch and the environments.
        torch_deterministic: torch.backends.cudnn.deterministic.
        total_timesteps: env steps over all environments.
        learning_rate: Adam's learning rate.
        num_envs: parallel environments (a synchronous vector env).
        num_steps: steps per environment per rollout.
        anneal_lr: decay the learning rate linearly to 0.
        gamma: discount.
        gae_lambda: GAE's lambda.
        num_minibatches: minibatches per epoch.
        update_epochs: passes over each rollout.
        norm_adv: normalise advantages per minibatch.
        clip_coef: PPO's ratio clip.
        clip_vloss: clip the value loss as in PPO's reference implementation.
        ent_coef: entropy bonus.
        vf_coef: value loss weight.
        max_grad_norm: gradient clipping.
        target_kl: stop an update's epochs early past this approximate KL (0: never).
        hidden: width of a fresh network (ignored with checkpoint).
        layers: message-passing rounds of a fresh network (ignored with checkpoint).
        checkpoint: a supervised checkpoint to start from ("" for a fresh network).
        logdir: TensorBoard folder (a run subfolder is made in it).
    """

    tasks: str = "generated"
    corpus_size: int = DEFAULT_CORPUS_SIZE
    action_mode: str = "rewrite"
    corruption: float = 0.25
    max_nodes: int = 64
    seed: int = 1
    torch_deterministic: bool = True
    total_timesteps: int = 4096
    learning_rate: float = 3e-4
    num_envs: int = 4
    num_steps: int = 64
    anneal_lr: bool = True
    gamma: float = 0.99
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 4
    norm_adv: bool = True
    clip_coef: float = 0.2
    clip_vloss: bool = True
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    target_kl: float = 0.0
    hidden: int = 64
    layers: int = 3
    checkpoint: str = ""
    logdir: str = "runs/cleanrl_ppo"


def make_envs(args: Args) -> gym.vector.VectorEnv:
    options = dict(tasks=args.tasks, action_mode=args.action_mode, corruption=args.corruption, max_nodes=args.max_nodes)
    if args.tasks == "generated":
        options["corpus_size"] = args.corpus_size
    # SAME_STEP autoreset (as CleanRL's gymnasium 0.29 code assumes): a finished env returns its
    # next episode's first observation in the same step.
    return gym.make_vec(
        "ProgramRefine-v0",
        num_envs=args.num_envs,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        **options,
    )


class Agent(nn.Module):
    """The graph network as a PPO actor-critic: masked token distribution and state value."""

    def __init__(self, net: RefineNet, action_mode: str) -> None:
        super().__init__()
        self.net, self.action_mode = net, action_mode

    def get_value(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.net(obs).value

    def get_action_and_value(self, obs: dict[str, torch.Tensor], action: torch.Tensor | None = None):
        out = self.net(obs)
        dist = action_distribution(out.logits, obs, self.action_mode)
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action), dist.entropy(), out.value


def allowed(obs: dict[str, torch.Tensor], action: torch.Tensor, action_mode: str) -> torch.Tensor:
    """[B] whether each action lies inside its observation's action mask (checked every step)."""
    mask = obs["grammar_mask"].bool()
    if action_mode == "edit":  # a real node and a token that changes it
        mask = edit_mask(mask, obs["tokens"], obs["node_mask"]).flatten(1)
        return mask.gather(1, action.long().unsqueeze(1)).squeeze(1)
    return mask.gather(2, action.long().unsqueeze(2)).squeeze(2).all(1)


def as_tensors(obs: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {key: torch.as_tensor(value) for key, value in obs.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataclass_flags(parser, Args, "ppo")
    with user_errors():  # a bad task file, checkpoint or option: one `error:` line, exit 2
        args = build_dataclass(Args, parser.parse_args(argv))
        net = load_checkpoint(args.checkpoint)[0] if args.checkpoint else None
        envs = make_envs(args)
    batch_size = args.num_envs * args.num_steps
    minibatch_size = batch_size // args.num_minibatches
    num_iterations = max(args.total_timesteps // batch_size, 1)
    run_name = f"{args.action_mode}__{args.seed}__{int(time.time())}"
    writer = SummaryWriter(str(Path(args.logdir) / run_name))
    writer.add_text("hyperparameters", "\n".join(f"|{k}|{v}|" for k, v in vars(args).items()))

    # Seeding
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic

    # Agent
    net = net or RefineNet(ModelConfig(hidden=args.hidden, layers=args.layers))
    agent = Agent(net, args.action_mode)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    # Storage: the observation is a dict, so is its buffer ([num_steps, num_envs, ...] per key)
    space = envs.single_observation_space
    obs = {k: torch.zeros((args.num_steps, args.num_envs, *s.shape), dtype=torch.as_tensor(s.sample()).dtype)
           for k, s in space.items()}  # fmt: skip
    actions = torch.zeros((args.num_steps, args.num_envs, *envs.single_action_space.shape), dtype=torch.long)
    logprobs, rewards, dones, values = (torch.zeros((args.num_steps, args.num_envs)) for _ in range(4))

    # Start the game
    global_step, masked_actions, episodes = 0, 0, []
    start_time = time.time()
    next_obs, _ = envs.reset(seed=args.seed)
    next_obs, next_done = as_tensors(next_obs), torch.zeros(args.num_envs)
    episode_return = np.zeros(args.num_envs)

    for iteration in range(1, num_iterations + 1):
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        for step in range(args.num_steps):
            global_step += args.num_envs
            for key in obs:
                obs[key][step] = next_obs[key]
            dones[step] = next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
            masked_actions += int((~allowed(next_obs, action, args.action_mode)).sum())
            values[step], actions[step], logprobs[step] = value, action, logprob

            raw, reward, terminations, truncations, _ = envs.step(action.numpy())
            next_done = torch.as_tensor(np.logical_or(terminations, truncations), dtype=torch.float32)
            rewards[step] = torch.as_tensor(reward, dtype=torch.float32)
            next_obs = as_tensors(raw)
            episode_return += reward
            for k in np.flatnonzero(next_done.numpy()):
                episodes.append((episode_return[k], bool(terminations[k])))
                writer.add_scalar("charts/episodic_return", episode_return[k], global_step)
                episode_return[k] = 0.0

        # Generalised advantage estimation
        with torch.no_grad():
            next_value = agent.get_value(next_obs)
            advantages = torch.zeros_like(rewards)
            lastgaelam = 0
            for t in reversed(range(args.num_steps)):
                if t == args.num_steps - 1:
                    nextnonterminal, nextvalues = 1.0 - next_done, next_value
                else:
                    nextnonterminal, nextvalues = 1.0 - dones[t + 1], values[t + 1]
                delta = rewards[t] + args.gamma * nextvalues * nextnonterminal - values[t]
                advantages[t] = lastgaelam = delta + args.gamma * args.gae_lambda * nextnonterminal * lastgaelam
            returns = advantages + values

        # Flatten the batch
        b_obs = {key: value.flatten(0, 1) for key, value in obs.items()}
        b_actions, b_logprobs = actions.flatten(0, 1), logprobs.reshape(-1)
        b_advantages, b_returns, b_values = advantages.reshape(-1), returns.reshape(-1), values.reshape(-1)

        # Optimise the policy and value network
        b_inds = np.arange(batch_size)
        clipfracs = []
        for _epoch in range(args.update_epochs):
            np.random.shuffle(b_inds)
            for start in range(0, batch_size, minibatch_size):
                mb_inds = b_inds[start : start + minibatch_size]
                mb_obs = {key: value[mb_inds] for key, value in b_obs.items()}
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(mb_obs, b_actions[mb_inds])
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()
                with torch.no_grad():
                    old_approx_kl = (-logratio).mean()
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfracs += [((ratio - 1.0).abs() > args.clip_coef).float().mean().item()]

                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)

                # Policy loss
                pg_loss1 = -mb_advantages * ratio
                pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()

                # Value loss
                if args.clip_vloss:
                    v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
                    v_clipped = b_values[mb_inds] + torch.clamp(
                        newvalue - b_values[mb_inds], -args.clip_coef, args.clip_coef
                    )
                    v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
                    v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
                else:
                    v_loss = 0.5 * ((newvalue - b_returns[mb_inds]) ** 2).mean()

                entropy_loss = entropy.mean()
                loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef

                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

            if args.target_kl > 0 and approx_kl > args.target_kl:
                break

        y_pred, y_true = b_values.numpy(), b_returns.numpy()
        var_y = np.var(y_true)
        explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y

        # Logging
        sps = global_step / (time.time() - start_time)
        writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
        for name, value in (("value_loss", v_loss.item()), ("policy_loss", pg_loss.item()),
                            ("entropy", entropy_loss.item()), ("old_approx_kl", old_approx_kl.item()),
                            ("approx_kl", approx_kl.item()), ("clipfrac", np.mean(clipfracs)),
                            ("explained_variance", explained_var)):  # fmt: skip
            writer.add_scalar(f"losses/{name}", value, global_step)
        writer.add_scalar("charts/SPS", sps, global_step)
        recent = episodes[-20:]
        mean_return = np.mean([r for r, _ in recent]) if recent else float("nan")
        print(
            f"iteration {iteration:3d}  global_step {global_step:6d}  episodes {len(episodes):4d}  "
            f"return {mean_return:+.3f}  solved {sum(s for _, s in recent)}/{len(recent)}  time/sps {sps:.1f}"
        )

    print(f"masked actions taken: {masked_actions} of {global_step} checked")
    envs.close()
    writer.close()


if __name__ == "__main__":
    main()
