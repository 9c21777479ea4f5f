"""The classical sketch search (progrefine_env.search): it solves hand-built sketches whose answer is
known, composes the values the interpreter computes, builds only well-typed programs, is
deterministic under a fillings budget, keeps to its budgets, and reads only the visible tests."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from progrefine_env.env import ProgramRefineEnv
from progrefine_env.lang import MASK, VOCAB_SIZE, Program, check, compile_program, parse
from progrefine_env.search import Sketch, SketchSearch, guided_choices, mask_choices, noise_choices
from progrefine_env.tasks import load_tasks
from progrefine_env.tasks.task import Task, Test, passes

HANDWRITTEN = load_tasks("benchmarks/tasks/handwritten.jsonl")


def make_task(text: str, inputs: dict[str, str], examples: list[dict]) -> Task:
    program = parse(text)
    compiled = compile_program(program, inputs)
    tests = tuple(Test(e, compiled.run(e)) for e in examples)
    return Task("t", inputs, program, tests)


def holes_at(task: Task, holes) -> Sketch:
    tokens = list(task.program.tokens)
    for i in holes:
        tokens[i] = MASK
    return Sketch(tuple(tokens), task.program.arities, tuple(holes), task.input_types, task.tests)


def judge_of(task: Task):
    return lambda tokens: sum(passes(Program(tokens, task.program.arities), task.input_types, task.tests))


LISTS = [{"x": [3, -1, 2, 7]}, {"x": [0, 5, -4]}, {"x": []}, {"x": [9, 9, 1, -2, 6]}, {"x": [-3, 8]}]
PAIRS = [{"x": [3, -1, 2], "y": [4, 5, 0, 1]}, {"x": [7, 2], "y": [1, -6]}, {"x": [], "y": [2]},
         {"x": [1, 2, 3, 4], "y": [4, 3, 2, 1]}]  # fmt: skip
KNOWN = [
    ("(+ (sum x) (len x))", {"x": "list"}, LISTS),
    ("(if (> (len x) 2) (head x) (- 0 1))", {"x": "list"}, LISTS),
    ("(map (lam (* a 2)) (filter (lam (> a 0)) x))", {"x": "list"}, LISTS),
    ("(count (lam (= (% a 2) 0)) x)", {"x": "list"}, LISTS),
    ("(scanl1 (lam2 (max a b)) x)", {"x": "list"}, LISTS),
    ("(fold (lam2 (+ a (* b b))) 0 x)", {"x": "list"}, LISTS),
    ("(zipwith (lam2 (- a b)) x y)", {"x": "list", "y": "list"}, PAIRS),
    ("(reverse (cons 3 (take 2 (sort x))))", {"x": "list"}, LISTS),
    ("(concat (drop 1 x) (range (len x)))", {"x": "list"}, LISTS),
    ("(and (< (minimum y) 3) (not (= (last y) 1)))", {"y": "list"}, [{"y": v["y"]} for v in PAIRS]),
    ("(map (lam (fold (lam2 (+ a b)) a x)) x)", {"x": "list"}, LISTS),  # a lam2 inside a lam
    ("(fold (lam2 (+ a (count (lam (> a b)) x))) 0 x)", {"x": "list"}, LISTS),  # a lam inside a lam2, b outer
    ("(map (lam (if (> a 0) a (- 0 a))) x)", {"x": "list"}, LISTS),  # an if inside a lambda
    ("(if (= (len x) 0) 0 (index 0 x))", {"x": "list"}, LISTS),  # `index` errors on [] where if does not go
    ("(max x (* y 3))", {"x": "int", "y": "int"}, [{"x": 4, "y": 1}, {"x": -2, "y": 0}, {"x": 0, "y": 5}]),
]


@pytest.mark.parametrize("text, inputs, examples", KNOWN, ids=[k[0] for k in KNOWN])
def test_the_classical_search_solves_known_sketches(text, inputs, examples):
    task = make_task(text, inputs, examples)
    n = len(task.program)
    holes = list(range(1, n, 2)) or [0]  # every other node a hole
    result = SketchSearch(holes_at(task, holes), mask_choices(holes_at(task, holes)), judge_of(task)).run()
    assert result.solved and result.stop == "solved"
    assert all(passes(Program(result.tokens, task.program.arities), task.input_types, task.tests))
    assert result.candidates_run >= 1 and result.fillings >= 1


def test_an_error_in_the_branch_if_does_not_take_is_no_error():
    task = make_task("(if (= (len x) 0) 0 (index 0 x))", {"x": "list"}, LISTS)
    sketch = holes_at(task, [1])  # the condition's token: `=` must be found although `index 0 []` errs
    search = SketchSearch(sketch, mask_choices(sketch), judge_of(task))
    assert search.run().solved
    empty = next(k for k, t in enumerate(task.tests) if t.inputs["x"] == [])
    values = [f.values[empty] for f in search.classes(0, 0).values()]
    assert 0 in values  # the root took the `then` branch on [] and did not fail


def random_sketches(count: int, level: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    for task in HANDWRITTEN[:count]:
        n = len(task.program)
        holes = sorted(rng.choice(n, max(1, round(level * n)), replace=False).tolist())
        yield task, holes_at(task, holes)


def test_composed_values_are_the_interpreters_and_every_program_is_well_typed():
    for task, sketch in random_sketches(25, 0.75):
        search = SketchSearch(sketch, mask_choices(sketch), fillings=1500)
        search.run()
        for filling in list(search.classes(0, 0).values())[:60]:
            program = Program(search.tokens_of(filling), sketch.arities)
            assert check(program, task.input_types).well_typed, str(program)
            compiled = compile_program(program, task.input_types)
            for test, value in zip(task.tests, filling.values):
                expected = compiled.run(test.inputs)
                assert value == expected and type(value) is type(expected), (str(program), test.inputs)


def test_same_result_for_the_same_fillings_budget():
    for task, sketch in random_sketches(12, 1.0, seed=3):
        first = SketchSearch(sketch, mask_choices(sketch), judge_of(task), fillings=700).run()
        again = SketchSearch(sketch, mask_choices(sketch), judge_of(task), fillings=700).run()
        assert (first.tokens, first.solved, first.fillings, first.stop) == (
            again.tokens, again.solved, again.fillings, again.stop)  # fmt: skip
        assert first.fillings <= 700
        if first.stop == "fillings":
            assert first.fillings == 700


def test_a_cpu_budget_stops_the_search():
    ticks = iter(range(10**9))
    clock = lambda: next(ticks) * 0.001  # noqa: E731  a fake clock: 1 ms a look
    task, sketch = next(random_sketches(1, 1.0))
    result = SketchSearch(sketch, mask_choices(sketch), None, cpu_seconds=0.005, clock=clock).run()
    assert result.stop == "cpu" and result.fillings <= 64 * 8


def uniform_log_probs(sketch: Sketch) -> np.ndarray:
    """A uniform model over each node's allowed tokens."""
    allowed = sketch.allowed()
    out = np.full((len(allowed), VOCAB_SIZE), -1e8)
    for i, tokens in enumerate(allowed):
        out[i, list(tokens)] = -np.log(len(tokens))
    return out


