"""The fast sketch search (progrefine_env.search.fast) against the reference (sketch.SketchSearch):
on random sketches of the three task sets, mask and noise mode, classical and guided, with the
same fillings budget, both find the same classes (values and representative) per node and context
and the same answer, fillings counted identically. Hash collisions and the class cap take the
paths they would take rarely on real tasks, forced here."""

from __future__ import annotations

import numpy as np
import pytest

from progrefine_env.lang import MASK, TOKENS_BY_ARITY, VOCAB_SIZE, Program
from progrefine_env.search import Sketch, SketchSearch, guided_choices, mask_choices, noise_choices
from progrefine_env.search import fast as fast_module
from progrefine_env.search.fast import FastSketchSearch
from progrefine_env.tasks import load_tasks
from progrefine_env.tasks.task import passes

SETS = {name: load_tasks(f"benchmarks/tasks/{name}.jsonl") for name in ("handwritten", "puzzles", "generated_test_200")}


def sketches(name: str, mode: str, level: float, count: int, seed: int):
    """`count` random sketches of a set: `level` of the nodes masked, or (noise) replaced."""
    rng = np.random.default_rng(seed)
    tasks = SETS[name]
    for k in rng.choice(len(tasks), count, replace=False):
        task = tasks[int(k)]
        n = len(task.program)
        picked = sorted(rng.choice(n, max(1, round(level * n)), replace=False).tolist())
        tokens = list(task.program.tokens)
        for i in picked:
            if mode == "mask":
                tokens[i] = MASK
            else:
                same = TOKENS_BY_ARITY[task.program.arities[i]]
                tokens[i] = int(same[rng.integers(len(same))])
        holes = picked if mode == "mask" else list(range(n))
        yield task, Sketch(tuple(tokens), task.program.arities, tuple(holes), task.input_types, task.tests)


def judge_of(task):
    return lambda tokens: sum(passes(Program(tokens, task.program.arities), task.input_types, task.tests))


def subtree(filling) -> tuple:
    """The representative's tokens, pre-order."""
    out, stack = [], [filling]
    while stack:
        f = stack.pop()
        out.append(f.token)
        stack.extend(reversed(f.kids))
    return tuple(out)


def class_table(search, node: int, context: int) -> dict:
    """Class -> representative tokens; a lambda's class named by its body's values (its reference
    key names the body's filling object, which differs between searches)."""
    out = {}
    for key, f in search.classes(node, context).items():
        if key[0] in (8, 16, 32):
            key = (key[0], tuple(v if not isinstance(v, list) else tuple(v) for v in f.kids[0].values))
        out[key] = subtree(f)
    return out


def assert_same(reference, fast, ref_result, fast_result) -> None:
    fields = ("tokens", "solved", "matched", "fillings", "candidates_run", "stop")
    assert [getattr(ref_result, f) for f in fields] == [getattr(fast_result, f) for f in fields]
    for i, contexts in enumerate(reference.table):
        for c in contexts:
            assert class_table(reference, i, c) == class_table(fast, i, c), (i, c)


def run_both(sketch, choices, judge, **options):
    reference = SketchSearch(sketch, choices, judge, **options)
    fast = FastSketchSearch(sketch, choices, judge, **options)
    return reference, fast, reference.run(), fast.run()


CASES = [(name, mode, level) for name in SETS for mode, level in
         (("mask", 0.5), ("mask", 0.75), ("mask", 1.0), ("noise", 0.25))]  # fmt: skip


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{n}-{m}-{lv}" for n, m, lv in CASES])
def test_the_fast_search_finds_the_references_classes_and_answer(case):
    name, mode, level = CASES[case]
    for k, (task, sketch) in enumerate(sketches(name, mode, level, 6, seed=case)):
        budget = (500, 1500, 4000)[k % 3]
        choices = mask_choices(sketch) if mode == "mask" else noise_choices(sketch)
        assert_same(*run_both(sketch, choices, judge_of(task), fillings=budget))


def test_guided_with_scores_judges_the_same_fits_in_the_same_order():
    rng = np.random.default_rng(7)
    for task, sketch in sketches("handwritten", "mask", 0.5, 10, seed=11):
        log_probs = np.log(rng.dirichlet(np.ones(VOCAB_SIZE), size=len(sketch.tokens)))
        choices = guided_choices(sketch, log_probs)
        assert_same(*run_both(sketch, choices, judge_of(task), fillings=3000, scores=-log_probs))


def test_the_class_cap_cuts_a_block_where_the_reference_stops():
    for task, sketch in sketches("generated_test_200", "mask", 1.0, 5, seed=2):
        assert_same(*run_both(sketch, mask_choices(sketch), judge_of(task), fillings=3000, max_classes=40))


def test_every_budget_stops_both_at_the_same_filling():
    task, sketch = next(sketches("puzzles", "mask", 1.0, 1, seed=4))
    for budget in range(1, 400, 37):
        assert_same(*run_both(sketch, mask_choices(sketch), judge_of(task), fillings=budget))


def test_hash_collisions_take_the_exact_path(monkeypatch):
    colliding = lambda values, types: np.zeros(len(values), dtype=np.int64)  # noqa: E731  every row collides
    monkeypatch.setattr(fast_module, "row_hashes", colliding)
    for task, sketch in sketches("handwritten", "mask", 0.75, 4, seed=9):
        assert_same(*run_both(sketch, mask_choices(sketch), judge_of(task), fillings=1500))
