"""Scoring candidate programs on the episode's visible tests, without changing the episode: what
`ProgramRefineEnv.run_visible_tests` answers (the manual's "Scoring candidates")."""

from __future__ import annotations

import numpy as np

from .feedback import Feedback
from .lang import ARITY, MASK, PAD, VOCAB_SIZE, EvalError, Program, compile_program, values_equal
from .tasks.task import Task


def visible_scores(
    candidates,
    max_nodes: int,
    program: Program,
    task: Task,
    feedback_cache: dict[tuple[int, ...], Feedback],
    visible_cache: dict[tuple[int, ...], int],
) -> np.ndarray:
    """Visible tests passed by each candidate (`run_visible_tests`), checked for shape and dtype.
    `program`: the episode's current one (its arities); the caches: the episode's."""
    array = np.asarray(candidates)
    if array.ndim not in (1, 2) or array.shape[-1] != max_nodes or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"candidates must be integer arrays of shape [K, {max_nodes}], got {array.shape}")
    n = len(program)
    scores = [
        visible_score(tuple(row), program.arities, task, feedback_cache, visible_cache)
        for row in array.reshape(-1, max_nodes)[:, :n].tolist()
    ]
    return np.asarray(scores, dtype=np.int64).reshape(array.shape[:-1])


def visible_score(
    tokens: tuple[int, ...],
    arities: tuple[int, ...],
    task: Task,
    feedback_cache: dict[tuple[int, ...], Feedback],
    visible_cache: dict[tuple[int, ...], int],
) -> int:
    """Visible tests one candidate passes (-1: it cannot run); remembered in `visible_cache`."""
    score = visible_cache.get(tokens)
    if score is not None:
        return score
    feedback = feedback_cache.get(tokens)
    if any(not 0 <= t < VOCAB_SIZE or t in (PAD, MASK) or ARITY[t] != a
           for t, a in zip(tokens, arities)):  # fmt: skip
        score = -1
    elif feedback is not None and feedback.info.well_typed:
        score = feedback.num_passed
    else:
        compiled = compile_program(Program(tokens, arities), task.input_types)
        if isinstance(compiled, EvalError):
            score = -1
        else:
            score = sum(values_equal(compiled.run(t.inputs), t.output) for t in task.tests)
    visible_cache[tokens] = score
    return score
