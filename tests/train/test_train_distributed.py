"""Data-parallel training: one process is unchanged; under torchrun, two processes train together."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch

from train.distributed import RANK_SEED_STRIDE, Distributed, setup


def test_a_single_process_is_left_as_it_is(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    single = setup()
    assert not single.enabled and single.is_main and single.seed(5) == 5
    model = torch.nn.Linear(2, 2)
    assert single.wrap(model, torch.device("cpu")) is model
    assert single.mean(3.5) == 3.5
    assert single.device("cpu") == torch.device("cpu")


def test_ranks_draw_different_episodes_from_the_same_seed():
    ranks = [Distributed(rank, 3) for rank in range(3)]
    assert [r.seed(1) for r in ranks] == [1, 1 + RANK_SEED_STRIDE, 1 + 2 * RANK_SEED_STRIDE]
    assert [r.is_main for r in ranks] == [True, False, False]


@pytest.mark.slow
@pytest.mark.parametrize("trainer", ["dagger", "scheduled_sampling"])
def test_torchrun_trains_with_two_processes(tmp_path, trainer):
    from env_tasks import PAIR

    from agents.nn.checkpoint import load_checkpoint
    from progrefine_env.tasks.io import save_tasks

    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    if torchrun is None:
        pytest.skip("torchrun is not installed beside this Python")
    save_tasks(PAIR, tmp_path / "tasks.jsonl")
    size = ["--num-envs", "2"] if trainer == "dagger" else ["--batch-size", "2"]
    command = [torchrun, "--standalone", "--nproc_per_node", "2", "-m", f"train.{trainer}", "--iterations", "2",
               "--tasks", str(tmp_path / "tasks.jsonl"), "--hidden", "16", "--layers", "1", "--eval-tasks", "0",
               "--no-progress", "--runs-dir", str(tmp_path / "runs"), "--name", "ddp", *size]  # fmt: skip
    (tmp_path / "tmp").mkdir()  # torchrun's own temp files (torchelastic_*) go there, not in the session's
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path / "tmp")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=os.getcwd())
    assert done.returncode == 0, done.stderr[-2000:]
    _, payload = load_checkpoint(tmp_path / "runs" / trainer / "ddp" / "checkpoint.pt")
    assert payload["trainer"]["iteration"] == 2
