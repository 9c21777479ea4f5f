"""Train the refinement network with scheduled sampling (or the random-trajectory baseline).

    python -m train.scheduled_sampling --iterations 400          # writes runs/scheduled_sampling/<time>/
    python -m train.scheduled_sampling --trajectories random --name random-baseline
    python -m train.scheduled_sampling --resume runs/scheduled_sampling/NAME/checkpoint.pt   # continue
    python -m train.scheduled_sampling --iterations 400 --out checkpoints/scheduled_sampling.pt --overwrite

Each run writes a new run folder (checkpoint and TensorBoard logs; see train/run_folder.py); an
existing checkpoint is only written over with `--overwrite`. Under `torchrun --nproc_per_node K -m
train.scheduled_sampling ...` K processes each step `--batch-size` environments and average their
gradients (see train/distributed.py).

Reads top to bottom: config, seeding, build, loop (with checkpoints and TensorBoard), save, evaluate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

from agents.acting.collector import make_vector_env
from agents.acting.refine import format_report, refinement_report
from agents.nn.checkpoint import load_checkpoint, save_checkpoint
from agents.nn.network import ModelConfig, RefineNet
from agents.training.scheduled_sampling import ScheduledSamplingConfig, ScheduledSamplingTrainer
from train.cli import add_dataclass_flags, add_trainer_flags, build_dataclass
from train.distributed import setup
from train.errors import user_errors
from train.loop import run_iterations
from train.run_folder import add_run_flags, resolve_run
from train.tasks import add_task_flags, load_task_option


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m train.scheduled_sampling",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_dataclass_flags(parser, ScheduledSamplingConfig, "training")
    add_dataclass_flags(parser, ModelConfig, "model")
    add_task_flags(parser, default_split="train")
    add_run_flags(parser, "scheduled_sampling")
    add_trainer_flags(parser)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    distributed = setup()  # one process, or one of several under torchrun
    device = distributed.device(args.device)
    state = None
    with user_errors():  # a bad option, checkpoint, task file or run folder: one `error:` line, exit 2
        config, model_config = build_dataclass(ScheduledSamplingConfig, args), build_dataclass(ModelConfig, args)
        if args.resume:
            _, state = load_checkpoint(args.resume, device)
            config = ScheduledSamplingConfig(**{**state["train_config"], "iterations": args.iterations})
            model_config = ModelConfig(**state["model_config"])
        tasks = load_task_option(args)
        run = resolve_run(args) if distributed.is_main else None
    if run is not None:
        print(f"run folder {run.dir} (checkpoint {run.checkpoint}; TensorBoard: tensorboard --logdir {run.logdir})")

    # Seeding: the model's initialisation here (the same in every process); every episode and draw
    # per iteration, from a seed offset by the process's rank.
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)

    model = RefineNet(model_config).to(device)
    envs = make_vector_env(
        config.batch_size, config.vectorization, tasks=tasks,
        corruption=(config.corruption_low, config.corruption_high),
        max_steps=config.rounds, expert_labels=True,
    )  # fmt: skip
    rank_config = dataclasses.replace(config, seed=distributed.seed(config.seed))
    trainer = ScheduledSamplingTrainer(model, envs, rank_config, device, distributed.wrap(model, device))
    if state is not None:
        model.load_state_dict(state["model"])
        trainer.load_state_dict(state["trainer"])
    writer = SummaryWriter(str(run.logdir)) if run is not None else None

    def save() -> None:
        save_checkpoint(run.checkpoint, model, train_config=config.to_dict(), trainer=trainer.state_dict())

    run_iterations(trainer, config.iterations, save, writer, args.checkpoint_every, distributed,
                   not args.no_progress, ("train/loss", "train/one_shot_accuracy"))  # fmt: skip
    envs.close()
    distributed.close()
    if run is None:
        return 0
    print(f"saved {run.checkpoint} after {trainer.iteration} iterations")

    if args.eval_tasks > 0:
        val_tasks = load_task_option(args, split="val")[: args.eval_tasks]
        report = refinement_report(model, val_tasks, seed=config.seed, device=device)
        print(format_report(report))
        for level in report["levels"]:
            for stats in level["rounds"]:
                for key in ("token_accuracy", "pass_visible"):
                    tag = f"eval/{key}_c{level['corruption']}_r{stats['round']}"
                    writer.add_scalar(tag, stats[key], trainer.iteration)
        run.checkpoint.with_suffix(".eval.json").write_text(json.dumps(report, indent=1))
    writer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
