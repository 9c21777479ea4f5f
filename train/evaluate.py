"""Print the refinement report of a checkpoint: per corruption level and round, token accuracy on
the corrupted nodes, nodes changed, confidence, and the share of programs passing their visible
tests, also their held-out tests, and exactly reconstructed.

    python -m train.evaluate                                  # the shipped checkpoint, test split
    python -m train.evaluate --checkpoint run.pt --tasks my_tasks.jsonl --json out.json --plot out.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from agents.checkpoint import load_checkpoint
from agents.plot import plot_report
from agents.refine import DEFAULT_LEVELS, format_report, refinement_report
from agents.strategies import Decoding
from train.cli import add_dataclass_flags, build_dataclass
from train.errors import user_errors
from train.tasks import add_task_flags, load_task_option

SHIPPED_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "scheduled_sampling.pt"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m train.evaluate",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--checkpoint", default=str(SHIPPED_CHECKPOINT), help="checkpoint to evaluate")
    add_task_flags(parser, default_split="test")
    parser.add_argument("--limit", type=int, default=None, help="evaluate at most this many tasks")
    parser.add_argument("--corruption", type=float, nargs="+", default=list(DEFAULT_LEVELS),
                        help="corruption levels, fractions of nodes masked")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=5, help="refinement rounds")
    parser.add_argument("--json", default=None, help="write the report as JSON here")
    parser.add_argument("--plot", default=None, help="write a PNG plot here")
    parser.add_argument("--seed", type=int, default=0, help="seeds the corruption of each task")
    parser.add_argument("--batch-size", type=int, default=64, help="programs refined at once")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    add_dataclass_flags(parser, Decoding, "decoding")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    for level in args.corruption:
        if not 0.0 <= level <= 1.0:
            parser.error(f"--corruption {level}: levels must lie in [0, 1]")
    for flag, value in (("--rounds", args.rounds), ("--batch-size", args.batch_size), ("--limit", args.limit)):
        if value is not None and value < 1:
            parser.error(f"{flag} must be at least 1")
    try:
        args.decoding = build_dataclass(Decoding, args)
    except ValueError as err:
        parser.error(str(err))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    with user_errors():  # a bad checkpoint or task file: one `error:` line naming it, exit 2
        model, _ = load_checkpoint(args.checkpoint, device)
        tasks = load_task_option(args)[: args.limit]
    report = refinement_report(
        model, tasks, args.corruption, args.rounds, args.seed, args.batch_size, device, args.decoding
    )
    report["checkpoint"] = str(args.checkpoint)
    print(f"{len(tasks)} tasks from {args.tasks}" + (f" ({args.split})" if args.tasks == "generated" else ""))
    print(format_report(report))
    with user_errors():  # an output path in a missing folder
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1))
        if args.plot:
            plot_report(report, args.plot, title=f"Refinement: {Path(args.checkpoint).name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
