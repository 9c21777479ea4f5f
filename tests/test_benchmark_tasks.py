"""The benchmark task sets in benchmarks/tasks/: well-formed and distinct."""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from pathlib import Path

import pytest

from progrefine_env.lang import compile_program, parse, unparse, values_equal
from progrefine_env.tasks import Task, Test, load_tasks, save_tasks

ROOT = Path(__file__).resolve().parent.parent
HANDWRITTEN = ROOT / "benchmarks" / "tasks" / "handwritten.jsonl"
FROZEN = ROOT / "benchmarks" / "tasks" / "generated_test_200.jsonl"


def _script():
    """benchmarks/make_handwritten.py as a module (benchmarks/ is not a package)."""
    name = "make_handwritten"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "make_handwritten.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def handwritten() -> list[Task]:
    return load_tasks(HANDWRITTEN)  # also re-runs every test of every task


@pytest.fixture(scope="module")
def frozen() -> list[Task]:
    return load_tasks(FROZEN)


def _passes_all(program, task: Task) -> bool:
    compiled = compile_program(program, task.input_types)
    return all(values_equal(compiled.run(t.inputs), t.output) for t in task.tests + task.held_out_tests)


def test_handwritten_tasks_are_complete_and_small(handwritten):
    assert 100 <= len(handwritten) <= 150
    assert len({t.name for t in handwritten}) == len(handwritten)
    for task in handwritten:
        assert task.name and task.description, task.name
        assert len(task.tests) == 6 and len(task.held_out_tests) == 6, task.name
        keys = [json.dumps(t.inputs, sort_keys=True) for t in task.tests + task.held_out_tests]
        assert len(set(keys)) == 12, f"{task.name}: visible and held-out inputs are distinct"
        assert len({json.dumps(t.output) for t in task.tests}) > 1, f"{task.name}: not one output for all"
        assert 3 <= len(task.program) <= 64
    assert statistics.median(len(t.program) for t in handwritten) <= 15


def test_frozen_generated_tasks_are_200_with_5_visible_and_5_held_out_tests(frozen):
    assert len(frozen) == 200
    assert all(len(t.tests) == 5 and len(t.held_out_tests) == 5 for t in frozen)


def test_no_handwritten_task_passes_the_tests_of_another(handwritten):
    for a in handwritten:
        for b in handwritten:
            if a is not b and a.input_types == b.input_types:
                assert not _passes_all(a.program, b), f"{a.name} passes every test of {b.name}"


def test_visible_tests_tell_each_program_from_its_one_token_variants(handwritten):
    """A variant that the held-out tests tell apart, a visible test tells apart too."""
    variants = _script().variants
    for task in handwritten:
        for variant in variants(task.program, task.input_types):
            compiled = compile_program(variant, task.input_types)
            fails = [not values_equal(compiled.run(t.inputs), t.output) for t in task.tests + task.held_out_tests]
            assert any(fails[:6]) or not any(fails[6:]), f"{task.name}: {unparse(variant)} passes every visible test"


def test_the_script_rebuilds_the_file(handwritten):
    """The file is what benchmarks/make_handwritten.py makes of its specs (a sample of them)."""
    script = _script()
    specs = {s.name: s for s in script.SPECS}
    assert [t.name for t in handwritten] == list(specs)
    for task in handwritten[:: len(handwritten) // 4]:
        rebuilt, _, _ = script.build(specs[task.name], 0)
        assert rebuilt == task
        assert parse(specs[task.name].program) == task.program


def test_description_is_an_optional_field_that_round_trips(tmp_path):
    task = Task("t", {"x": "list"}, parse("(reverse x)"), (Test({"x": [1, 2]}, [2, 1]),), (), "the list backwards")
    path = tmp_path / "one.jsonl"
    save_tasks([task, Task("u", task.input_types, task.program, task.tests)], path)
    first, second = load_tasks(path)
    assert first == task and first.to_json()["description"] == "the list backwards"
    assert second.description == "" and "description" not in second.to_json()
