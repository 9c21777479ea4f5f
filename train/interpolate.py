"""Interpolate two checkpoints' weights: (1 - alpha) * base + alpha * tuned.

Weight-space ensembling of a starting policy and its fine-tuned descendant (WiSE-FT, Wortsman et
al. 2022) keeps much of the fine-tuning's gain where it helps while giving back less where the
starting policy was better: issue 26's ship rule asks for no loss at any level, and the inductive
improvement gained in noise mode while losing a task or two at mask 0.75 (benchmarks/README.md,
"Fresh tasks each generation").

    python -m train.interpolate --base checkpoints/scheduled_sampling.pt \\
        --tuned runs/improve/X/generation_4.pt --alpha 0.5 --out runs/improve/X/wise_0.5.pt

Both checkpoints must hold the same network (the same `ModelConfig`). The output holds the
interpolated network and the interpolation's provenance; it never writes over an existing file
unless `--force` is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from agents.nn.checkpoint import load_checkpoint, save_checkpoint
from agents.nn.network import RefineNet
from train.errors import reports_user_errors


def interpolate(base: RefineNet, tuned: RefineNet, alpha: float) -> RefineNet:
    """A new network with every floating-point tensor (1 - alpha) * base + alpha * tuned (integer
    buffers are taken from `tuned`). Raises ValueError when the two networks differ in shape."""
    if base.config != tuned.config:
        raise ValueError(f"the two checkpoints hold different networks ({base.config} and {tuned.config})")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"--alpha {alpha}: must lie in [0, 1]")
    mixed = RefineNet(tuned.config)
    start = base.state_dict()
    mixed.load_state_dict({name: torch.lerp(start[name], value, alpha) if value.is_floating_point() else value.clone()
                           for name, value in tuned.state_dict().items()})  # fmt: skip
    return mixed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m train.interpolate", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    parser.add_argument("--base", required=True, help="the starting checkpoint (alpha 0)")
    parser.add_argument("--tuned", required=True, help="the fine-tuned checkpoint (alpha 1)")
    parser.add_argument("--alpha", type=float, default=0.5, help="the tuned checkpoint's weight")
    parser.add_argument("--out", required=True, help="the checkpoint to write")
    parser.add_argument("--force", action="store_true", help="write over --out if it exists")
    return parser


@reports_user_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise ValueError(f"{out}: exists; give --force to write over it")
    base, _ = load_checkpoint(args.base)
    tuned, _ = load_checkpoint(args.tuned)
    mixed = interpolate(base, tuned, args.alpha)
    save_checkpoint(out, mixed, interpolation={"base": args.base, "tuned": args.tuned, "alpha": args.alpha})
    print(f"wrote {out}: (1 - {args.alpha}) * {args.base} + {args.alpha} * {args.tuned}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