def test_guided_by_a_uniform_model_finds_the_classical_classes():
    compared = 0
    for _, sketch in random_sketches(30, 0.5, seed=5):
        never = lambda tokens: -1  # noqa: E731  a judge that accepts nothing: both searches go to the end
        classical = SketchSearch(sketch, mask_choices(sketch), never)
        guided = SketchSearch(sketch, guided_choices(sketch, uniform_log_probs(sketch)), never)
        if classical.run().stop != "exhausted" or guided.run().stop != "exhausted":
            continue  # a cap bound: only searches below every cap are comparable
        if any(t.full for row in classical.table for t in row.values()):
            continue
        compared += 1
        for i, contexts in enumerate(classical.table):
            for c in contexts:
                assert _values(classical.classes(i, c)) == _values(guided.classes(i, c)), (i, c)
    assert compared >= 10


def _values(classes: dict) -> set:
    """Class keys as values (a lambda's key names its body's filling, which differs between searches)."""
    return {k if k[0] not in (8, 16, 32) else (k[0], _body(f)) for k, f in classes.items()}


def _body(filling) -> tuple:
    body = filling.kids[0]
    return tuple(v if not isinstance(v, list) else tuple(v) for v in body.values)


def test_noise_repair_orders_fillings_by_changed_nodes():
    task = make_task("(map (lam (* a 2)) (filter (lam (> a 0)) x))", {"x": "list"}, LISTS)
    tokens = list(task.program.tokens)
    tokens[3] = parse("(+ a 2)").tokens[0]  # one wrong token: `*` became `+`
    sketch = Sketch(tuple(tokens), task.program.arities, tuple(range(len(tokens))), task.input_types, task.tests)
    result = SketchSearch(sketch, noise_choices(sketch), judge_of(task)).run()
    assert result.solved
    changed = sum(a != b for a, b in zip(result.tokens, tokens))
    assert changed == 1  # the cheapest repair, not some other program that fits


