"""Where a training run writes: a new folder per run, never over a checkpoint unless asked.

Every trainer CLI adds the same flags and resolves them to one `RunPaths`:

    parser = argparse.ArgumentParser(...)
    add_run_flags(parser, "scheduled_sampling")
    run = resolve_run(parser.parse_args())     # raises RunFolderError (a ValueError) for a foot-gun
    save_checkpoint(run.checkpoint, ...); SummaryWriter(run.logdir)

By default a run writes `runs/<algo>/<timestamp>/checkpoint.pt` and its TensorBoard events into
the same folder (`--name` replaces the timestamp), so that `tensorboard --logdir runs` shows each
run apart. `--out FILE` puts the checkpoint elsewhere. A checkpoint file that already exists is
only written over with `--overwrite`: the shipped checkpoints cannot be replaced by accident.
"""

from __future__ import annotations

import argparse
import datetime
import re
from dataclasses import dataclass
from pathlib import Path

CHECKPOINT_NAME = "checkpoint.pt"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class RunFolderError(ValueError):
    """A run that would write over an existing checkpoint, or a run name that is not a folder name."""


@dataclass(frozen=True)
class RunPaths:
    """The files of one training run.

    Attributes:
        dir: the run folder, `runs/<algo>/<name or timestamp>/`.
        checkpoint: the checkpoint file to write (`dir / "checkpoint.pt"` unless `--out`).
        logdir: the TensorBoard log directory (`dir` unless `--logdir`).
    """

    dir: Path
    checkpoint: Path
    logdir: Path


def add_run_flags(parser: argparse.ArgumentParser, algo: str) -> None:
    """The `run folder` flags: `--runs-dir`, `--name`, `--out`, `--logdir`, `--overwrite`."""
    group = parser.add_argument_group("run folder")
    group.add_argument("--runs-dir", default="runs", help=f"runs are written to RUNS_DIR/{algo}/NAME/")
    group.add_argument("--name", default=None, help="run folder name (default: the start time, YYYYmmdd-HHMMSS)")
    group.add_argument("--out", default=None, help=f"checkpoint to write (default: the run folder's {CHECKPOINT_NAME})")
    group.add_argument("--logdir", default=None, help="TensorBoard log directory (default: the run folder)")
    group.add_argument("--overwrite", action="store_true", help="allow writing over an existing checkpoint file")
    parser.set_defaults(run_algo=algo)


def resolve_run(args: argparse.Namespace, now: datetime.datetime | None = None) -> RunPaths:
    """The run's paths from the flags of `add_run_flags`, creating the run folder.

    Raises `RunFolderError` for a bad `--name`, or when the checkpoint exists and `--overwrite`
    was not given (nothing is created then).
    """
    root = Path(args.runs_dir) / args.run_algo
    if args.name is not None and not _NAME.fullmatch(args.name):
        raise RunFolderError(f"--name {args.name!r}: use letters, digits, '.', '_' and '-' (a folder name)")
    folder = root / args.name if args.name is not None else None
    checkpoint = Path(args.out) if args.out else (folder / CHECKPOINT_NAME if folder else None)
    if checkpoint is not None and checkpoint.exists() and not args.overwrite:
        if checkpoint.is_dir():
            raise RunFolderError(f"{checkpoint}: is a directory, not a checkpoint file")
        raise RunFolderError(
            f"{checkpoint}: a checkpoint is already there; pass --overwrite to replace it, "
            "or leave out --out and --name to write a new run folder"
        )
    if folder is None and checkpoint is not None and args.logdir:
        # --out and --logdir name every file the run writes: no run folder of its own is needed
        # (creating one would leave an empty timestamped folder behind).
        folder = checkpoint.parent
    if folder is None:
        folder = _fresh_folder(root, (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S"))
    folder.mkdir(parents=True, exist_ok=True)
    logdir = Path(args.logdir) if args.logdir else folder
    logdir.mkdir(parents=True, exist_ok=True)
    return RunPaths(folder, checkpoint or folder / CHECKPOINT_NAME, logdir)

def _fresh_folder(root: Path, stamp: str) -> Path:
    """A new folder `root/stamp`, or `root/stamp-2`, `-3`, ... when runs start within the same
    second (created here, exclusively, so that two runs never share one)."""
    root.mkdir(parents=True, exist_ok=True)
    for k in range(1, 1000):
        folder = root / (stamp if k == 1 else f"{stamp}-{k}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise RunFolderError(f"{root}: too many runs named {stamp}-*")
