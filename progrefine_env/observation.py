"""The observation's schema: each key's space and the arrays that fill it, side by side, and the
`info` values every step has (outcome codes, type errors and masks, as the observation shows them).
A new key: its space in `observation_spaces`, its array in `static_arrays` (fixed for the episode)
or `observation_arrays` (each step), and its row in the manual's table (`ProgramRefineEnv`'s
docstring, Observation Space)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from .feedback import NUM_OUTCOMES, VALUE_FEATURES, Feedback, summarize_many
from .graph import EDGE_TYPES, encode_edges, static_graph
from .lang import ERROR_KINDS, MASK, PAD, Program, masks_to_array, unparse
from .lang.types import NUM_TYPES
from .lang.vocab import INPUT_IDS, INPUT_NAMES
from .tasks.task import Test

OUTCOME_NAMES = ("passed", "wrong", *ERROR_KINDS)
"""Name of each test outcome code (`obs["test_outcome"]`, `info["error_kinds"]`): 0 passed, 1 ran
but gave a wrong value, 2 + k the k-th of `progrefine_env.lang.ERROR_KINDS`."""
NO_TEST = -1
"""`info["error_kinds"]` past the task's last visible test."""


def observation_spaces(n: int, v: int, e: int, t: int) -> dict[str, spaces.Space]:
    """Each key's space: n node slots, v tokens, e edge slots, t test slots (the manual's table)."""
    def ints(high: int, shape: tuple[int, ...], dtype=np.int64) -> spaces.Box:
        return spaces.Box(0, high, shape=shape, dtype=dtype)

    def floats(low: float, shape: tuple[int, ...]) -> spaces.Box:
        return spaces.Box(low, 1.0, shape=shape, dtype=np.float32)

    return {
        "tokens": ints(v - 1, (n,)),
        "prev_tokens": ints(v - 1, (n,)),
        "node_mask": ints(1, (n,), np.int8),
        "masked": ints(1, (n,), np.int8),
        "arity": ints(3, (n,)),
        "depth": ints(n - 1, (n,)),
        "position": ints(2, (n,)),
        "expected_type": ints(2**NUM_TYPES - 1, (n,)),
        "type_conflict": ints(1, (n,), np.int8),
        "edge_index": ints(n - 1, (2, e)),
        "edge_type": ints(len(EDGE_TYPES) - 1, (e,)),
        "edge_mask": ints(1, (e,), np.int8),
        "test_mask": ints(1, (t,), np.int8),
        "test_outcome": ints(NUM_OUTCOMES - 1, (t,)),
        "node_failure": floats(0.0, (n,)),
        "node_suspicion": floats(0.0, (n,)),
        "node_values": floats(-1.0, (n, t, VALUE_FEATURES)),
        "expected_output": floats(-1.0, (t, VALUE_FEATURES)),
        "test_inputs": floats(-1.0, (t, len(INPUT_NAMES), VALUE_FEATURES)),
        "grammar_mask": ints(1, (n, v), np.int8),
    }


def static_arrays(program: Program, tests: tuple[Test, ...], max_nodes: int, max_tests: int) -> dict[str, np.ndarray]:
    """Arrays fixed for the episode: shape features, real-node and real-test masks, targets."""
    n, static = len(program), static_graph(program.arities)
    arrays = {}
    for key, values in (("arity", static.arity), ("depth", static.depth), ("position", static.position)):
        arrays[key] = np.zeros(max_nodes, dtype=np.int64)
        arrays[key][:n] = values
    arrays["node_mask"] = np.zeros(max_nodes, dtype=np.int8)
    arrays["node_mask"][:n] = 1
    arrays["test_mask"] = np.zeros(max_tests, dtype=np.int8)
    arrays["test_mask"][: len(tests)] = 1
    # Every test's output and inputs summarised in one `summarize_many` call: rows 0..T-1 the
    # outputs, then the T x 3 inputs (None where the test has no such input).
    values = [test.output for test in tests] + [test.inputs.get(name) for test in tests for name in INPUT_NAMES]
    expected = [test.output for test in tests] + [test.output for test in tests for _ in INPUT_NAMES]
    rows = summarize_many(values, expected)
    t = len(tests)
    arrays["expected_output"] = np.zeros((max_tests, VALUE_FEATURES), dtype=np.float32)
    arrays["expected_output"][:t] = rows[:t]
    arrays["test_inputs"] = np.zeros((max_tests, len(INPUT_NAMES), VALUE_FEATURES), dtype=np.float32)
    arrays["test_inputs"][:t] = rows[t:].reshape(t, len(INPUT_NAMES), VALUE_FEATURES)
    return arrays


