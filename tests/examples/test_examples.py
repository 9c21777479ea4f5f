"""The example scripts run as a user would run them (a fresh interpreter, tiny settings)."""

from __future__ import annotations

import re

import pytest
from conftest import leaks
from env_tasks import corpus_available
from example_scripts import run_example


@pytest.mark.parametrize("action_mode", ["rewrite", "edit"])
def test_random_agent(task_file, action_mode):
    out = run_example("random_agent.py", "--tasks", task_file, "--episodes", "4", "--action-mode", action_mode)
    assert len(re.findall(r"^episode +\d+ +return [+-]\d\.\d{3}", out, re.M)) == 4
    assert "mean return" in out and re.search(r"^time/sps \d+\.\d ", out, re.M)


@pytest.mark.skipif(not corpus_available(), reason="progrefine_env.tasks.corpus does not exist yet")
def test_random_agent_on_the_default_corpus(tmp_path):
    out = run_example(
        "random_agent.py", "--episodes", "3", "--corpus-size", "200", env={"PROGREFINE_CACHE": str(tmp_path)}
    )
    assert out.count("\nepisode ") + out.startswith("episode ") == 3


@pytest.mark.parametrize("action_mode, policy", [("rewrite", "graph"), ("edit", "graph"), ("edit", "mlp")])
def test_maskable_ppo(task_file, action_mode, policy, tmp_path):
    pytest.importorskip("sb3_contrib")
    out = run_example(
        "maskable_ppo.py", "--tasks", task_file, "--timesteps", "64", "--n-steps", "32", "--max-nodes", "32",
        "--eval-episodes", "2", "--action-mode", action_mode, "--policy", policy,
        "--save", str(tmp_path / "model.zip"), env={"TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert re.search(rf"^trained \d+ steps \({action_mode} mode, {policy} policy\)  time/sps \d+\.\d$", out, re.M)
    assert (tmp_path / "model.zip").is_file()
    assert not list(tmp_path.glob("SB3-*"))  # no logger folder left in the temp directory
    assert re.search(r"^eval: mean return [+-]\d\.\d{3}, solved \d/2$", out, re.M)


def test_maskable_ppo_leaves_nothing_in_the_temp_folder(task_file, tmp_path):
    pytest.importorskip("sb3_contrib")
    temp = tmp_path / "temp"
    temp.mkdir()
    environ = {"SB3_LOGDIR": None, "TMPDIR": str(temp)}  # SB3's defaults, as a user has them
    run_example("maskable_ppo.py", "--tasks", task_file, "--timesteps", "64", "--max-nodes", "32",
                "--eval-episodes", "1", "--n-envs", "1", env=environ)  # fmt: skip
    assert leaks(str(temp)) == []  # torch_geometric's generated modules aside (the graph policy; see conftest)


def test_examples_have_help():
    for name in ("random_agent.py", "maskable_ppo.py"):
        assert "--action-mode" in run_example(name, "--help")