def test_the_search_module_imports_no_torch():
    code = "import sys, progrefine_env.search; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_visible_tests_are_the_visible_ones_only():
    task = HANDWRITTEN[0]
    env = ProgramRefineEnv(tasks=[task])
    env.reset(seed=0)
    assert env.visible_tests() == task.tests and env.input_types == task.input_types
    env.visible_tests()[0].inputs["x"].append(99)  # copies: the episode's tests are untouched
    assert env.visible_tests() == task.tests
    held = {repr(t.inputs) for t in task.held_out_tests}
    assert not held & {repr(t.inputs) for t in env.visible_tests()}


def test_fuel_runs_out_where_the_interpreters_does():
    text = "(map (lam (fold (lam2 (+ a b)) a (range (* a 9)))) x)"
    # 35 elements of 10: the program runs within fuel with 9, runs out with 10 (and errs on length above)
    task = make_task(text, {"x": "list"}, [{"x": [10] * 35}, {"x": [10] * 33}, {"x": [1, 2]}])
    sketch = holes_at(task, [11])  # the `9`: other constants leave the run in fuel or out of it
    search = SketchSearch(sketch, mask_choices(sketch), lambda tokens: -1)
    search.run()
    kinds = set()
    for filling in search.classes(0, 0).values():
        program = Program(search.tokens_of(filling), sketch.arities)
        compiled = compile_program(program, task.input_types)
        for test, value in zip(task.tests, filling.values):
            assert value == compiled.run(test.inputs)
            kinds.add(getattr(value, "kind", "value"))
    assert {"fuel", "value"} <= kinds


def test_with_scores_the_likeliest_fit_of_the_first_level_wins():
    task = make_task("(+ x 0)", {"x": "int"}, [{"x": 3}, {"x": -2}, {"x": 0}])
    sketch = holes_at(task, [0])  # +, -, max, ... with 0 all fit: only the scores tell them apart
    plus, minus = parse("(+ x 0)").tokens[0], parse("(- x 0)").tokens[0]
    choices = [[(plus, 0), (minus, 0)] + [(t, 0) for t, _ in mask_choices(sketch)[0] if t not in (plus, minus)]]
    choices += mask_choices(sketch)[1:]
    scores = np.full((len(sketch.tokens), VOCAB_SIZE), 5.0)
    scores[0, minus] = 0.1
    first = SketchSearch(sketch, choices, judge_of(task)).run()
    likeliest = SketchSearch(sketch, choices, judge_of(task), scores=scores).run()
    assert first.tokens[0] == plus and likeliest.tokens[0] == minus
    assert likeliest.solved and likeliest.candidates_run >= 2
