"""The training and evaluation entry points end to end, on a two-task file."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import pytest
from env_tasks import PAIR
from repo_root import ROOT

from progrefine_env.tasks.io import save_tasks

TASKS = PAIR


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "TMPDIR": tempfile.gettempdir()},
    )  # fmt: skip


@pytest.mark.parametrize("module", ["train.scheduled_sampling", "train.evaluate", "train.demo"])
def test_help_explains_every_option(module):
    result = run(module, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout
    if module == "train.demo":
        return
    parser = __import__(module, fromlist=["build_parser"]).build_parser()
    for action in parser._actions:
        assert action.help and action.help.strip(), action.option_strings


def test_train_resume_and_evaluate(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    save_tasks(TASKS, tasks)
    ckpt = tmp_path / "model.pt"
    common = ["--tasks", str(tasks), "--batch-size", "2", "--hidden", "16", "--layers", "1", "--out", str(ckpt),
              "--logdir", str(tmp_path / "runs"), "--eval-tasks", "0", "--no-progress"]  # fmt: skip
    first = run("train.scheduled_sampling", "--iterations", "2", *common)
    assert first.returncode == 0, first.stderr
    assert "after 2 iterations" in first.stdout and ckpt.exists()
    resumed = run("train.scheduled_sampling", "--iterations", "3", "--resume", str(ckpt), "--overwrite", *common)
    assert resumed.returncode == 0, resumed.stderr
    assert "after 3 iterations" in resumed.stdout

    out_json, out_png, per_task = tmp_path / "report.json", tmp_path / "report.png", tmp_path / "tasks.out.jsonl"
    evaluation = run("train.evaluate", "--checkpoint", str(ckpt), "--tasks", str(tasks), "--corruption", "0.5",
                     "1.0", "--rounds", "2", "--json", str(out_json), "--plot", str(out_png), "--samples", "4",
                     "--baseline", "search", "--per-task", str(per_task), "--no-progress",
                     "--pictures", str(tmp_path / "pictures"))  # fmt: skip
    assert evaluation.returncode == 0, evaluation.stderr
    report = json.loads(out_json.read_text())
    assert [level["corruption"] for level in report["levels"]] == [0.5, 1.0]
    assert all(len(level["rounds"]) == 2 for level in report["levels"])
    assert report["baseline"]["name"] == "search" and "per_task" not in report
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = [json.loads(line) for line in per_task.read_text().splitlines()]
    assert len(lines) == 2 * 2 * len(TASKS)  # two levels, the agent and the search
    assert {line["agent"] for line in lines} == {"policy", "search"}
    for line in lines:
        assert {"task", "corruption", "round_solved", "candidates_run", "held_out_passed", "final_program"} <= set(line)
    pictures = sorted((tmp_path / "pictures").glob("*.png"))  # one per task and level: start + 2 rounds
    assert len(pictures) == 2 * len(TASKS) and f"{len(pictures)} pictures in" in evaluation.stdout
    from matplotlib.image import imread

    assert imread(pictures[0]).shape[:2] == (3 * 300 + 30, 960)


def test_evaluate_refuses_a_bad_checkpoint_naming_it(tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_text("nope")
    result = run("train.evaluate", "--checkpoint", str(bad), "--tasks", str(tmp_path / "none.jsonl"))
    assert result.returncode == 2
    assert "broken.pt" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("flags", "reason"), [(["--strategy", "beam"], "strategy"), (["--temperature", "0"], "temperature")]
)
def test_evaluate_refuses_bad_decoding_flags(flags, reason):
    result = run("train.evaluate", *flags)
    assert result.returncode == 2
    assert reason in result.stderr and "Traceback" not in result.stderr
