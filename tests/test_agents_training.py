"""Scheduled sampling learns, resumes exactly, and the refinement report counts what the tests say."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")
from env_tasks import PAIR  # noqa: E402

from agents import ModelConfig, RefineNet  # noqa: E402
from agents.checkpoint import CheckpointError, load_checkpoint, save_checkpoint  # noqa: E402
from agents.collector import make_vector_env  # noqa: E402
from agents.refine import refine_level, refinement_report  # noqa: E402
from agents.rollout import EnvBatch  # noqa: E402
from agents.scheduled_sampling import ScheduledSamplingConfig, ScheduledSamplingTrainer  # noqa: E402
from progrefine_env.tasks.io import save_tasks  # noqa: E402
from progrefine_env.tasks.task import passes  # noqa: E402

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


def test_report_shape_and_pass_counts_agree_with_the_tests(tmp_path):
    torch.manual_seed(0)
    model = RefineNet(SMALL)
    report = refinement_report(model, TASKS, levels=(0.5, 1.0), rounds=3)
    assert [level["corruption"] for level in report["levels"]] == [0.5, 1.0]
    for level in report["levels"]:
        assert [s["round"] for s in level["rounds"]] == [0, 1, 2]
        for s in level["rounds"]:
            for key in ("token_accuracy", "confidence", "pass_visible", "pass_held_out", "exact"):
                assert 0.0 <= s[key] <= 1.0
            assert s["pass_held_out"] <= s["pass_visible"]
        passes_by_round = [s["pass_visible"] for s in level["rounds"]]
        assert passes_by_round == sorted(passes_by_round)  # cumulative
    json.dumps(report)  # serialisable as the CLI writes it

    # Pass counts equal running the tests on the programs the loop ends with.
    envs_programs: list = []
    stats = refine_level(model, TASKS, level=1.0, rounds=2, trace=envs_programs)
    batch = EnvBatch(TASKS, 2, corruption=1.0, max_steps=2)
    from agents.refine import _refine_chunk, _Tally

    tally = _Tally(2)
    _refine_chunk(model, batch, TASKS, [0, 1], 2, 0, "cpu", tally, None)
    solved = [all(passes(env.program, env.task.input_types, env.task.tests)) for env in batch.envs]
    assert tally.stats()[-1].pass_visible == pytest.approx(sum(solved) / 2)
    assert stats[-1].pass_visible == pytest.approx(sum(solved) / 2)


def test_expert_policy_scores_perfectly_in_the_report():
    """A 'model' that always predicts the target solves everything at round 0."""

    class Oracle(RefineNet):
        def forward(self, obs, extra_allowed=None):
            out = super().forward(obs)
            logits = torch.full_like(out.logits, -10.0)
            logits.scatter_(-1, self.targets.unsqueeze(-1), 10.0)
            return out._replace(logits=logits.masked_fill(~obs["grammar_mask"].bool(), float("-inf")))

    oracle = Oracle(SMALL)
    batch = EnvBatch(TASKS, 2, corruption=0.5)
    batch.reset([0, 1], [{"task_index": 0}, {"task_index": 1}])
    oracle.targets = torch.as_tensor(batch.targets())
    stats = refine_level(oracle, TASKS, level=0.5, rounds=2, batch_size=2)
    assert stats[0].pass_visible == 1.0 and stats[0].exact == 1.0 and stats[0].token_accuracy == 1.0
    assert stats[0].pass_held_out == 1.0


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


def test_decoding_settings_are_checked():
    from agents.strategies import Decoding

    for bad in ({"strategy": "beam"}, {"samples": 0}, {"temperature": 0.0}):
        with pytest.raises(ValueError):
            Decoding(**bad)


def test_best_of_k_picks_the_candidate_passing_most_visible_tests():
    from agents.strategies import _best_candidate
    from progrefine_env.env import ProgramRefineEnv

    env = ProgramRefineEnv(tasks=TASKS[:1], corruption=0.5, max_nodes=16)
    env.reset(seed=0)
    target = env.target_tokens
    wrong = target.copy()
    wrong[env.corrupted_nodes] = env.program.tokens[env.corrupted_nodes[0]]  # <mask>: cannot pass
    candidates = np.stack([wrong, target])
    scores = torch.tensor([[0.0] * 16, [-5.0] * 16])  # the wrong one is far more likely
    assert np.array_equal(_best_candidate(env, candidates, scores), target)
    # Ties (neither passes anything) go to the first (argmax) candidate.
    assert np.array_equal(_best_candidate(env, np.stack([wrong, wrong]), scores), wrong)


def test_reset_tasks_gives_each_task_its_own_seed_whatever_the_batch():
    envs = EnvBatch(TASKS, 3, corruption=0.5, max_nodes=16)
    envs.reset_tasks([0, 1])
    assert [env.task.name for env in envs.envs] == [TASKS[0].name, TASKS[1].name, TASKS[0].name]
    alone = EnvBatch(TASKS, 1, corruption=0.5, max_nodes=16)
    alone.reset_tasks([1])  # task 1 first in its batch this time
    assert alone.envs[0].program.tokens == envs.envs[1].program.tokens
    with pytest.raises(ValueError, match="task indices"):
        envs.reset_tasks([0, 1, 0, 1])
