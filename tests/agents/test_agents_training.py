"""Scheduled sampling learns and resumes exactly; checkpoints are validated."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")
from env_tasks import PAIR  # noqa: E402

from agents import ModelConfig, RefineNet  # noqa: E402
from agents.acting.collector import make_vector_env  # noqa: E402
from agents.nn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint  # noqa: E402
from agents.training.scheduled_sampling import ScheduledSamplingConfig, ScheduledSamplingTrainer  # noqa: E402
from progrefine_env.tasks.io import save_tasks  # noqa: E402

TASKS = PAIR
SMALL = ModelConfig(hidden=32, layers=2)


def make_trainer(config: ScheduledSamplingConfig) -> ScheduledSamplingTrainer:
    torch.manual_seed(config.seed)
    envs = make_vector_env(
        config.batch_size, tasks=TASKS, corruption=(config.corruption_low, config.corruption_high), max_nodes=16,
        max_steps=config.rounds, expert_labels=True,
    )  # fmt: skip
    return ScheduledSamplingTrainer(RefineNet(SMALL), envs, config)


def test_tiny_training_run_lowers_the_loss():
    trainer = make_trainer(ScheduledSamplingConfig(iterations=30, batch_size=8, lr=3e-3))
    losses = [trainer.run_iteration()["train/loss"] for _ in range(30)]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


@pytest.mark.parametrize("trajectories", ["model", "random"])
def test_resume_gives_the_same_next_loss(tmp_path, trajectories):
    config = ScheduledSamplingConfig(iterations=6, batch_size=4, trajectories=trajectories, ramp_fraction=0.3)
    straight = make_trainer(config)
    for _ in range(3):
        straight.run_iteration()
    save_checkpoint(tmp_path / "ckpt.pt", straight.model, trainer=straight.state_dict())
    expected = [straight.run_iteration()["train/loss"] for _ in range(2)]

    model, payload = load_checkpoint(tmp_path / "ckpt.pt")
    resumed = make_trainer(config)
    resumed.model.load_state_dict(model.state_dict())
    resumed.load_state_dict(payload["trainer"])
    assert resumed.iteration == 3
    assert [resumed.run_iteration()["train/loss"] for _ in range(2)] == pytest.approx(expected, rel=1e-6)


def test_corrupt_checkpoint_is_refused_with_file_and_reason(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    save_tasks(TASKS, tmp_path / "tasks.jsonl")  # a file that is not a checkpoint at all
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "tasks.jsonl")


def test_a_checkpoint_of_another_format_version_is_refused_with_the_versions(tmp_path):
    path = tmp_path / "old.pt"
    save_checkpoint(path, RefineNet(SMALL))
    payload = torch.load(path, weights_only=True)
    torch.save({**payload, "format_version": 1}, path)
    with pytest.raises(CheckpointError, match="old.pt: checkpoint format version 1, this code reads 2"):
        load_checkpoint(path)
