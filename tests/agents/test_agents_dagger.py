"""DAgger: the bounded aggregate, learning, exact resume, relabelling, and its command line."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")
from env_tasks import PAIR  # noqa: E402

from agents import ModelConfig, RefineNet  # noqa: E402
from agents.acting.collector import make_vector_env  # noqa: E402
from agents.training.dagger import DaggerConfig, DaggerTrainer, relabel_with_solutions  # noqa: E402
from agents.training.dataset import AggregateDataset  # noqa: E402

SMALL = ModelConfig(hidden=32, layers=2)


def numbered(start: int, count: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    ids = np.arange(start, start + count)
    return {"id": ids.copy(), "pair": np.stack([ids, -ids], 1)}, ids * 10


def test_aggregate_keeps_everything_until_full_then_evicts_the_oldest():
    data = AggregateDataset(5, "oldest")
    rng = np.random.default_rng(0)
    data.add(*numbered(0, 3), rng)
    assert len(data) == 3
    data.add(*numbered(3, 4), rng)  # 7 added, capacity 5: 0 and 1 are gone
    assert len(data) == 5 and sorted(data.observations["id"]) == [2, 3, 4, 5, 6]
    data.add(*numbered(7, 2), rng)
    assert sorted(data.observations["id"]) == [4, 5, 6, 7, 8]
    obs, labels = data.batch(np.arange(5))
    assert np.array_equal(labels, obs["id"] * 10) and np.array_equal(obs["pair"][:, 1], -obs["id"])
    data.add(*numbered(100, 12), rng)  # more than the capacity at once: the last five stay
    assert sorted(data.observations["id"]) == [107, 108, 109, 110, 111]


def test_random_eviction_keeps_the_new_states_and_stays_at_capacity():
    data = AggregateDataset(8, "random")
    rng = np.random.default_rng(0)
    data.add(*numbered(0, 8), rng)
    data.add(*numbered(8, 3), rng)
    ids = data.observations["id"]
    assert len(data) == 8 and len(set(ids)) == 8 and {8, 9, 10} <= set(ids)
    with pytest.raises(ValueError):
        AggregateDataset(0)
    with pytest.raises(ValueError):
        AggregateDataset(4, "lifo")


def test_aggregate_saves_and_loads_exactly(tmp_path):
    data = AggregateDataset(6, "oldest")
    data.add(*numbered(0, 9), np.random.default_rng(0))
    data.save(tmp_path / "d.npz")
    loaded = AggregateDataset.load(tmp_path / "d.npz", "oldest")
    assert (len(loaded), loaded.added, loaded.capacity) == (6, 6, 6)  # only the last 6 of 9 were written
    assert np.array_equal(loaded.observations["id"], data.observations["id"])
    rng = np.random.default_rng(1)
    data.add(*numbered(20, 2), rng)
    loaded.add(*numbered(20, 2), rng)
    assert np.array_equal(loaded.observations["id"], data.observations["id"])


def make_trainer(config: DaggerConfig) -> DaggerTrainer:
    torch.manual_seed(config.seed)
    envs = make_vector_env(config.num_envs, tasks=PAIR, max_nodes=16, **config.env_kwargs())
    return DaggerTrainer(RefineNet(SMALL), envs, config)


@pytest.mark.parametrize("mode", ["rewrite", "edit"])
def test_tiny_dagger_run_lowers_its_loss(mode):
    steps = 5 if mode == "rewrite" else 6
    config = DaggerConfig(iterations=20, num_envs=6, rollout_steps=steps, action_mode=mode, lr=3e-3, beta_decay=0.85,
                          capacity=256, gradient_steps=4, minibatch=32)  # fmt: skip
    trainer = make_trainer(config)
    metrics = [trainer.run_iteration() for _ in range(20)]
    losses = [m["train/loss"] for m in metrics]
    assert np.mean(losses[-4:]) < 0.6 * np.mean(losses[:4])
    assert metrics[0]["train/beta"] == 1.0 and metrics[-1]["train/beta"] < 0.1
    assert len(trainer.dataset) == min(256, 20 * 6 * steps)


def test_resume_gives_the_same_next_loss(tmp_path):
    config = DaggerConfig(iterations=6, num_envs=4, beta_decay=0.5, capacity=64, gradient_steps=2, minibatch=8)
    straight = make_trainer(config)
    for _ in range(3):
        straight.run_iteration()
    # Deep copies: the optimizer's state dict holds its live tensors, which the next steps update.
    state, weights = copy.deepcopy(straight.state_dict()), copy.deepcopy(straight.model.state_dict())
    straight.dataset.save(tmp_path / "d.npz")
    expected = [straight.run_iteration()["train/loss"] for _ in range(2)]

    resumed = make_trainer(config)
    resumed.model.load_state_dict(weights)
    resumed.load_state_dict(state)
    resumed.dataset = AggregateDataset.load(tmp_path / "d.npz", config.eviction)
    assert [resumed.run_iteration()["train/loss"] for _ in range(2)] == pytest.approx(expected, rel=1e-6)


def test_relabelling_uses_the_program_an_episode_ended_with():
    from agents.acting.buffers import EpisodeStats, Rollout

    labels = np.zeros((3, 2, 4), dtype=np.int64)
    episodes = EpisodeStats(
        returns=np.ones(2, np.float32), lengths=np.array([2, 1]), solved=np.array([True, True]),
        held_out_passed=np.array([3, 1]), num_held_out=np.array([3, 2]),
        final_tokens=np.array([[7, 7, 7, 0], [9, 9, 9, 0]]), env_index=np.array([1, 0]), end_step=np.array([2, 0]),
    )  # fmt: skip
    rollout = Rollout(*([None] * 10), episodes)
    assert relabel_with_solutions(labels, rollout) == 1  # the second fails a held-out test
    assert (labels[1:, 1] == [7, 7, 7, 0]).all() and (labels[0] == 0).all() and (labels[:, 0] == 0).all()


def test_config_is_checked():
    for bad in ({"action_mode": "swap"}, {"eviction": "x"}, {"beta0": 1.5}, {"num_envs": 0},
                {"relabel_solved": True, "action_mode": "edit"}):  # fmt: skip
        with pytest.raises(ValueError):
            DaggerConfig(**bad)


def test_cli_trains_resumes_and_explains_its_options(tmp_path, capsys):
    from progrefine_env.tasks.io import save_tasks
    from train.dagger import build_parser, main

    help_text = build_parser().format_help()
    for flag in ("--beta0", "--beta-decay", "--capacity", "--eviction", "--action-mode", "--relabel-solved",
                 "--corruption-mode", "--init", "--resume", "--overwrite"):  # fmt: skip
        assert flag in help_text
    save_tasks(PAIR, tmp_path / "tasks.jsonl")
    common = ["--tasks", str(tmp_path / "tasks.jsonl"), "--num-envs", "2", "--hidden", "16", "--layers", "1",
              "--capacity", "32", "--eval-tasks", "0", "--no-progress"]  # fmt: skip
    common += ["--runs-dir", str(tmp_path / "runs")]
    assert main(["--iterations", "2", "--name", "a", *common]) == 0
    checkpoint = tmp_path / "runs" / "dagger" / "a" / "checkpoint.pt"
    assert checkpoint.exists() and (checkpoint.parent / "checkpoint.dataset.npz").exists()
    assert main(["--iterations", "3", "--resume", str(checkpoint), "--name", "b", *common]) == 0
    assert "after 3 iterations" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:  # the checkpoint exists: refused
        main(["--iterations", "1", "--name", "a", *common])
    assert refused.value.code == 2 and "--overwrite" in capsys.readouterr().err
