"""Confidence against accuracy on the corrupted nodes, round by round, for one or more checkpoints.

The prototype, fed the round number, learned "after round 0, be confident" (0.96-0.99) without
being right. This measures that failure directly: per round, the mean probability a model gives its
chosen (argmax) token on the originally corrupted nodes beside how often that token is right, and
the gap between the two (positive: over-confident). Run it on two checkpoints trained alike but for
`--round-input` to decide whether the round number belongs in the input.

    python benchmarks/calibration.py CHECKPOINT [CHECKPOINT ...] [--split val] [--limit 200] [--corruption 0.5]
"""

from __future__ import annotations

import argparse

import numpy as np

from agents.acting.refine import evaluate_tasks
from agents.nn.checkpoint import load_checkpoint
from progrefine_env.tasks.corpus import load_corpus


def calibration(model, tasks, level: float, rounds: int, batch_size: int = 100) -> np.ndarray:
    """[rounds, 3]: accuracy and confidence on the corrupted nodes, and nodes changed, per round.

    Through the report's loop (argmax decoding): accuracy is the env's evaluation-only
    `info["token_accuracy"]`, confidence the policy's mean probability of its chosen tokens on the
    nodes that were holes at the start (`mask` corruption: the corrupted nodes)."""
    results = evaluate_tasks(model, tasks, (level,), rounds, batch_size=batch_size)
    columns = [[r.token_accuracy, r.hole_confidence, r.nodes_changed] for r in results]
    return np.nanmean(np.asarray(columns, dtype=float), axis=0).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="checkpoint files to compare")
    parser.add_argument("--split", default="val", help="corpus split of the tasks (default: val)")
    parser.add_argument("--limit", type=int, default=200, help="first N tasks of the split (default: 200)")
    parser.add_argument("--corruption", type=float, default=0.5, help="share of nodes masked (default: 0.5)")
    parser.add_argument("--rounds", type=int, default=5, help="refinement rounds (default: 5)")
    args = parser.parse_args()
    tasks = load_corpus(args.split)[: args.limit]
    print(f"{len(tasks)} {args.split} tasks, corruption {args.corruption}, argmax decoding")
    print(f"{'checkpoint':<40} {'round':>5} {'accuracy':>9} {'confidence':>11} {'gap':>7} {'changed':>8}")
    for path in args.checkpoints:
        model, _ = load_checkpoint(path)
        model.eval()
        for r, (accuracy, confidence, changed) in enumerate(calibration(model, tasks, args.corruption, args.rounds)):
            gap = confidence - accuracy
            print(f"{path:<40} {r:>5} {accuracy:>9.3f} {confidence:>11.3f} {gap:>+7.3f} {changed:>8.2f}")


if __name__ == "__main__":
    main()
