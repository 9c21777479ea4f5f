"""Held-out pass rates by round at equal budgets of distinct candidate programs: the agent with
each decoding, and the grammar-masked random search (uniform and frequency-weighted) at the same
budget. Every configuration's figures are printed (and appended to `--out` as a JSON line) as
soon as it is done, cheapest first, so a long run that is cut short still leaves its results.

    python benchmarks/decoding_budget.py --tasks benchmarks/tasks/generated_test_200.jsonl \\
        [--checkpoint checkpoints/scheduled_sampling.pt] [--budgets 64 640] [--out results.jsonl]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from agents.acting.refine import DEFAULT_LEVELS, refinement_report
from agents.acting.search import token_weights
from agents.acting.strategies import Decoding
from agents.nn.checkpoint import load_checkpoint
from progrefine_env.tasks.corpus import load_corpus
from progrefine_env.tasks.io import load_tasks

SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints" / "scheduled_sampling.pt"


def configurations(budgets: list[int], strategies: list[str]) -> list[tuple[str, dict]]:
    """(label, refinement_report keyword arguments), cheapest first."""
    configs = []
    for budget in sorted(budgets):
        for strategy in strategies:
            decoding = Decoding(strategy, samples=budget, budget=budget)
            configs.append((f"agent {strategy}, budget {budget}", {"decoding": decoding}))
        for baseline in ("search", "search-freq"):
            fixed = {"baseline": baseline, "search_budget": budget, "per_task_budget": False}
            configs.append((f"{baseline}, budget {budget}", {"decoding": Decoding("argmax", 1), **fixed}))
    configs.append(("agent best_of_k 128 (old decoding)", {"decoding": Decoding("best_of_k", 128, 0.7)}))
    return configs


def rows(label: str, report: dict) -> list[dict]:
    """One row per level: held-out pass by round, visible pass at the end, candidates run."""
    part = report["baseline"] if label.startswith("search") else report
    out = []
    for level in part["levels"]:
        held = [s["pass_held_out"] for s in level["rounds"]]
        out.append({"config": label, "corruption": level["corruption"], "held_out_by_round": held,
                    "pass_visible": level["rounds"][-1]["pass_visible"],
                    "candidates_mean": level["candidates_run"]["mean"]})  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="benchmarks/tasks/generated_test_200.jsonl", help="task file")
    parser.add_argument("--checkpoint", default=str(SHIPPED), help="checkpoint of the agent")
    parser.add_argument("--budgets", type=int, nargs="+", default=[64, 640], help="distinct candidates per task")
    parser.add_argument("--strategies", nargs="+", default=["best_first", "sample_distinct"],
                        help="budgeted decodings of the agent")  # fmt: skip
    parser.add_argument("--levels", type=float, nargs="+", default=list(DEFAULT_LEVELS), help="corruption levels")
    parser.add_argument("--limit", type=int, default=None, help="first N tasks")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--only", nargs="*", default=None, help="run only configurations whose label has one of these")
    parser.add_argument("--out", default=None, help="append one JSON line per configuration and level here")
    args = parser.parse_args()
    tasks = load_tasks(args.tasks)[: args.limit]
    model, _ = load_checkpoint(args.checkpoint)
    weights = token_weights(load_corpus("train"))
    print(f"{len(tasks)} tasks from {args.tasks}; levels {args.levels}")
    print(f"{'configuration':<40} {'corr':>5} {'held-out r0 / r1 / r2 / r3 / r4':>34} {'visible':>8} {'cands':>7}")
    for label, kwargs in configurations(args.budgets, args.strategies):
        if args.only and not any(word in label for word in args.only):
            continue
        began = time.perf_counter()
        report = refinement_report(model, tasks, args.levels, search_weights=weights, workers=args.workers, **kwargs)
        for row in rows(label, report):
            held = " / ".join(f"{h:.3f}" for h in row["held_out_by_round"])
            print(f"{label:<40} {row['corruption']:>5.2f} {held:>34} {row['pass_visible']:>8.3f} "
                  f"{row['candidates_mean']:>7.1f}", flush=True)  # fmt: skip
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps({**row, "tasks": args.tasks, "seconds": time.perf_counter() - began}) + "\n")


if __name__ == "__main__":
    main()
