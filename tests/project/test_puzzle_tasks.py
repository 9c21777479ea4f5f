"""The second hand-written set, benchmarks/tasks/puzzles.jsonl: well-formed, richer than the first,
told apart from every other hand-written program, and never met in the shipped corpus."""

from __future__ import annotations

import json
import statistics

import pytest
from benchmark_scripts import benchmark_module, passes_all, visible_tests_missing_variants
from repo_root import ROOT

from progrefine_env.lang import VOCAB, parse, unparse, values_equal
from progrefine_env.tasks import Task, load_corpus, load_tasks

PUZZLES = ROOT / "benchmarks" / "tasks" / "puzzles.jsonl"
HANDWRITTEN = ROOT / "benchmarks" / "tasks" / "handwritten.jsonl"



@pytest.fixture(scope="module")
def puzzles() -> list[Task]:
    return load_tasks(PUZZLES)  # also re-runs every test of every task


@pytest.fixture(scope="module")
def handwritten() -> list[Task]:
    return load_tasks(HANDWRITTEN)



def test_puzzles_are_complete_and_within_the_size_limit(puzzles, handwritten):
    assert len(puzzles) >= 120
    names = {t.name for t in puzzles}
    assert len(names) == len(puzzles)
    assert not names & {t.name for t in handwritten}, "a puzzle shares a name with a task of the first set"
    for task in puzzles:
        assert task.name and task.description, task.name
        assert len(task.tests) == 6 and len(task.held_out_tests) == 6, task.name
        keys = [json.dumps(t.inputs, sort_keys=True) for t in task.tests + task.held_out_tests]
        assert len(set(keys)) == 12, f"{task.name}: visible and held-out inputs are distinct"
        assert len({json.dumps(t.output) for t in task.tests}) > 1, f"{task.name}: not one output for all"
        assert 3 <= len(task.program) <= 64, task.name
        used = {VOCAB[t] for t in task.program.tokens}
        assert set(task.input_types) <= used, f"{task.name}: declares an input it never reads"


def test_sizes_spread_over_8_to_30_nodes_and_beyond(puzzles):
    sizes = [len(t.program) for t in puzzles]
    assert sum(8 <= n <= 30 for n in sizes) >= 0.8 * len(sizes)
    assert 10 <= statistics.median(sizes) <= 20
    assert sum(n > 30 for n in sizes) >= 3


def test_at_least_half_nest_lambdas_branch_inside_one_or_take_two_inputs(puzzles):
    structure = benchmark_module("corpus_stats").structure
    found = [structure(t.program, t.input_types) for t in puzzles]
    assert sum(f["any"] for f in found) >= len(puzzles) / 2
    for key in ("nested", "lam_in_lam2", "if_in_lambda", "multi_input"):
        assert sum(f[key] for f in found) >= 15, key


def test_structure_names_what_a_program_nests():
    structure = benchmark_module("corpus_stats").structure
    one = {"x": "list"}
    assert not structure(parse("(sum (map (lam (* a a)) (filter (lam (> a 0)) x)))"), one)["any"]
    nested = structure(parse("(fold (lam2 (+ a (count (lam (< a b)) x))) 0 x)"), one)
    assert nested["nested"] and nested["lam_in_lam2"] and not nested["if_in_lambda"]
    reverse = structure(parse("(count (lam (> a (fold (lam2 (max a b)) 0 x))) x)"), one)
    assert reverse["lam_in_lam2"]
    same_kind = structure(parse("(map (lam (count (lam (> a 0)) x)) x)"), one)
    assert same_kind["nested"] and not same_kind["lam_in_lam2"]
    branch = structure(parse("(map (lam (if (> a 0) a 0)) x)"), one)
    assert branch["if_in_lambda"] and branch["any"] and not branch["nested"]
    assert not structure(parse("(if (> (len x) 0) (head x) 0)"), one)["if_in_lambda"]
    assert structure(parse("(take y x)"), {"x": "list", "y": "int"})["multi_input"]


def test_no_puzzle_passes_the_tests_of_another(puzzles):
    for a in puzzles:
        for b in puzzles:
            if a is not b and a.input_types == b.input_types:
                assert not passes_all(a.program, b), f"{a.name} passes every test of {b.name}"


def test_puzzles_and_the_first_set_are_told_apart(puzzles, handwritten):
    for a in puzzles:
        for b in handwritten:
            if a.input_types == b.input_types:
                assert not passes_all(a.program, b), f"{a.name} passes every test of {b.name}"
                assert not passes_all(b.program, a), f"{b.name} passes every test of {a.name}"


def test_visible_tests_tell_each_program_from_its_one_token_variants(puzzles):
    """A variant that the held-out tests tell apart, a visible test tells apart too."""
    missed = visible_tests_missing_variants(puzzles)
    assert not missed, "\n".join(missed[:10])


def test_the_script_rebuilds_the_file(puzzles):
    """The file is what `make_handwritten.py --specs puzzles` makes of benchmarks/puzzle_specs.py
    (a sample of it), and that set is not one the generator holds back."""
    script = benchmark_module("make_handwritten")
    module = script.specs_module("puzzles")
    specs = {s.name: s for s in module.SPECS}
    assert [t.name for t in puzzles] == list(specs)
    assert "puzzles" not in script.HELD_BACK_SETS
    everything = tuple(module.SPECS) + tuple(module.DISTINCT_FROM)
    for task in puzzles[:: len(puzzles) // 4]:
        rebuilt, _, _ = script.build(specs[task.name], 0, everything)
        assert rebuilt == task
        assert parse(specs[task.name].program) == task.program


@pytest.mark.slow
def test_no_program_of_the_shipped_corpus_behaves_like_a_puzzle(puzzles):
    """No program of the shipped corpus's train or val split passes every test (visible and held
    out) of a puzzle: the generator does not hold the puzzles back, so this check is what keeps
    them out of training (benchmarks/puzzle_specs.py; a task that fails it is replaced)."""
    def key(task: Task) -> tuple:
        return tuple(sorted(task.input_types.items())), type(task.tests[0].output)

    by_key: dict[tuple, list] = {}
    for split in ("train", "val"):
        for task in load_corpus(split):
            by_key.setdefault(key(task), []).append((task, task.compiled()))
    for puzzle in puzzles:
        tests = puzzle.tests + puzzle.held_out_tests
        for task, compiled in by_key.get(key(puzzle), []):
            same = all(values_equal(compiled.run(t.inputs), t.output) for t in tests)
            assert not same, f"{task.name} {unparse(task.program)} passes every test of {puzzle.name}"
