"""Shared helpers for the tests: small hand-written task lists (so that the environment and agent
tests do not depend on the generated corpus) and random masked actions.

Not a test module (no `test_` prefix); imported by name, pytest puts this folder on sys.path.
"""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import numpy as np

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)
from progrefine_env.env import ProgramRefineEnv
from progrefine_env.tasks.io import task_from_json

L, LI = {"x": "list"}, {"x": "list", "y": "int"}

RECORDS = [
    {
        "name": "double-positives",
        "inputs": L,
        "program": "(map (lam (* a 2)) (filter (lam (> a 0)) x))",
        "tests": [
            {"input": {"x": [3, -1, 2]}, "output": [6, 4]},
            {"input": {"x": []}, "output": []},
            {"input": {"x": [1, 2, 3, 4, 5, 6, 7]}, "output": [2, 4, 6, 8, 10, 12, 14]},
        ],
        "held_out_tests": [{"input": {"x": [5, -5]}, "output": [10]}],
    },
    {
        "name": "take-or-reverse",
        "inputs": LI,
        "program": "(if (> (len x) y) (take y x) (reverse (map (lam (+ a y)) (filter (lam (> (% a 3) 1)) x))))",
        "tests": [
            {"input": {"x": [1, 2, 3], "y": 2}, "output": [1, 2]},
            {"input": {"x": [1, 2, 5, 8], "y": 5}, "output": [13, 10, 7]},
        ],
        "held_out_tests": [{"input": {"x": [], "y": 0}, "output": []}],
    },
    {
        "name": "sum-of-squares",
        "inputs": L,
        "program": "(fold (lam2 (+ a (* b b))) 0 (filter (lam (and (> a 0) (< a 10))) (map (lam (- a 1)) x)))",
        "tests": [
            {"input": {"x": [1, 2, 3, 11]}, "output": 5},
            {"input": {"x": [5, 20]}, "output": 16},
            {"input": {"x": []}, "output": 0},
            {"input": {"x": [-3, 4, 4]}, "output": 18},
        ],
    },
    {
        "name": "zip-scan",
        "inputs": {"x": "list", "y": "int", "z": "int"},
        "program": "(zipwith (lam2 (max a b)) (scanl1 (lam2 (+ a b)) x) (cons z (range y)))",
        "tests": [
            {"input": {"x": [1, 2, 3], "y": 3, "z": 5}, "output": [5, 3, 6]},
            {"input": {"x": [4], "y": 0, "z": 1}, "output": [4]},
        ],
    },
    {
        "name": "any-even",
        "inputs": L,
        "program": "(> (count (lam (= (% a 2) 0)) x) 0)",
        "tests": [
            {"input": {"x": [1, 3, 4]}, "output": True},
            {"input": {"x": [1, 3]}, "output": False},
            {"input": {"x": []}, "output": False},
        ],
        "held_out_tests": [{"input": {"x": [2]}, "output": True}],
    },
    {
        "name": "identity",
        "inputs": L,
        "program": "x",
        "tests": [{"input": {"x": [1, 2]}, "output": [1, 2]}],
    },
]

TASKS = [task_from_json(record) for record in RECORDS]
MAX_NODES, MAX_TESTS = 32, 4
"""Small arrays keep the tests fast; every task above fits."""


def make_env(tasks=None, **options) -> ProgramRefineEnv:
    """The raw environment on the hand-written tasks (small arrays unless overridden)."""
    options.setdefault("max_nodes", MAX_NODES)
    options.setdefault("max_tests", MAX_TESTS)
    return ProgramRefineEnv(tasks=TASKS if tasks is None else tasks, **options)


def make(tasks=None, **options) -> gym.Env:
    """The same through `gym.make` (with Gymnasium's checker and order-enforcing wrappers)."""
    options.setdefault("max_nodes", MAX_NODES)
    options.setdefault("max_tests", MAX_TESTS)
    return gym.make("ProgramRefine-v0", tasks=TASKS if tasks is None else tasks, **options)


def masked_action(mask: np.ndarray, action_mode: str, max_nodes: int, rng: np.random.Generator):
    """A uniformly random action among those `mask` (as `env.action_masks()` gives it) allows."""
    if action_mode == "edit":
        allowed = np.flatnonzero(mask)
        return int(allowed[rng.integers(len(allowed))])
    rows = np.asarray(mask, dtype=bool).reshape(max_nodes, -1)
    keys = np.where(rows, rng.random(rows.shape) + 1e-9, -1.0)
    return keys.argmax(axis=1).astype(np.int64)


def rewrite_action(tokens, max_nodes: int) -> np.ndarray:
    """A `rewrite` action that sets the program's tokens to `tokens` (padded slots: `<pad>`)."""
    action = np.zeros(max_nodes, dtype=np.int64)
    action[: len(tokens)] = tokens
    return action


def corpus_available() -> bool:
    return importlib.util.find_spec("progrefine_env.tasks.corpus") is not None


def assert_same(a, b, where: str = "") -> None:
    """Exact equality of observations / infos (dicts of arrays, lists, scalars)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{k}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b), where
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


# Two tasks of different signatures and output types, with held-out tests: the agent and
# command-line tests train and refine on these.
PAIR = [
    task_from_json(
        {
            "name": "double-positives",
            "inputs": L,
            "program": "(map (lam (* a 2)) (filter (lam (> a 0)) x))",
            "tests": [{"input": {"x": [3, -1, 2]}, "output": [6, 4]}, {"input": {"x": [1]}, "output": [2]}],
            "held_out_tests": [{"input": {"x": [5]}, "output": [10]}],
        }
    ),
    task_from_json(
        {
            "name": "sum-plus",
            "inputs": LI,
            "program": "(fold (lam2 (+ a b)) y x)",
            "tests": [{"input": {"x": [1, 2], "y": 3}, "output": 6}, {"input": {"x": [], "y": 1}, "output": 1}],
            "held_out_tests": [{"input": {"x": [4], "y": 0}, "output": 4}],
        }
    ),
]
