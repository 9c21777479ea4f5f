"""`lang.incremental.recheck` (re-typing only what an edit can change) against the full `check`.

The full check is the slow, straightforward path; the environment uses `recheck` on every step,
so any difference between the two would change observations and grammar masks.
"""

import numpy as np
import pytest
from repo_root import ROOT

from progrefine_env.lang import MASK, TOKENS_BY_ARITY, check, parse
from progrefine_env.lang.incremental import recheck
from progrefine_env.tasks.io import load_tasks

TASK_FILE = ROOT / "benchmarks" / "tasks" / "generated_test_200.jsonl"


def random_edits(program, count: int, rng: np.random.Generator) -> dict[int, int]:
    """`count` random edits (a token of the node's arity, or `<mask>`): ill-typed results included."""
    edits = {}
    for _ in range(count):
        node = int(rng.integers(len(program)))
        edits[node] = int(rng.choice((*TOKENS_BY_ARITY[program.arities[node]], MASK)))
    return edits


def assert_same_info(got, want, where: str) -> None:
    assert (got.syn, got.expected, got.masks) == (want.syn, want.expected, want.masks), where
    assert got.passes == want.passes, where


@pytest.mark.parametrize("seed", [0, 1])
def test_recheck_equals_a_full_check_along_random_edit_walks(seed):
    """Walks of single and multiple edits (holes, ill-typed programs, `_relax`ed masks), each
    step re-typed from the previous step's result, never from a full check."""
    tasks = load_tasks(TASK_FILE)[seed * 60 : seed * 60 + 60]
    rng = np.random.default_rng(seed)
    relaxed = 0
    for task in tasks:
        program = task.program
        info = check(program, task.input_types)
        for step in range(40):
            count = int(rng.choice([1, 1, 1, 2, 3, len(program)]))
            program = program.replace(random_edits(program, count, rng))
            info, want = recheck(info, program), check(program, task.input_types)
            assert_same_info(info, want, f"{task.name} step {step}")
            relaxed += info.passes.exact != info.masks
    assert relaxed > 50  # the walks did reach programs whose masks needed the fallback


def test_recheck_of_the_same_program_and_of_a_reverted_edit():
    program = parse("(map (lam (* a 2)) (filter (lam (> a 0)) x))")
    info = check(program, {"x": "list"})
    assert recheck(info, program) is info
    edited = program.replace({4: MASK, 7: MASK})
    back = recheck(recheck(info, edited), program)
    assert_same_info(back, info, "reverted")


def test_recheck_refuses_another_shape_or_a_foreign_info():
    program = parse("(map (lam (* a 2)) x)")
    info = check(program, {"x": "list"})
    with pytest.raises(ValueError, match="same shape"):
        recheck(info, parse("(len x)"))
    bare = type(info)(info.syn, info.expected, info.masks)  # without the checker's passes
    with pytest.raises(ValueError, match="same shape"):
        recheck(bare, program)
