"""The demo behind `make demo`: generated tasks with their tests, then the shipped checkpoint
refining held-out programs round by round (the refinement report and one repair shown in full).

    python -m train.demo [--tasks 100] [--corpus-size 2000]
"""

from __future__ import annotations

import argparse

from progrefine_env.lang import EvalError
from progrefine_env.tasks.corpus import load_corpus
from progrefine_env.tasks.task import Task
from train.evaluate import SHIPPED_CHECKPOINT


def show_task(task: Task) -> None:
    compiled = task.compiled()
    print(f"task {task.name}  inputs {task.input_types}")
    print(f"  program: {task.program}")
    for test in task.tests:
        got = compiled if isinstance(compiled, EvalError) else compiled.run(test.inputs)
        verdict = "pass" if got == test.output else "FAIL"
        print(f"  {test.inputs} -> {got!r}  expected {test.output!r}  [{verdict}]")


def _a_repair(model, tasks, refine_level, decoding) -> tuple[Task, list[str]]:
    """The first task the model repairs after round 0 (its round-0 guess fails, a later round
    passes), else the first task: shows refinement rather than a one-shot guess."""
    first = None
    for task in tasks[:40]:
        trace: list[str] = []
        refine_level(model, [task], level=0.5, trace=trace, decoding=decoding)
        first = first or (task, trace)
        if "[0/" not in trace[-1] and _passes_all(trace[-1]) and not _passes_all(trace[1]):
            return task, trace
    return first


def _passes_all(line: str) -> bool:
    passed, total = line.rsplit("[", 1)[1].split(" ")[0].split("/")
    return passed == total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100, help="test-split tasks to refine")
    parser.add_argument("--corpus-size", type=int, default=2000, help="generated corpus size (all splits)")
    args = parser.parse_args(argv)

    tasks = load_corpus("test", size=args.corpus_size, seed=0)
    print(f"== {len(tasks)} held-out tasks generated (test split); three of them:\n")
    for task in tasks[:3]:
        show_task(task)
        print()
    if not SHIPPED_CHECKPOINT.exists():
        print(f"(no checkpoint at {SHIPPED_CHECKPOINT}: train one with `python -m train.scheduled_sampling`)")
        return 0

    from agents.checkpoint import load_checkpoint
    from agents.refine import format_report, refine_level, refinement_report
    from agents.strategies import Decoding

    model, _ = load_checkpoint(SHIPPED_CHECKPOINT)
    subset = tasks[: args.tasks]
    print(f"== refinement report of {SHIPPED_CHECKPOINT.name} on {len(subset)} held-out tasks\n")
    decoding = Decoding()
    print(f"(decoding: best of {decoding.samples} candidates per round at temperature {decoding.temperature}, "
          "scored on the visible tests; see agents/strategies.py)")  # fmt: skip
    print(format_report(refinement_report(model, subset, decoding=decoding)))
    task, trace = _a_repair(model, subset, refine_level, decoding)
    print(f"\n== one program repaired round by round (half its nodes masked)\n  target:  {task.program}")
    for r, text in enumerate(trace):
        print(f"  {'start' if r == 0 else f'round {r - 1}'}: {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
