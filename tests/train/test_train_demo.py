"""The demo prints what it does, the report with its columns explained, and a repair."""

from __future__ import annotations

import os
import subprocess
import sys

from env_tasks import PAIR
from repo_root import ROOT

from train.demo import show_repair


def trace(*passed: int, total: int = 3) -> list[str]:
    return [f"(program {k})   [{p}/{total} tests pass]" for k, p in enumerate(passed)]


def test_show_repair_prefers_one_that_takes_more_than_one_round(capsys):
    one_shot = (0.5, PAIR[0], trace(0, 3, 3))
    two_rounds = (0.75, PAIR[1], trace(0, 1, 3, 3))
    show_repair([one_shot, two_rounds])
    out = capsys.readouterr().out
    assert "repaired round by round; 75% of its nodes masked" in out and str(PAIR[1].program) in out
    assert "round 1: (program 2)" in out and "(program 3)" not in out  # stops at the solving round


def test_show_repair_says_when_no_repair_took_several_rounds(capsys):
    show_repair([(0.5, PAIR[0], trace(0, 3)), (1.0, PAIR[1], trace(0, 1, 2))])
    out = capsys.readouterr().out
    assert "no repair here took more than one round" in out and "round 1: (program 2)" in out


def run_demo(*args: str) -> str:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "train.demo", "--tasks", "3", *args],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_demo_runs_end_to_end_on_a_few_tasks():
    out = run_demo("--fillings", "2000")  # the default decoding: the guided search, one round
    for expected in ("this run: 3 tasks, the guided search, 2,000 fillings a task", "three of them",
                     "columns: corr =", " corr round  tok_acc", "== one program", "target:", "start:",
                     "demo done in"):  # fmt: skip
        assert expected in out, expected
    assert out.count("\n 1.00     0 ") == 1 and "\n 1.00     1 " not in out  # one round at every level


def test_demo_runs_the_earlier_best_of_k_decoding():
    out = run_demo("--strategy", "best_of_k", "--samples", "2")
    for expected in ("this run: 3 tasks, best of 2", "5 rounds each", " corr round  tok_acc", "demo done in"):
        assert expected in out, expected
    assert out.count("\n 1.00     4 ") == 1  # every level's last round
