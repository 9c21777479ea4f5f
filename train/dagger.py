"""Train the refinement network with DAgger: roll out a mixture of the expert and the policy, label
every visited state with the expert's action, aggregate, retrain (Ross et al. 2011).

    python -m train.dagger --iterations 400                       # rewrite mode, runs/dagger/<time>/
    python -m train.dagger --action-mode edit --rollout-steps 16  # the expert's single-edit path
    python -m train.dagger --corruption-mode noise                # wrong tokens to change, not holes
    python -m train.dagger --init checkpoints/scheduled_sampling.pt --beta0 0.5   # warm start
    python -m train.dagger --resume runs/dagger/NAME/checkpoint.pt --iterations 800   # continue exactly

Each run writes a new run folder: the checkpoint, the aggregate of labelled states beside it
(`checkpoint.dataset.npz`, so that `--resume` continues exactly) and TensorBoard logs. Under
`torchrun --nproc_per_node K -m train.dagger ...` K processes each step `--num-envs` environments and
average their gradients (see train/distributed.py).

Reads top to bottom: config, seeding, build, loop (with checkpoints and TensorBoard), save, evaluate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

from agents.acting.collector import make_vector_env
from agents.acting.refine import format_report, refinement_report
from agents.nn.checkpoint import load_checkpoint, save_checkpoint
from agents.nn.network import ModelConfig, RefineNet
from agents.training.dagger import DaggerConfig, DaggerTrainer
from agents.training.dataset import AggregateDataset
from train.cli import add_dataclass_flags, add_trainer_flags, build_dataclass
from train.distributed import setup
from train.errors import user_errors
from train.loop import run_iterations
from train.run_folder import add_run_flags, resolve_run
from train.tasks import add_task_flags, load_task_option


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m train.dagger",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_dataclass_flags(parser, DaggerConfig, "training")
    add_dataclass_flags(parser, ModelConfig, "model")
    add_task_flags(parser, default_split="train")
    add_run_flags(parser, "dagger")
    add_trainer_flags(parser, init_help="start from this checkpoint's weights (e.g. a supervised one)")
    return parser


def dataset_path(checkpoint: Path) -> Path:
    """The aggregate saved beside `checkpoint`. Under torchrun only rank 0's is saved: the other
    ranks of a resumed distributed run start again with empty aggregates."""
    return checkpoint.with_name(checkpoint.stem + ".dataset.npz")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    distributed = setup()  # one process, or one of several under torchrun
    device = distributed.device(args.device)
    state, init = None, None
    with user_errors():  # a bad option, checkpoint, task file or run folder: one `error:` line, exit 2
        config, model_config = build_dataclass(DaggerConfig, args), build_dataclass(ModelConfig, args)
        if args.resume:
            _, state = load_checkpoint(args.resume, device)
            config = DaggerConfig(**{**state["train_config"], "iterations": args.iterations})
            model_config = ModelConfig(**state["model_config"])
        elif args.init:
            init, _ = load_checkpoint(args.init, device)
            model_config = init.config
        tasks = load_task_option(args)
        run = resolve_run(args) if distributed.is_main else None
    if run is not None:
        print(f"run folder {run.dir} (checkpoint {run.checkpoint}; TensorBoard: tensorboard --logdir {run.logdir})")

    # Seeding: the model's initialisation here (the same in every process); every episode, draw and
    # minibatch per iteration, from a seed offset by the process's rank.
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)

    model = RefineNet(model_config).to(device)
    if init is not None:
        model.load_state_dict(init.state_dict())
    envs = make_vector_env(config.num_envs, config.vectorization, tasks=tasks, **config.env_kwargs())
    rank_config = dataclasses.replace(config, seed=distributed.seed(config.seed))
    trainer = DaggerTrainer(model, envs, rank_config, device, distributed.wrap(model, device))
    if state is not None:
        model.load_state_dict(state["model"])
        trainer.load_state_dict(state["trainer"])
        saved = dataset_path(Path(args.resume))
        if distributed.is_main and saved.exists():
            trainer.dataset = AggregateDataset.load(saved, config.eviction)
    writer = SummaryWriter(str(run.logdir)) if run is not None else None

    def save() -> None:
        save_checkpoint(run.checkpoint, model, train_config=config.to_dict(), trainer=trainer.state_dict())
        trainer.dataset.save(dataset_path(run.checkpoint))

    run_iterations(trainer, config.iterations, save, writer, args.checkpoint_every, distributed,
                   not args.no_progress, ("train/loss", "train/beta", "rollout/success_rate"))  # fmt: skip
    envs.close()
    distributed.close()
    if run is None:
        return 0
    print(f"saved {run.checkpoint} after {trainer.iteration} iterations")
    if args.eval_tasks > 0 and config.action_mode == "rewrite":
        val_tasks = load_task_option(args, split="val")[: args.eval_tasks]
        report = refinement_report(model, val_tasks, seed=config.seed, device=device)
        print(format_report(report))
        run.checkpoint.with_suffix(".eval.json").write_text(json.dumps(report, indent=1))
    writer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
