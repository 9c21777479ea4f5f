"""Build a hand-written benchmark, e.g. `benchmarks/tasks/handwritten.jsonl`, from its specs.

    python benchmarks/make_handwritten.py [--specs handwritten|puzzles] [--out PATH] [--seed 0] [--check-only]

`--specs NAME` picks the set: its specs module (`benchmarks/handwritten_specs.py`,
`benchmarks/puzzle_specs.py`), written by default to `benchmarks/tasks/NAME.jsonl`. `handwritten`
(the default) is the first set, in our generator's style; `puzzles` the second, list and number
puzzles as a person poses them.

For each spec of the module (a hand-written program, its inputs and a one-line description), this
draws a pool of varied random inputs on which the program runs without error (seeded by the task's
name, so a task's tests do not change when others are added), and picks its tests from the pool so
that they tell the program apart from its *one-token variants*: every program obtained by replacing
one node's token by another token of the same arity that still type-checks. A variant is *killed* by
an input where its output differs from the program's (an error counts). The visible tests are chosen
greedily to kill the most variants not yet killed (ties: a new output value, then the draw order),
so that every variant the pool can kill is killed by a visible test where six inputs can do it; the
held-out tests are then chosen the same way from the rest of the pool, so they are distinct and, on
their own, kill the variants too. A variant that no input of the pool kills computes the same
function on these inputs and is not counted. The tests also tell each program from the set's other
programs with the same inputs, and from the programs of the module's `DISTINCT_FROM` specs where it
has them (the puzzles name the first set there).

For the first set only, it also writes `progrefine_env/tasks/held_back.json.gz`: the tests of these
tasks and of the frozen `generated_test_200.jsonl`, whose behaviours the generator holds back from the
corpus. The puzzles are kept out of training by a check instead (`tests/project/test_puzzle_tasks.py`), so
that the shipped corpus stays as it is.

Prints one line per task that leaves variants alive, and a summary: tasks, node counts, and the
share of killable variants the visible tests kill. It refuses (exit 1) when two tasks compute the same
function on each other's test inputs (a `DISTINCT_FROM` program passing every test of a task counts
too), or a program breaks the language's limits.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import random
import statistics
import sys
from collections.abc import Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.handwritten_specs import SPECS, Spec  # noqa: E402  (the default set)
from progrefine_env.lang import ARITY, TOKENS_BY_ARITY, EvalError, Program, compile_program, parse, values_equal  # noqa: E402
from progrefine_env.tasks import Task, Test, load_tasks, save_tasks  # noqa: E402
from progrefine_env.tasks.held_back import HELD_BACK_FILE, write_held_back  # noqa: E402

NUM_VISIBLE = 6
NUM_HELD_OUT = 6
POOL_SIZE = 300
MAX_DRAWS = 6000
MAX_NODES = 64
TASKS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tasks")
DEFAULT_OUT = os.path.join(TASKS_DIR, "handwritten.jsonl")
FROZEN = os.path.join(TASKS_DIR, "generated_test_200.jsonl")
SETS = {"handwritten": "handwritten_specs", "puzzles": "puzzle_specs"}
"""The hand-written sets (`--specs NAME`) and their specs modules in benchmarks/."""
HELD_BACK_SETS = ("handwritten",)
"""The sets whose behaviours the generator holds back (`held_back.json.gz` is written with them)."""


def specs_module(name: str):
    """The specs module of the set `name` (a key of `SETS`)."""
    if name not in SETS:
        raise ValueError(f"unknown set {name!r}: choose one of {', '.join(SETS)}")
    return importlib.import_module(f"benchmarks.{SETS[name]}")


def variants(program: Program, input_types: dict[str, str]) -> list[Program]:
    """Every program that differs from `program` in one node's token (same arity) and type-checks."""
    found = []
    for i, tok in enumerate(program.tokens):
        for other in TOKENS_BY_ARITY[ARITY[tok]]:
            if other == tok:
                continue
            tokens = program.tokens[:i] + (other,) + program.tokens[i + 1 :]
            variant = Program(tokens, program.arities)
            if not isinstance(compile_program(variant, input_types), EvalError):
                found.append(variant)
    return found


def _draw(r: random.Random, spec: Spec) -> dict:
    inputs: dict = {}
    for name, kind in spec.input_types.items():
        if kind == "list":
            inputs[name] = [r.randint(*spec.values) for _ in range(r.randint(*spec.lengths))]
        else:
            inputs[name] = r.randint(*spec.ints)
    return inputs


def _key(inputs: dict) -> tuple:
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(inputs.items()))


def input_pool(spec: Spec, seed: int) -> tuple[list[dict], list]:
    """Up to `POOL_SIZE` distinct inputs (in draw order) on which the program runs, with its outputs."""
    digest = hashlib.sha256(f"handwritten:{seed}:{spec.name}".encode()).digest()
    r = random.Random(int.from_bytes(digest[:8], "big"))
    compiled = compile_program(parse(spec.program), spec.input_types)
    pool, outputs, seen = [], [], set()
    for _ in range(MAX_DRAWS):
        inputs = _draw(r, spec)
        key = _key(inputs)
        if key in seen:
            continue
        seen.add(key)
        got = compiled.run(inputs)
        if not isinstance(got, EvalError):
            pool.append(inputs)
            outputs.append(got)
            if len(pool) == POOL_SIZE:
                break
    return pool, outputs


