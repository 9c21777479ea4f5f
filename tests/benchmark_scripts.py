"""Shared helpers for the tests of the benchmark task sets (not a test module: no `test_` prefix).

The scripts of benchmarks/ load as modules by name (benchmarks/ is not a package), and a program
"passes a task" when it passes every visible and held-out test of it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from progrefine_env.lang import compile_program, unparse, values_equal
from progrefine_env.tasks import Task

ROOT = Path(__file__).resolve().parent.parent


def benchmark_module(name: str):
    """benchmarks/NAME.py as a module, loaded once."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def passes_all(program, task: Task) -> bool:
    """Whether `program` passes every visible and held-out test of `task`."""
    compiled = compile_program(program, task.input_types)
    return all(values_equal(compiled.run(t.inputs), t.output) for t in task.tests + task.held_out_tests)


def visible_tests_missing_variants(tasks: list[Task]) -> list[str]:
    """The one-token variants of each task's program (benchmarks/make_handwritten.py's `variants`)
    that its held-out tests tell apart from it but none of its visible tests (the first six) does:
    what a set's visible tests must not let through."""
    variants = benchmark_module("make_handwritten").variants
    missed = []
    for task in tasks:
        for variant in variants(task.program, task.input_types):
            compiled = compile_program(variant, task.input_types)
            fails = [not values_equal(compiled.run(t.inputs), t.output) for t in task.tests + task.held_out_tests]
            if not any(fails[:6]) and any(fails[6:]):
                missed.append(f"{task.name}: {unparse(variant)} passes every visible test")
    return missed
