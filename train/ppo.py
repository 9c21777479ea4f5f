"""Fine-tune (or train from scratch) the refinement network on the reward with PPO or REINFORCE.

    python -m train.ppo --init checkpoints/scheduled_sampling.pt --total-steps 20000   # from supervision
    python -m train.ppo --action-mode edit --rounds 16 --rollout-steps 16               # from scratch, edit mode
    python -m train.reinforce --init checkpoints/scheduled_sampling.pt --kl-coef 0.1   # REINFORCE
    python -m train.ppo --resume runs/ppo/NAME/checkpoint.pt                            # continue exactly

`python -m train.reinforce` is this command with `--algo reinforce`. Each run writes a new run
folder (checkpoint and TensorBoard logs; see train/run_folder.py); an existing checkpoint is only
written over with `--overwrite`. The checkpoint is a plain ProgRefine checkpoint: `python -m
train.evaluate --checkpoint runs/ppo/NAME/checkpoint.pt` reports it. Ctrl-C stops a run after
saving its last whole iteration (`--resume` continues from there exactly).

Reads top to bottom: config, seeding, build (warm start), loop (with checkpoints and TensorBoard), save.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from agents.acting.collector import make_vector_env
from agents.acting.refine import format_report, refinement_report
from agents.nn.checkpoint import load_checkpoint, save_checkpoint
from agents.nn.network import ModelConfig, RefineNet
from agents.training.policy_gradient import PolicyGradientConfig, PolicyGradientTrainer
from train.cli import add_dataclass_flags, add_trainer_flags, build_dataclass
from train.errors import user_errors
from train.run_folder import add_run_flags, resolve_run
from train.tasks import add_task_flags, load_task_option


def build_parser(algo: str = "ppo") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m train.{algo}",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_dataclass_flags(parser, PolicyGradientConfig, "training")
    parser.set_defaults(algo=algo)
    add_dataclass_flags(parser, ModelConfig, "model (from scratch; --init and --resume take the checkpoint's)")
    add_task_flags(parser, default_split="train")
    add_run_flags(parser, algo)
    add_trainer_flags(parser, init_help="warm start from this checkpoint (a supervised one)", eval_tasks=0)
    return parser


def main(argv: list[str] | None = None, algo: str = "ppo") -> int:
    args = build_parser(algo).parse_args(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.set_num_threads(args.threads)
    init = state = None
    with user_errors():  # a bad option, checkpoint, task file or run folder: one `error:` line, exit 2
        config, model_config = build_dataclass(PolicyGradientConfig, args), build_dataclass(ModelConfig, args)
        if args.init and args.resume:
            raise ValueError("--init and --resume exclude each other (a resumed run keeps its own warm start)")
        if args.init:
            init, _ = load_checkpoint(args.init, device)
            model_config = init.config
        if args.resume:
            _, state = load_checkpoint(args.resume, device)
            config = PolicyGradientConfig(**{**state["train_config"], "total_steps": args.total_steps})
            model_config = ModelConfig(**state["model_config"])
        tasks = load_task_option(args)
        run = resolve_run(args)
    print(f"run folder {run.dir} (checkpoint {run.checkpoint}; TensorBoard: tensorboard --logdir {run.logdir})")

    # Seeding: the model's initialisation here; every episode, action and minibatch per iteration.
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)

    model = init if init is not None else RefineNet(model_config).to(device)
    envs = make_vector_env(config.num_envs, config.vectorization, tasks=tasks, **config.env_kwargs())
    trainer = PolicyGradientTrainer(model, envs, config, device)
    if state is not None:
        model.load_state_dict(state["model"])
        trainer.load_state_dict(state["trainer"])
    writer = SummaryWriter(str(run.logdir))

    def save() -> None:
        save_checkpoint(
            run.checkpoint, model, train_config=config.to_dict(), trainer=trainer.state_dict(),
            init=args.init or (state or {}).get("init"),
        )  # fmt: skip

    progress = tqdm(
        total=config.iterations * config.batch_steps, initial=trainer.num_steps, unit="step",
        disable=args.no_progress, file=sys.stderr,
    )  # fmt: skip
    done = _snapshot(model, trainer)  # the last whole iteration: what an interrupt saves
    try:
        while trainer.iteration < config.iterations:
            metrics = trainer.run_iteration()
            done = _snapshot(model, trainer)
            for key, value in metrics.items():
                writer.add_scalar(key, value, trainer.num_steps)
            progress.update(config.batch_steps)
            progress.set_postfix(
                rew=f"{metrics['rollout/ep_rew_mean']:.3f}", success=f"{metrics['rollout/success_rate']:.2f}",
                kl=f"{metrics['train/approx_kl']:.4f}",
            )  # fmt: skip
            if trainer.iteration % args.checkpoint_every == 0:
                save()
    except KeyboardInterrupt:  # Ctrl-C: save the whole iterations done, from which --resume continues exactly
        progress.close()
        model.load_state_dict(done[0])
        trainer.load_state_dict(done[1])
        save()
        print(f"interrupted: saved {run.checkpoint} after {trainer.num_steps} steps ({trainer.iteration} iterations)")
        writer.close()
        return 130
    progress.close()
    save()
    envs.close()
    print(f"saved {run.checkpoint} after {trainer.num_steps} steps ({trainer.iteration} iterations)")

    if args.eval_tasks > 0:
        val_tasks = load_task_option(args, split="val")[: args.eval_tasks]
        report = refinement_report(model, val_tasks, rounds=config.rounds, seed=config.seed, device=device)
        print(format_report(report))
        run.checkpoint.with_suffix(".eval.json").write_text(json.dumps(report, indent=1))
    writer.close()
    return 0


def _snapshot(model, trainer) -> tuple[dict, dict]:
    return copy.deepcopy(model.state_dict()), copy.deepcopy(trainer.state_dict())


if __name__ == "__main__":
    raise SystemExit(main())
