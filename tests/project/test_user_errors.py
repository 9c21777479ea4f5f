"""A bad file, checkpoint or option is refused with one clear line naming it: in the environment's
constructor (an exception), and in every command line and example (`error: ...`, exit status 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
from env_tasks import PAIR
from repo_root import ROOT

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)
from progrefine_env.tasks.io import save_tasks

MULTI_LINE_TASK = '{\n  "inputs": {"x": "list"},\n  "program": "x",\n  "tests": []\n}\n'


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"tasks": 123}, TypeError, ["tasks=123", "sequence of Tasks", "not int"]),
        ({"corruption": "high"}, ValueError, ["corruption", "'high'", "[0, 1]"]),
        ({"corruption": (0.2, "x")}, ValueError, ["corruption", "pair"]),
        ({"tasks": "no/such/tasks.jsonl"}, FileNotFoundError, ["no/such/tasks.jsonl", "no such task file"]),
    ],
)
def test_env_constructor_names_the_bad_option(options, error, words):
    with pytest.raises(error) as caught:
        gym.make("ProgramRefine-v0", **{"max_nodes": 32, "max_tests": 4, "tasks": PAIR, **options})
    for word in words:
        assert word in str(caught.value)


def test_env_refuses_an_empty_task_file_naming_it(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("# only a comment\n\n")
    with pytest.raises(ValueError, match=r"empty\.jsonl: no tasks in the file"):
        gym.make("ProgramRefine-v0", tasks=str(empty))


def test_env_says_every_generated_task_is_larger_than_max_nodes(tmp_path, monkeypatch):
    monkeypatch.setenv("PROGREFINE_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match=r"every one of its \d+ tasks has more than max_nodes=3 nodes") as caught:
        gym.make("ProgramRefine-v0", corpus_size=30, max_nodes=3)
    assert "generated corpus split 'train'" in str(caught.value)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=300
    )  # fmt: skip


def assert_one_error_line(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and result.stderr.strip().endswith(errors[0]), result.stderr[-2000:]
    for word in words:
        assert word in errors[0]


@pytest.fixture
def files(tmp_path) -> dict[str, str]:
    paths = {
        "empty": tmp_path / "empty.jsonl", "multi": tmp_path / "multi.jsonl",
        "good": tmp_path / "good.jsonl", "broken": tmp_path / "broken.pt",
    }  # fmt: skip
    paths["empty"].write_text("")
    paths["multi"].write_text(MULTI_LINE_TASK)
    paths["broken"].write_text("not a checkpoint")
    save_tasks(PAIR, paths["good"])
    return {key: str(path) for key, path in paths.items()} | {"missing": str(tmp_path / "missing.jsonl")}


CASES = [
    (["-m", "train.scheduled_sampling", "--tasks", "{empty}"], ["empty.jsonl", "no tasks"]),
    (["-m", "train.scheduled_sampling", "--tasks", "{good}", "--resume", "{broken}"], ["broken.pt"]),
    (["-m", "train.scheduled_sampling", "--tasks", "{missing}"], ["missing.jsonl", "no such file"]),
    (["-m", "train.evaluate", "--tasks", "{empty}"], ["empty.jsonl", "no tasks"]),
    (["-m", "train.evaluate", "--tasks", "{multi}"], ["multi.jsonl:1", "not valid JSON", "one line"]),
    (["examples/random_agent.py", "--tasks", "{missing}"], ["missing.jsonl", "no such task file"]),
    (["examples/random_agent.py", "--tasks", "{multi}"], ["multi.jsonl:1", "one line"]),
    (["examples/maskable_ppo.py", "--tasks", "{empty}"], ["empty.jsonl", "no tasks"]),
]


@pytest.mark.parametrize(("args", "words"), CASES, ids=[" ".join(a[:2] + a[3:]) for a, _ in CASES])
def test_command_lines_refuse_bad_input_in_one_line(files, tmp_path, args, words):
    args = [arg.format(**files) for arg in args]
    if args[0].startswith("examples/"):
        args[0] = str(ROOT / args[0])
    assert_one_error_line(run(args, cwd=tmp_path), *words)
