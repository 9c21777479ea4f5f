"""Throughput of the program language (progrefine_env.lang) on a generated task corpus.

Prints one table: for each operation the environment performs per step or per reset (parse, print,
type check with grammar masks on complete and on partly masked programs, compile, run one test),
the time per call and calls per second, best of `--repeat` timed passes over the corpus.

    python benchmarks/language.py [--tasks 500] [--seed 0] [--corruption 0.5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from progrefine_env.lang import (  # noqa: E402
    MASK,
    Compiled,
    EvalError,
    check,
    compile_program,
    evaluate,
    grammar_masks,
    parse,
    unparse,
    values_equal,
)
from progrefine_env.tasks.generator import generate_tasks  # noqa: E402


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """Seconds of the fastest of `repeat` calls of `fn` (after one untimed warm-up call)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def row(name: str, calls: int, seconds: float) -> tuple[str, int, float, float]:
    return name, calls, seconds / calls * 1e6, calls / seconds


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=500, help="generated tasks to measure on")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated corpus and of the masks")
    parser.add_argument("--corruption", type=float, default=0.5, help="share of nodes masked for the holes row")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per operation (best is kept)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    tasks = generate_tasks(args.tasks, seed=args.seed)
    generation = time.perf_counter() - start

    texts = [unparse(t.program) for t in tasks]
    programs = [t.program for t in tasks]
    types = [t.input_types for t in tasks]
    tests = [(t.input_types, test) for t in tasks for test in t.tests]
    compiled = [Compiled(t.program) for t in tasks]
    runs = [(c, test) for c, t in zip(compiled, tasks, strict=True) for test in t.tests]
    r = random.Random(args.seed)
    masked = [
        p.replace({i: MASK for i in range(len(p)) if r.random() < args.corruption}) for p in programs
    ]

    # Sanity: every generated program passes its own tests and is well-typed.
    for task, c in zip(tasks, compiled, strict=True):
        assert check(task.program, task.input_types).well_typed, task.name
        for test in task.tests:
            assert values_equal(c.run(test.inputs), test.output), task.name

    n, rep = len(tasks), args.repeat
    rows = [
        row("parse", n, best_time(lambda: [parse(s) for s in texts], rep)),
        row("unparse", n, best_time(lambda: [unparse(p) for p in programs], rep)),
        row("check (complete)", n, best_time(lambda: [check(p, ty) for p, ty in zip(programs, types)], rep)),
        row("grammar_masks (complete)", n,
            best_time(lambda: [grammar_masks(p, ty) for p, ty in zip(programs, types)], rep)),
        row(f"grammar_masks ({args.corruption:.0%} masked)", n,
            best_time(lambda: [grammar_masks(p, ty) for p, ty in zip(masked, types)], rep)),
        row("compile (uncached)", n, best_time(lambda: [Compiled(p) for p in programs], rep)),
        row("compile_program (cached)", n,
            best_time(lambda: [compile_program(p, ty) for p, ty in zip(programs, types)], rep)),
        row("run one test (compiled)", len(runs), best_time(lambda: [c.run(t.inputs) for c, t in runs], rep)),
        row("evaluate one test", len(tests),
            best_time(lambda: [evaluate(tk.program, t.inputs) for tk in tasks for t in tk.tests], rep)),
        row("evaluate incomplete", n,
            best_time(lambda: [evaluate(p, {k: [] if v == "list" else 0 for k, v in ty.items()})
                               for p, ty in zip(masked, types)], rep)),
    ]  # fmt: skip
    errors = sum(evaluate(p, {k: [] if v == "list" else 0 for k, v in ty.items()}) == EvalError("incomplete")
                 for p, ty in zip(masked, types))  # fmt: skip

    sizes = sorted(len(p) for p in programs)
    print(f"# progrefine_env.lang throughput  (python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs)")  # fmt: skip
    print(f"# corpus: {n} generated tasks (seed {args.seed}) in {generation:.1f} s; nodes per program: "
          f"median {sizes[n // 2]}, max {sizes[-1]}; {len(runs)} visible tests; "
          f"{errors}/{n} masked programs incomplete")  # fmt: skip
    print()
    width = max(len(name) for name, *_ in rows)
    print(f"| {'operation':<{width}} | {'calls':>6} | {'us/call':>9} | {'calls/s':>10} |")
    print(f"| {'-' * width} | {'-' * 6}:| {'-' * 9}:| {'-' * 10}:|")
    for name, calls, us, per_s in rows:
        print(f"| {name:<{width}} | {calls:>6} | {us:>9.1f} | {per_s:>10,.0f} |")


if __name__ == "__main__":
    main()
