"""The benchmark task sets in benchmarks/tasks/: well-formed, distinct, and never trained on."""

from __future__ import annotations

import json
import statistics

import pytest
from benchmark_scripts import benchmark_module, passes_all, visible_tests_missing_variants
from repo_root import ROOT

from progrefine_env.lang import parse, unparse, values_equal
from progrefine_env.tasks import GeneratorConfig, Task, Test, generate_tasks, load_corpus, load_tasks, save_tasks
from progrefine_env.tasks.held_back import held_back_records, passes_held_back

HANDWRITTEN = ROOT / "benchmarks" / "tasks" / "handwritten.jsonl"
FROZEN = ROOT / "benchmarks" / "tasks" / "generated_test_200.jsonl"



@pytest.fixture(scope="module")
def handwritten() -> list[Task]:
    return load_tasks(HANDWRITTEN)  # also re-runs every test of every task


@pytest.fixture(scope="module")
def frozen() -> list[Task]:
    return load_tasks(FROZEN)



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
                assert not passes_all(a.program, b), f"{a.name} passes every test of {b.name}"


def test_visible_tests_tell_each_program_from_its_one_token_variants(handwritten):
    """A variant that the held-out tests tell apart, a visible test tells apart too."""
    missed = visible_tests_missing_variants(handwritten)
    assert not missed, "\n".join(missed[:10])


def test_the_script_rebuilds_the_file(handwritten):
    """The file is what benchmarks/make_handwritten.py makes of its specs (a sample of them)."""
    script = benchmark_module("make_handwritten")
    specs = {s.name: s for s in script.SPECS}
    assert [t.name for t in handwritten] == list(specs)
    for task in handwritten[:: len(handwritten) // 4]:
        rebuilt, _, _ = script.build(specs[task.name], 0)
        assert rebuilt == task
        assert parse(specs[task.name].program) == task.program


def test_held_back_file_holds_the_tests_of_both_benchmarks(handwritten, frozen):
    held = {}
    for task in handwritten + frozen:
        kind = type(task.tests[0].output).__name__
        records = held_back_records(task.input_types, kind)
        tests = task.tests + task.held_out_tests
        held[task.name] = (tuple(t.inputs for t in tests), tuple(t.output for t in tests)) in records
    assert all(held.values()), [name for name, ok in held.items() if not ok]
    for task in handwritten[:20] + frozen[:20]:
        assert passes_held_back(task.compiled(), task.input_types, type(task.tests[0].output).__name__)


def test_generator_holds_the_benchmark_behaviours_back(handwritten, frozen):
    tasks = generate_tasks(80, seed=11)
    assert GeneratorConfig().hold_back
    for task in tasks:
        kind = type(task.tests[0].output).__name__
        assert not passes_held_back(task.compiled(), task.input_types, kind), unparse(task.program)
    # And the filter is what keeps them out: without it, a tiny corpus of the simplest programs
    # meets some benchmark behaviour.
    loose = GeneratorConfig(min_nodes=3, budget=(3, 7), long_share=0.0, hold_back=False)
    met = [t for t in generate_tasks(150, seed=3, config=loose) if
           passes_held_back(t.compiled(), t.input_types, type(t.tests[0].output).__name__)]
    assert met


def test_description_is_an_optional_field_that_round_trips(tmp_path):
    task = Task("t", {"x": "list"}, parse("(reverse x)"), (Test({"x": [1, 2]}, [2, 1]),), (), "the list backwards")
    path = tmp_path / "one.jsonl"
    save_tasks([task, Task("u", task.input_types, task.program, task.tests)], path)
    first, second = load_tasks(path)
    assert first == task and first.to_json()["description"] == "the list backwards"
    assert second.description == "" and "description" not in second.to_json()


@pytest.mark.slow
def test_no_training_task_of_the_default_corpus_behaves_like_a_benchmark_task(handwritten, frozen):
    """No program of the default corpus's train split passes every test (visible and held out) of
    a hand-written task or of a frozen generated test task: the benchmarks are never trained on."""
    def key(task: Task) -> tuple:
        return tuple(sorted(task.input_types.items())), type(task.tests[0].output)

    by_key: dict[tuple, list] = {}
    for task in load_corpus("train"):
        by_key.setdefault(key(task), []).append((task, task.compiled()))
    for bench in handwritten + frozen:
        tests = bench.tests + bench.held_out_tests
        for task, compiled in by_key.get(key(bench), []):
            same = all(values_equal(compiled.run(t.inputs), t.output) for t in tests)
            assert not same, f"{task.name} {unparse(task.program)} passes every test of {bench.name}"
