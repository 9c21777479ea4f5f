"""Held-out pass at equal CPU seconds per task: the classical sketch search, the guided sketch search
(the agent's decoding), the sampling agent (`sample_distinct`) and the frequency-weighted random
search (`search-freq`), on each task set, corruption mode and level (issue 25).

Each configuration (set, mode, level, method, CPU budget, rounds) runs on one core and its row is
appended to `--out` as a JSON line as soon as it is done, with the machine's load; configurations
already in `--out` are skipped, so a run that is cut short resumes where it stopped. `--table`
prints what `--out` holds.

    ../shared/bin/cpu-slot python benchmarks/sketch_search.py --out benchmarks/results/sketch_search.jsonl
    python benchmarks/sketch_search.py --out benchmarks/results/sketch_search.jsonl --table

Methods and their budgets (CPU seconds per task: searches or draws, candidate runs, env steps and a
share of each forward pass; not env construction, reset, or the final judging):
- classical: `--baseline sketch`'s search, one round, tokens in training-corpus frequency order;
- guided: `--strategy guided`, `--rounds R`;
- sampling: `--strategy sample_distinct --samples 256 --rounds 5`, stopped by the CPU budget;
- search-freq: the random search weighted by corpus frequency, one round, stopped by the CPU budget;
- guided-baseline: the guided search ordered by the random-trajectory baseline network
  (`checkpoints/random_baseline.pt`: the same network trained on random corruption trajectories);
- best_of_k: `train.evaluate`'s earlier default decoding (best of 128 a round, 5 rounds) with no CPU cap
  (budget 0 in the table): the CPU it takes is what it is compared at.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "generated": ROOT / "benchmarks" / "tasks" / "generated_test_200.jsonl",
    "handwritten": ROOT / "benchmarks" / "tasks" / "handwritten.jsonl",
    "puzzles": ROOT / "benchmarks" / "tasks" / "puzzles.jsonl",
}
LEVELS = (("mask", 0.5), ("mask", 0.75), ("mask", 1.0), ("noise", 0.25), ("noise", 0.5))
METHODS = ("classical", "guided", "sampling", "search-freq", "best_of_k", "guided-baseline")
SHIPPED = ROOT / "checkpoints" / "scheduled_sampling.pt"
BASELINE = ROOT / "checkpoints" / "random_baseline.pt"


@dataclass(frozen=True)
class Config:
    """One row: a method at a CPU budget on one set, mode and level."""

    set: str
    mode: str
    level: float
    method: str
    budget: float
    rounds: int
    engine: str = "reference"

    def key(self) -> tuple:
        return (self.set, self.mode, self.level, self.method, self.budget, self.rounds, self.engine)


def plan(sets: list[str], budgets: list[float]) -> list[Config]:
    """Every configuration, in the order that fills the headline table first: all methods at 0.3 s,
    the default decoding and the guided search at about its CPU (0.1 s), the guided search's rounds,
    both sketch searches on the fast engine, the classical search at 10 s, then the other budgets.
    Rows run the reference engine of the sketch searches unless they say otherwise."""
    every = [(name, mode, level) for name in sets for mode, level in LEVELS]
    configs = [Config(*where, m, 0.3, 5 if m == "sampling" else 1) for where in every for m in METHODS[:4]]
    configs += [Config(*where, "best_of_k", 0.0, 5) for where in every]
    configs += [Config(*where, "guided", 0.1, 1) for where in every]  # at about best_of_k's CPU
    configs += [Config(*where, "guided", 0.3, rounds) for rounds in (2, 5) for where in every]
    configs += [Config(*where, "guided-baseline", 0.3, 1) for where in every]
    # The fast engine (issue 27) at the headline budget, beside the reference rows above.
    configs += [Config(*where, m, 0.3, 1, "fast") for where in every for m in ("guided", "classical")]
    configs += [Config(*where, "classical", 10.0, 1) for where in every]
    for budget in (b for b in budgets if b != 0.3):
        configs += [Config(*where, m, budget, 5 if m == "sampling" else 1) for where in every for m in METHODS[:4]]
    return configs


def agent_for(config: Config, policy, weights):
    """The `agents.acting.evaluation.Agent` of one configuration."""
    import dataclasses

    return dataclasses.replace(_agent(config, policy, weights), reference_search=config.engine == "reference")


def _agent(config: Config, policy, weights):
    from agents.acting.evaluation import Agent
    from agents.acting.strategies import Decoding

    if config.method == "classical":
        return Agent(None, Decoding("argmax", 1, cpu_budget=config.budget), "sketch", weights)
    if config.method == "search-freq":
        return Agent(None, Decoding("argmax", 1, cpu_budget=config.budget), "random", weights, search_budget=10**9)
    if config.method in ("guided", "guided-baseline"):
        return Agent(policy, Decoding("guided", cpu_budget=config.budget))
    if config.method == "best_of_k":  # train.evaluate's default decoding, uncapped: its CPU is measured
        return Agent(policy, Decoding("best_of_k", samples=128))
    return Agent(policy, Decoding("sample_distinct", samples=256, cpu_budget=config.budget))


def run(config: Config, policy, weights) -> dict:
    from agents.acting.refine import evaluate_tasks
    from progrefine_env.tasks.io import load_tasks

    tasks = load_tasks(SETS[config.set])
    start = time.time()
    results = evaluate_tasks(agent_for(config, policy, weights), tasks, (config.level,), config.rounds, seed=0,
                             env_options={"corruption_mode": config.mode})  # fmt: skip
    n = len(results)
    return {
        **config.__dict__, "tasks": n,
        "pass_visible": sum(r.round_solved is not None for r in results) / n,
        "pass_held_out": sum(r.held_out_solved for r in results) / n,
        "cpu_mean": sum(r.cpu_seconds for r in results) / n,
        "candidates_mean": sum(r.candidates_run for r in results) / n,
        "wall_seconds": round(time.time() - start, 1), "load": os.getloadavg()[0],
    }  # fmt: skip


def table(rows: list[dict]) -> str:
    """Held-out % (visible %) [CPU s a task] per set, mode/level and method at each budget."""
    lines = ["| set | mode level | method | engine | budget s | rounds | held-out % | visible % | CPU s/task | cands |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    order = {name: k for k, name in enumerate(SETS)}
    for r in sorted(rows, key=lambda r: (order.get(r["set"], 9), r["mode"], r["level"], r["budget"], r["method"],
                                         r["rounds"])):  # fmt: skip
        lines.append(
            f"| {r['set']} | {r['mode']} {r['level']} | {r['method']} | {r.get('engine', 'reference')} | "
            f"{r['budget']} | {r['rounds']} | "
            f"{100 * r['pass_held_out']:.1f} | {100 * r['pass_visible']:.1f} | {r['cpu_mean']:.3f} | "
            f"{r['candidates_mean']:.1f} |"
        )
    return "\n".join(lines)


def compact(rows: list[dict]) -> str:
    """Per set, one line per method, budget and rounds: held-out % (CPU s a task) at each mode and level."""
    lines = []
    for name in SETS:
        mine = [r for r in rows if r["set"] == name]
        if not mine:
            continue
        lines += [f"\n{name} ({mine[0]['tasks']} tasks): held-out % (CPU s a task)", "",
                  "| method | budget s | rounds | " + " | ".join(f"{m} {lv}" for m, lv in LEVELS) + " |",
                  "| --- | --- | --- |" + " --- |" * len(LEVELS)]  # fmt: skip
        keys = sorted({(r["method"], r["budget"], r["rounds"], r.get("engine", "reference")) for r in mine},
                      key=lambda k: (k[1], k[0], k[2], k[3]))  # fmt: skip
        for method, budget, rounds, engine in keys:
            cells = []
            for mode, level in LEVELS:
                found = [r for r in mine if (r["method"], r["budget"], r["rounds"], r.get("engine", "reference"),
                                             r["mode"], r["level"]) == (method, budget, rounds, engine, mode, level)]
                cells.append(f"{100 * found[0]['pass_held_out']:.1f} ({found[0]['cpu_mean']:.2f})" if found else "")
            method = method if engine == "reference" else f"{method} ({engine} engine)"
            lines.append(f"| {method} | {budget} | {rounds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="sketch_search.jsonl", help="JSON Lines results, appended and resumed")
    parser.add_argument("--sets", nargs="+", default=[s for s in SETS if SETS[s].exists()], choices=list(SETS))
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.1, 0.3, 1.0], help="CPU seconds per task")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS, help="methods to run")
    parser.add_argument("--checkpoint", default=str(SHIPPED), help="the guiding / sampling policy")
    parser.add_argument("--table", action="store_true", help="only print the table of --out")
    parser.add_argument("--compact", action="store_true", help="with --table: one line per method and budget")
    args = parser.parse_args()
    out = Path(args.out)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if not args.table:
        rows += run_missing(args, out, {Config(**{k: r.get(k, "reference") for k in Config.__dataclass_fields__}).key()
                                        for r in rows})  # fmt: skip
    print(compact(rows) if args.compact else table(rows))


def run_missing(args, out: Path, done: set) -> list[dict]:
    import torch

    from agents.acting.policy import GraphPolicy
    from agents.acting.search import corpus_token_weights
    from agents.nn.checkpoint import load_checkpoint

    torch.set_num_threads(1)
    model, _ = load_checkpoint(args.checkpoint, "cpu")
    policy, weights = GraphPolicy(model.eval()), corpus_token_weights()
    baseline = GraphPolicy(load_checkpoint(BASELINE, "cpu")[0].eval())
    out.parent.mkdir(parents=True, exist_ok=True)
    new = []
    for config in plan(args.sets, args.budgets):
        if config.key() in done or config.method not in args.methods:
            continue
        row = run(config, baseline if config.method == "guided-baseline" else policy, weights)
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
        new.append(row)
    return new


if __name__ == "__main__":
    main()
