"""Should a checkpoint replace the shipped one? Issue 26, item 6, as a command.

The rule: with the default decoding (the guided search, 0.3 CPU-s a task, one round), on the
generated test 200 and both hand-written sets, at mask 0.5 / 0.75 / 1.0 and noise 0.25 / 0.5 (seed
0, `train.evaluate`'s states), the candidate passes no fewer held-out tests than the shipped
checkpoint at any (set, mode, level), and more in total. Both are evaluated by this script in the
same session (one `train.evaluate` report per checkpoint, set and mode under `--out-dir`, named by
`--name` and, for the shipped checkpoint, by its file's stem; a report already there is reused, so
an interrupted check resumes). Prints the table and the verdict.

Under a CPU budget a search reaches further on one run than on another: the shipped checkpoint
checked against itself passed up to 3.8 points fewer in a cell (benchmarks/README.md, "The ship
rule against measurement noise"). `--repeats N` evaluates each checkpoint N times and compares the
means per cell; the table then also gives the shipped checkpoint's own spread (largest minus
smallest of its N runs) in each cell where the candidate is lower.

    ../shared/bin/cpu-slot .venv/bin/python benchmarks/ship_check.py --checkpoint runs/improve/X/checkpoint.pt --name X
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ("generated_test_200", "handwritten", "puzzles")
LEVELS = {"mask": (0.5, 0.75, 1.0), "noise": (0.25, 0.5)}
SHIPPED = ROOT / "checkpoints" / "improved.pt"  # train.evaluate.SHIPPED_CHECKPOINT


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    parser.add_argument("--checkpoint", required=True, help="the candidate checkpoint")
    parser.add_argument("--name", required=True, help="the candidate's name in the reports and the table")
    parser.add_argument("--shipped", default=str(SHIPPED),
                        help="the checkpoint it would replace")  # fmt: skip
    parser.add_argument("--sets", nargs="+", default=list(SETS), help="task files under benchmarks/tasks (stems)")
    parser.add_argument("--cpu-budget", type=float, default=0.3, help="CPU seconds a task (the default decoding's)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="evaluations of each checkpoint per set and mode; cells compare their means")
    parser.add_argument("--out-dir", default=str(ROOT / "benchmarks" / "results" / "ship_check"),
                        help="one train.evaluate report per checkpoint, set and mode")  # fmt: skip
    return parser.parse_args(argv)


def report(args: argparse.Namespace, name: str, checkpoint: str, task_set: str, mode: str, repeat: int = 0) -> dict:
    """The report of one checkpoint on one set and mode (its `repeat`-th evaluation), evaluated
    now unless already there."""
    path = Path(args.out_dir) / (f"{name}__{task_set}__{mode}" + (f"__r{repeat}" if repeat else "") + ".json")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        print(f"{time.strftime('%H:%M:%S')} {name} {task_set} {mode} (run {repeat + 1})", file=sys.stderr, flush=True)
        done = subprocess.run([
            sys.executable, "-m", "train.evaluate", "--checkpoint", checkpoint,
            "--tasks", str(ROOT / "benchmarks" / "tasks" / f"{task_set}.jsonl"), "--strategy", "guided",
            "--cpu-budget", str(args.cpu_budget), "--rounds", "1", "--corruption-mode", mode,
            "--corruption", *map(str, LEVELS[mode]), "--json", str(partial), "--no-progress",
        ], cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
        if done.returncode:  # train.evaluate has printed its one-line reason above
            raise SystemExit(f"error: evaluating {checkpoint} on {task_set} ({mode}) failed (exit {done.returncode})")
        partial.rename(path)
    found = json.loads(path.read_text())
    made = (Path(ROOT, found.get("checkpoint", "")).resolve(), found.get("decoding", {}).get("cpu_budget"))
    if made != (Path(ROOT, checkpoint).resolve(), args.cpu_budget):  # a reused report must be this check's
        raise SystemExit(f"error: {path}: made for {made[0]} at {made[1]} CPU-s, not {checkpoint} at "
                         f"{args.cpu_budget}; use another --out-dir or --name")  # fmt: skip
    return found


def held_out(report_: dict) -> dict[float, float]:
    """Held-out pass (%) per corruption level, after the last round."""
    return {lv["corruption"]: 100 * lv["rounds"][-1]["pass_held_out"] for lv in report_["levels"]}


def verdict(
    cells: dict[tuple[str, str, float], tuple[float, float]], spread: dict[tuple[str, str, float], float] | None = None
) -> tuple[bool, float, list[str]]:  # fmt: skip
    """(ship?, total gain in points, the cells where the candidate passes fewer, each with the
    shipped checkpoint's own spread when `spread` is given) from (set, mode, level) -> (shipped %,
    candidate %)."""
    losses = [f"{s} {m} {lv}: {a:.1f} -> {b:.1f}"
              + (f" (the shipped checkpoint's own spread {spread[(s, m, lv)]:.1f})" if spread else "")
              for (s, m, lv), (a, b) in cells.items() if b < a]  # fmt: skip
    gain = sum(b - a for a, b in cells.values())
    return not losses and gain > 0, gain, losses


def measured(args: argparse.Namespace, name: str, checkpoint: str, task_set: str, mode: str) -> dict:
    """Held-out % per level over `--repeats` evaluations: level -> list of runs."""
    runs = [held_out(report(args, name, checkpoint, task_set, mode, k)) for k in range(args.repeats)]
    return {level: [run[level] for run in runs] for level in runs[0]}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.repeats < 1:
        raise SystemExit(f"error: --repeats {args.repeats}: must be at least 1")
    for path in (args.checkpoint, args.shipped):
        if not Path(path).is_file():
            raise SystemExit(f"error: {path}: no such checkpoint file")
    cells: dict[tuple[str, str, float], tuple[float, float]] = {}
    spread: dict[tuple[str, str, float], float] = {}
    for task_set in args.sets:
        for mode in LEVELS:
            shipped = measured(args, Path(args.shipped).stem, args.shipped, task_set, mode)
            candidate = measured(args, args.name, args.checkpoint, task_set, mode)
            for level in LEVELS[mode]:
                cells[(task_set, mode, level)] = (mean(shipped[level]), mean(candidate[level]))
                spread[(task_set, mode, level)] = max(shipped[level]) - min(shipped[level])
    runs = f", the mean of {args.repeats} runs" if args.repeats > 1 else ""
    print(f"held-out % with the guided search at {args.cpu_budget} CPU-s a task{runs}: shipped -> {args.name}\n")
    print_table(args.sets, cells)
    ship, gain, losses = verdict(cells, spread if args.repeats > 1 else None)
    print(f"\nverdict: {'ship' if ship else 'keep the shipped checkpoint'} (total {gain:+.1f} points"
          + (f"; lower at {', '.join(losses)}" if losses else "") + ")")  # fmt: skip
    return 0


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def print_table(sets: list[str], cells: dict[tuple[str, str, float], tuple[float, float]]) -> None:
    columns = [(mode, level) for mode in LEVELS for level in LEVELS[mode]]
    print("| set | " + " | ".join(f"{m} {lv}" for m, lv in columns) + " | total |")
    print("| --- |" + " --- |" * (len(columns) + 1))
    for task_set in sets:
        row = [cells[(task_set, m, lv)] for m, lv in columns]
        text = [f"{a:.1f} -> {b:.1f}" for a, b in row]
        total = f"{sum(a for a, _ in row):.1f} -> {sum(b for _, b in row):.1f}"
        print(f"| {task_set} | " + " | ".join(text) + f" | {total} |")

if __name__ == "__main__":
    raise SystemExit(main())
