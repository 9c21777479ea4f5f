"""The demo behind `make demo` (under a minute on two cores): held-out tasks with their tests, then
the shipped checkpoint repairing them: a small refinement report, its columns explained, and one
repaired program.

    python -m train.demo                      # 50 tasks, the guided sketch search (20,000 fillings a task)
    python -m train.demo --strategy best_of_k --samples 32    # the earlier demo: best of 32, 5 rounds
    python -m train.demo --full               # 100 tasks (best_of_k: best of 128; a few minutes)

The default decoding is the agent's own: the policy orders a bottom-up search over the corrupted
program's holes (`--strategy guided`, docs/search.md), under a budget of fillings so that a seed
prints the same report on any machine. It passes more held-out tests than best-of-k sampling at
about the same CPU time on the generated test tasks and both hand-written sets in mask mode (issue
25; benchmarks/README.md, "The sketch searches at equal CPU time"), so it is what the demo shows.

The full report on the whole test split, with a plot and JSON: `python -m train.evaluate --help`.
"""

from __future__ import annotations

import argparse
import time

from progrefine_env.lang import EvalError
from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE, load_corpus
from progrefine_env.tasks.task import Task
from train.evaluate import SHIPPED_CHECKPOINT

COLUMNS = """columns: corr = share of each program's nodes masked at the start; round = refinement round
  (guided: one search, round 0; best_of_k: each round the model rewrites every node); tok_acc =
  share of the masked nodes that hold the original token; changed = nodes changed that round
  (mean); conf = the model's mean probability of its chosen tokens (sampling only); pass = share
  of programs passing all their visible tests so far; held = those also passing their held-out
  tests (never shown to the model); exact = share identical to the original program (a passing
  program may differ from it and still be right); agent = what refines; cands = distinct
  candidate programs whose visible tests ran, per task (all rounds); cpu_s = CPU seconds a task."""


def show_task(task: Task) -> None:
    compiled = task.compiled()
    print(f"task {task.name}  inputs {task.input_types}")
    print(f"  program: {task.program}")
    for test in task.tests:
        got = compiled if isinstance(compiled, EvalError) else compiled.run(test.inputs)
        verdict = "pass" if got == test.output else "FAIL"
        print(f"  {test.inputs} -> {got!r}  expected {test.output!r}  [{verdict}]")


def show_refinement(tasks: list[Task], decoding, rounds: int) -> None:
    """The report on `tasks`, one corruption level at a time (printed as each is done), then a
    repair from those runs (one that took more than one round, where rounds were run)."""
    from agents.acting.refine import DEFAULT_LEVELS, format_report
    from agents.nn.checkpoint import load_checkpoint

    model, _ = load_checkpoint(SHIPPED_CHECKPOINT)
    levels = len(DEFAULT_LEVELS)
    print(f"== the shipped checkpoint ({SHIPPED_CHECKPOINT.name}) repairs {len(tasks)} of them at {levels} corruption")
    if decoding.strategy == "guided":
        print("   levels: a search over each program's holes, ordered by the policy, tries up to")
        print(f"   {decoding.fillings:,} fillings and returns the likeliest that passes the visible tests")
    else:
        print(f"   levels, {rounds} rounds each; each round it keeps the best of {decoding.samples} candidates")
        print(f"   (sampled at temperature {decoding.temperature}) on the visible tests")
    print(f"\n{COLUMNS}\n", flush=True)
    traces: list[tuple[float, Task, list[str]]] = []
    for k, level in enumerate(DEFAULT_LEVELS):
        began = time.perf_counter()
        report = _level_with_progress(model, tasks, level, decoding, rounds, traces)
        table = format_report({"levels": [report]}).splitlines()
        print("\n".join(table if k == 0 else table[1:]), f"   ({time.perf_counter() - began:.0f} s)", flush=True)
    show_repair(traces)