def input_leaves(
    input_types: dict[str, str], num_tests: int, test_inputs: np.ndarray
) -> dict[tuple[int, ...], np.ndarray]:
    """run_tests' memo for an episode, holding already the one-node subtrees `x`, `y`, `z`:
    their summaries on each test are the observation's `test_inputs` (`static_arrays`)."""
    return {
        (INPUT_IDS[i],): test_inputs[None, :num_tests, i] for i, name in enumerate(INPUT_NAMES) if name in input_types
    }


def program_arrays(program: Program, feedback: Feedback, max_nodes: int) -> dict[str, np.ndarray]:
    """The program's padded arrays that the observation, `info` and the action masks share:
    `tokens` [N], `grammar` int8 [N, V] (padded slots: only `<pad>`) and `type_conflict` int8 [N]."""
    n = len(program)
    tokens = np.zeros(max_nodes, dtype=np.int64)
    tokens[:n] = program.tokens
    # Padded slots allow only `<pad>`: one bit-set row each, then all rows unpacked at once.
    grammar = masks_to_array(feedback.info.masks + (1 << PAD,) * (max_nodes - n)).view(np.int8)
    conflict = np.zeros(max_nodes, dtype=np.int8)
    conflict[feedback.conflicts] = 1
    return {"tokens": tokens, "grammar": grammar, "type_conflict": conflict}


def observation_arrays(
    program: Program,
    feedback: Feedback,
    num_tests: int,
    static: dict[str, np.ndarray],
    arrays: dict[str, np.ndarray],
    prev_tokens: np.ndarray,
    *,
    max_nodes: int,
    max_tests: int,
    max_edges: int,
) -> dict[str, np.ndarray]:
    """The observation, fresh arrays every step: `static` (`static_arrays`) and `arrays`
    (`program_arrays`) copied, the rest filled from the program and its test feedback."""
    n, t = len(program), num_tests
    obs = {key: value.copy() for key, value in static.items()}
    obs["tokens"], obs["prev_tokens"] = arrays["tokens"].copy(), prev_tokens.copy()
    obs["masked"] = (arrays["tokens"] == MASK).astype(np.int8)
    obs["expected_type"] = np.zeros(max_nodes, dtype=np.int64)
    obs["expected_type"][:n] = feedback.info.expected
    obs["type_conflict"] = arrays["type_conflict"].copy()
    obs["edge_index"], obs["edge_type"], obs["edge_mask"] = encode_edges(program, max_edges)
    obs["test_outcome"] = np.zeros(max_tests, dtype=np.int64)
    obs["test_outcome"][:t] = feedback.outcomes
    for key, values in (("node_failure", feedback.failure_share), ("node_suspicion", feedback.ochiai)):
        obs[key] = np.zeros(max_nodes, dtype=np.float32)
        obs[key][:n] = values
    obs["node_values"] = np.zeros((max_nodes, max_tests, VALUE_FEATURES), dtype=np.float32)
    obs["node_values"][:n, :t] = feedback.node_values
    obs["grammar_mask"] = arrays["grammar"].copy()
    return obs


def step_info(
    program: Program, feedback: Feedback, num_tests: int, max_tests: int, arrays: dict[str, np.ndarray],
    changed: list[int], invalid: int,
) -> dict[str, Any]:  # fmt: skip
    """`info`'s values on every step (the manual's Info table; the privileged ones: `ProgramRefineEnv`):
    `arrays`: `program_arrays` with the action mask; `changed`, `invalid`: the last step's."""
    return {
        "tests_passed": feedback.num_passed,
        "num_tests": num_tests,
        "error_kinds": error_kinds(feedback, num_tests, max_tests),
        "program": unparse(program),
        "nodes_changed": len(changed),
        "invalid_edits": invalid,
        "type_errors": arrays["type_conflict"].copy(),  # 1 where the token lies outside its grammar mask
        "action_mask": arrays["action_mask"].copy(),
    }


def error_kinds(feedback: Feedback, num_tests: int, max_tests: int) -> np.ndarray:
    """int8 [max_tests]: each visible test's outcome code, -1 past the last test."""
    codes = np.full(max_tests, NO_TEST, dtype=np.int8)
    codes[:num_tests] = feedback.outcomes
    return codes