def kill_sets(
    spec: Spec, pool: Sequence[dict], outputs: Sequence, specs: Sequence[Spec] = SPECS
) -> tuple[list, list]:
    """For each variant that some pool input kills, the pool inputs that kill it; and the same for
    the programs of the other specs of `specs` with the same inputs (so that no task's program
    passes all the tests of another)."""
    program = parse(spec.program)
    others = [parse(s.program) for s in specs if s.name != spec.name and s.input_types == spec.input_types]
    found: tuple[list, list] = ([], [])
    for group, programs in zip(found, (variants(program, spec.input_types), others)):
        for variant in programs:
            compiled = compile_program(variant, spec.input_types)
            killed = frozenset(
                k for k, inputs in enumerate(pool) if not values_equal(compiled.run(inputs), outputs[k])
            )  # fmt: skip
            if killed:
                group.append(killed)
    return found


def _key_of(value) -> tuple:
    return (type(value).__name__, tuple(value) if isinstance(value, list) else value)


def pick(count: int, candidates: Sequence[int], sets: Sequence[frozenset[int]], outputs: Sequence) -> list[int]:
    """`count` pool indices chosen greedily: most variants newly killed, then a new output value,
    then the earliest drawn; returned in the order chosen."""
    alive = list(sets)
    chosen: list[int] = []
    shown: set = set()
    left = list(candidates)
    while len(chosen) < count and left:
        best = max(left, key=lambda k, alive=alive: (sum(k in s for s in alive), _key_of(outputs[k]) not in shown, -k))
        chosen.append(best)
        left.remove(best)
        shown.add(_key_of(outputs[best]))
        alive = [s for s in alive if best not in s]
    return chosen


def build(spec: Spec, seed: int, specs: Sequence[Spec] = SPECS) -> tuple[Task, int, int]:
    """The task of one spec, the number of killable variants, and how many of them the visible tests kill.
    `specs`: the programs its tests must tell it from (its own set's, and any others')."""
    program = parse(spec.program)
    if len(program) > MAX_NODES or isinstance(compile_program(program, spec.input_types), EvalError):
        raise ValueError(f"{spec.name}: the program does not type-check or has more than {MAX_NODES} nodes")
    pool, outputs = input_pool(spec, seed)
    if len(pool) < NUM_VISIBLE + NUM_HELD_OUT:
        raise ValueError(f"{spec.name}: only {len(pool)} inputs on which the program runs")
    mutants, others = kill_sets(spec, pool, outputs, specs)
    sets = mutants + others
    visible = pick(NUM_VISIBLE, range(len(pool)), sets, outputs)
    if len({_key_of(outputs[k]) for k in visible}) < 2:
        raise ValueError(f"{spec.name}: the visible tests all have one output")
    rest = [k for k in range(len(pool)) if k not in set(visible)]
    held_out = pick(NUM_HELD_OUT, rest, sets, outputs)
    killed = sum(1 for s in mutants if s & set(visible))
    task = Task(
        spec.name, spec.input_types, program,
        tuple(Test(pool[k], outputs[k]) for k in visible),
        tuple(Test(pool[k], outputs[k]) for k in held_out),
        spec.description,
    )  # fmt: skip
    return task, len(mutants), killed


def same_behaviour(program: Program, task: Task) -> bool:
    """Whether `program` gives `task`'s outputs on all of `task`'s test inputs (visible and held out)."""
    compiled = compile_program(program, task.input_types)
    if isinstance(compiled, EvalError):
        return False
    return all(values_equal(compiled.run(t.inputs), t.output) for t in task.tests + task.held_out_tests)


def clashes(tasks: Sequence[Task]) -> list[tuple[str, str]]:
    """Pairs (a, b) of tasks with one signature where a's program passes all of b's tests."""
    found = []
    for a in tasks:
        for b in tasks:
            if a is not b and a.input_types == b.input_types and same_behaviour(a.program, b):
                found.append((a.name, b.name))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--specs", default="handwritten", choices=SETS,
                        help="the set to build (default: handwritten)")
    parser.add_argument("--out", help="the task file to write (default: benchmarks/tasks/SPECS.jsonl)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the input draws")
    parser.add_argument("--check-only", action="store_true", help="build and report, write nothing")
    args = parser.parse_args(argv)
    module = specs_module(args.specs)
    out = args.out or os.path.join(TASKS_DIR, f"{args.specs}.jsonl")
    own, others = tuple(module.SPECS), tuple(getattr(module, "DISTINCT_FROM", ()))
    names = [s.name for s in own + others]
    if len(set(names)) != len(names):
        print("duplicate names:", sorted({n for n in names if names.count(n) > 1}))
        return 1
    tasks, total, killed = [], 0, 0
    for spec in own:
        task, killable, dead = build(spec, args.seed, own + others)
        tasks.append(task)
        total, killed = total + killable, killed + dead
        if dead < killable:
            print(f"{spec.name}: {killable - dead} of {killable} killable variants survive the visible tests")
    bad = clashes(tasks)
    bad += [(s.name, t.name) for s in others for t in tasks
            if s.input_types == t.input_types and same_behaviour(parse(s.program), t)]  # fmt: skip
    for a, b in bad:
        print(f"clash: {a} passes every test of {b}")
    sizes = [len(t.program) for t in tasks]
    print(
        f"{len(tasks)} tasks; nodes min {min(sizes)} median {statistics.median(sizes)} max {max(sizes)}; "
        f"visible tests kill {killed} of {total} killable one-token variants ({killed / max(total, 1):.1%})"
    )
    if bad:
        return 1
    if not args.check_only:
        save_tasks(tasks, out)
        print(f"wrote {out}")
        if args.specs not in HELD_BACK_SETS:
            return 0
        frozen = load_tasks(FROZEN)
        write_held_back(tasks + frozen, HELD_BACK_FILE)
        print(f"wrote {HELD_BACK_FILE} ({len(tasks)} + {len(frozen)} tasks held back from the generator)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
