"""The iteration loop shared by the trainer command lines: metrics to TensorBoard, a progress bar,
checkpoints every few iterations; under `torchrun`, logged losses averaged over the processes and
only rank 0 writing."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm

from train.distributed import Distributed

AVERAGED = ("train/loss",)
"""Metrics averaged over the processes of a distributed run (every process must compute them)."""


def run_iterations(
    trainer,
    iterations: int,
    save: Callable[[], None],
    writer,
    checkpoint_every: int,
    distributed: Distributed,
    show_progress: bool = True,
    postfix: tuple[str, ...] = ("train/loss",),
) -> None:
    """Call `trainer.run_iteration()` until `trainer.iteration == iterations`; `save()` every
    `checkpoint_every` iterations and at the end (rank 0 only; `writer` may be None elsewhere)."""
    main = distributed.is_main
    progress = tqdm(total=iterations, initial=trainer.iteration, disable=not (show_progress and main), file=sys.stderr)
    while trainer.iteration < iterations:
        metrics = trainer.run_iteration()
        for key in AVERAGED:
            if key in metrics:
                metrics[key] = distributed.mean(metrics[key])
        if main:
            for key, value in metrics.items():
                writer.add_scalar(key, value, trainer.iteration)
            progress.set_postfix({key.split("/")[-1]: f"{metrics[key]:.3f}" for key in postfix if key in metrics})
        progress.update(1)
        if main and trainer.iteration % checkpoint_every == 0:
            save()
    progress.close()
    if main:
        save()