def _level_with_progress(model, tasks, level, decoding, rounds: int, traces: list) -> dict:
    """The report at one level under a progress bar (task i corrupted with seed i); the rounds of
    every task are appended to `traces` as `(level, task, programs)`."""
    from tqdm import tqdm

    from agents.acting.refine import refinement_report, trace_lines

    with tqdm(total=len(tasks), desc=f"corruption {level}", unit="task", leave=False) as bar:
        report = refinement_report(model, tasks, (level,), rounds, decoding=decoding, progress=bar.update)
    for result in report["per_task"]:
        traces.append((level, tasks[result["index"]], trace_lines(result)))
    return report["levels"][0]


def show_repair(traces: list[tuple[float, Task, list[str]]]) -> None:
    """A repair that fails its tests after round 0 and passes them later (refinement, not a
    one-shot guess); else the one that gained most tests over its rounds."""
    multi = [t for t in traces if not _passes_all(t[2][1]) and _passes_all(t[2][-1])]
    level, task, trace = (multi or sorted(traces, key=lambda t: _passed(t[2][1]) - _passed(t[2][-1])))[0]
    what = "repaired round by round" if multi else "refined (no repair here took more than one round)"
    if all(len(t[2]) <= 2 for t in traces):  # one round each (the guided search): the best gain is the story
        what = "repaired" if _passes_all(trace[-1]) else "refined"
    print(f"\n== one program {what}; {level:.0%} of its nodes masked at the start\n   target:  {task.program}")
    for r, text in enumerate(trace):
        print(f"   {'start' if r == 0 else f'round {r - 1}'}: {text}")
        if r > 0 and _passes_all(text):
            break  # a solved program is left as it is
    if _passes_all(text):
        same = text.rsplit("   [", 1)[0].strip() == str(task.program)
        print("   (the original program)" if same else "   (not the original, but it passes the same visible tests)")


def _passed(line: str) -> int:
    return int(line.rsplit("[", 1)[1].split("/")[0])


def _passes_all(line: str) -> bool:
    passed, total = line.rsplit("[", 1)[1].split(" ")[0].split("/")
    return passed == total


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m train.demo",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--tasks", type=int, default=50, help="held-out (test split) tasks to refine")
    parser.add_argument("--strategy", choices=("guided", "best_of_k"), default="guided",
                        help="guided: the sketch search ordered by the policy, one round; best_of_k: the best of "
                             "--samples sampled candidates a round, 5 rounds (the earlier demo)")  # fmt: skip
    parser.add_argument(
        "--fillings",
        type=int,
        default=20_000,
        help="guided: fillings composed per task (a deterministic budget: the same report anywhere)",
    )
    parser.add_argument("--samples", type=int, default=32, help="best_of_k: candidates a round, on the visible tests")
    parser.add_argument("--full", action="store_true", help="100 tasks (best_of_k: best of 128; a few minutes)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (small graphs: one is fastest, far faster on a busy machine)")  # fmt: skip
    parser.add_argument("--corpus-size", type=int, default=DEFAULT_CORPUS_SIZE, help="generated corpus (all splits)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from agents.acting.strategies import Decoding

    args = build_parser().parse_args(argv)
    if args.full:
        args.tasks, args.samples = 100, 128
    guided = args.strategy == "guided"
    decoding = Decoding("guided", fillings=args.fillings) if guided else Decoding(samples=args.samples)
    start = time.perf_counter()
    print("== ProgRefine demo: an agent repairs programs from their tests")
    what = f"the guided search, {args.fillings:,} fillings a task" if guided else f"best of {args.samples}"
    print(f"   (this run: {args.tasks} tasks, {what}; `--full` or `python -m train.evaluate`"
          " for the full report)\n", flush=True)  # fmt: skip
    tasks = load_corpus("test", size=args.corpus_size, seed=0, progress=True)
    print(f"== {len(tasks)} held-out tasks (test split of the generated corpus); three of them:\n")
    for task in tasks[:3]:
        show_task(task)
        print()
    if not SHIPPED_CHECKPOINT.exists():
        print(f"(no checkpoint at {SHIPPED_CHECKPOINT}: train one with `python -m train.scheduled_sampling`,"
              " then improve it with `python -m train.improve`)")
        return 0
    import torch

    torch.set_num_threads(args.threads)
    show_refinement(tasks[: args.tasks], decoding, 1 if guided else 5)
    print(f"\n(demo done in {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
