"""PPO and REINFORCE: the losses on hand-made batches, GAE against a hand computation, the
trainer's exact resume and a tiny run that learns, and the command lines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from env_tasks import TASKS

from agents.acting.collector import RolloutCollector, make_vector_env
from agents.acting.policy import GraphPolicy
from agents.nn.checkpoint import load_checkpoint, save_checkpoint
from agents.nn.distribution import MaskedFlatCategorical, MaskedNodeCategorical
from agents.nn.network import ModelConfig, RefineNet
from agents.training.advantages import compute_gae
from agents.training.losses import approx_kl, distribution_kl, ppo_clip_loss, reinforce_loss
from agents.training.policy_gradient import PolicyGradientConfig, PolicyGradientTrainer
from progrefine_env.tasks.io import save_tasks, task_from_json

TINY = ModelConfig(hidden=16, layers=1)


def test_ppo_clip_loss_on_a_hand_made_batch():
    ratios = torch.tensor([1.1, 1.5, 0.5, 0.9, 1.5])
    advantages = torch.tensor([1.0, 1.0, -1.0, -1.0, -1.0])
    log_prob = ratios.log().requires_grad_(True)
    loss, clip_fraction = ppo_clip_loss(log_prob, torch.zeros(5), advantages, clip_range=0.2)
    # per sample min(r A, clip(r) A): inactive 1.1; clipped 1.2 and -0.8; inactive -0.9; and a ratio
    # outside the range whose unclipped term is the smaller one (-1.5), which keeps its gradient.
    assert loss.item() == pytest.approx(-(1.1 + 1.2 - 0.8 - 0.9 - 1.5) / 5)
    assert clip_fraction.item() == pytest.approx(3 / 5)
    loss.backward()
    expected = -advantages * ratios / 5  # d(-r A / 5) / d log r
    expected[1] = expected[2] = 0.0  # the clipped terms pass no gradient
    assert torch.allclose(log_prob.grad, expected)


def test_ppo_loss_is_the_policy_gradient_when_nothing_is_clipped():
    old = torch.tensor([-1.0, -2.0, -0.5])
    log_prob = old.clone().requires_grad_(True)
    advantages = torch.tensor([0.5, -1.0, 2.0])
    loss, clip_fraction = ppo_clip_loss(log_prob, old, advantages, clip_range=0.2)
    loss.backward()
    assert clip_fraction.item() == 0.0 and loss.item() == pytest.approx(-advantages.mean().item())
    assert torch.allclose(log_prob.grad, -advantages / 3)
    assert approx_kl(old, old).item() == 0.0 and approx_kl(old + 0.1, old).item() > 0


def test_gae_against_a_hand_computation():
    rewards = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    values = np.array([[0.5, 1.0], [1.0, 2.0], [0.25, 3.0]])
    terminations = np.array([[True, False], [False, False], [False, False]])
    truncations = np.array([[False, False], [False, True], [False, False]])
    final_values = np.array([[0.0, 0.0], [0.0, 8.0], [0.0, 0.0]])
    next_values = np.array([4.0, 2.0])
    args = (rewards, values, terminations, truncations, final_values, next_values)
    advantages, returns = compute_gae(*args, gamma=0.5, lam=0.5)
    # env 0: terminated at t=0 (nothing after it); t=1, 2 bootstrap from values[2] and next_values.
    #   A2 = 2 + .5*4 - .25 = 3.75; A1 = (0 + .5*.25 - 1) + .25*3.75 = .0625; A0 = 1 - .5 = .5
    # env 1: truncated at t=1, bootstrapped with final_values (8), nothing propagated across it.
    #   A2 = 0 + .5*2 - 3 = -2; A1 = 1 + .5*8 - 2 = 3; A0 = (0 + .5*2 - 1) + .25*3 = .75
    expected = np.array([[0.5, 0.75], [0.0625, 3.0], [3.75, -2.0]])
    assert np.allclose(advantages, expected) and np.allclose(returns, expected + values)
    no_bootstrap, _ = compute_gae(*args, gamma=0.5, lam=0.5, bootstrap_truncated=False)
    assert np.allclose(no_bootstrap[:, 1], [0.25 * -1.0, 1.0 - 2.0, -2.0])
    assert np.allclose(no_bootstrap[:, 0], expected[:, 0])


def test_gae_with_lambda_one_is_the_monte_carlo_return():
    rewards = np.array([[1.0], [2.0], [4.0], [8.0]])
    values = np.array([[3.0], [1.0], [2.0], [5.0]])
    ended = np.array([[False], [True], [False], [False]])
    zeros = np.zeros_like(values)
    _, returns = compute_gae(rewards, values, ended, ~ended & False, zeros, np.array([16.0]), gamma=1.0, lam=1.0)
    assert returns[:, 0].tolist() == [3.0, 2.0, 28.0, 24.0]


@pytest.mark.parametrize("advantage, direction", [(1.0, 1), (-1.0, -1)])
def test_reinforce_gradient_moves_the_taken_action_with_the_sign_of_its_advantage(advantage, direction):
    logits = torch.zeros(1, 2, requires_grad=True)
    dist = MaskedFlatCategorical(logits, torch.ones(1, 2, dtype=torch.bool))
    loss = reinforce_loss(dist.log_prob(torch.tensor([0])), torch.tensor([advantage]))
    loss.backward()
    with torch.no_grad():
        after = torch.softmax(logits - 0.5 * logits.grad, -1)[0, 0].item()
    assert np.sign(after - 0.5) == direction


def test_distribution_kl_is_zero_against_itself_and_ignores_masked_tokens_and_padded_nodes():
    logits, mask = torch.randn(2, 3, 4), torch.rand(2, 3, 4) > 0.3
    mask[..., 0] = True
    node_mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    dist = MaskedNodeCategorical(logits, mask, node_mask)
    assert torch.allclose(distribution_kl(dist, dist.log_probs), torch.zeros(2), atol=1e-6)
    other = MaskedNodeCategorical(logits.flip(-1), mask, node_mask)
    kl = distribution_kl(dist, other.log_probs)
    assert torch.isfinite(kl).all() and (kl >= 0).all()
    changed = logits.clone()
    changed[0, 2] += 5.0  # a padded node of graph 0: not part of the KL
    assert torch.allclose(distribution_kl(MaskedNodeCategorical(changed, mask, node_mask), other.log_probs)[0], kl[0])


# ----------------------------------------------------------------------------- the trainer


def _trainer(mode: str, seed: int = 0, **overrides) -> PolicyGradientTrainer:
    rounds = 3
    cfg = PolicyGradientConfig(
        seed=seed, total_steps=100, num_envs=2, rollout_steps=rounds, rounds=rounds, action_mode=mode,
        minibatch_size=4, epochs=2, **overrides,
    )  # fmt: skip
    torch.manual_seed(seed)
    envs = make_vector_env(cfg.num_envs, tasks=TASKS, max_nodes=32, max_tests=4, **cfg.env_kwargs())
    return PolicyGradientTrainer(RefineNet(TINY), envs, cfg)


@pytest.mark.parametrize("mode, algo", [("rewrite", "ppo"), ("edit", "reinforce")])
def test_resume_continues_exactly(mode, algo):
    straight = _trainer(mode, algo=algo, kl_coef=0.1, ent_coef=0.01)
    metrics = [straight.run_iteration() for _ in range(2)]
    assert all(math.isfinite(m["train/policy_loss"]) and math.isfinite(m["train/value_loss"]) for m in metrics)
    first = _trainer(mode, algo=algo, kl_coef=0.1, ent_coef=0.01)
    first.run_iteration()
    model_state = {k: v.clone() for k, v in first.model.state_dict().items()}
    trainer_state = first.state_dict()
    resumed = _trainer(mode, seed=0, algo=algo, kl_coef=0.1, ent_coef=0.01)
    resumed.model.load_state_dict(model_state)
    resumed.load_state_dict(trainer_state)
    resumed.run_iteration()
    assert resumed.num_steps == straight.num_steps == 2 * 2 * 3
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key


def test_the_update_leaves_the_reference_policy_alone_and_changes_the_model():
    trainer = _trainer("rewrite", kl_coef=0.5)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    metrics = trainer.run_iteration()
    assert "train/kl_to_reference" in metrics and metrics["train/approx_kl"] >= 0
    assert any(not torch.equal(before[k], v) for k, v in trainer.model.state_dict().items())
    assert all(torch.equal(before[k], v) for k, v in trainer.reference.state_dict().items())


EASY = [
    task_from_json({"name": name, "inputs": {"x": "list"}, "program": program, "tests": tests})
    for name, program, tests in [
        ("sum", "(sum x)", [{"input": {"x": [1, 2, 5]}, "output": 8}, {"input": {"x": [4]}, "output": 4}]),
        ("len", "(len x)", [{"input": {"x": [1, 2, 5]}, "output": 3}, {"input": {"x": [7, 7]}, "output": 2}]),
        ("reverse", "(reverse x)", [{"input": {"x": [1, 2, 5]}, "output": [5, 2, 1]}]),
        ("maximum", "(maximum x)", [{"input": {"x": [1, 9, 5]}, "output": 9}, {"input": {"x": [-4]}, "output": -4}]),
    ]
]  # fmt: skip
"""Two-node programs: at corruption 0.1 one node is masked, and a random allowed edit fixes it
now and then (about 1 time in 5 within 4 edits), so a policy can learn fast from the reward."""


@pytest.mark.slow  # ~20 s of CPU (minutes on a loaded machine)
def test_a_tiny_ppo_run_raises_the_success_rate_on_easy_tasks():
    cfg = PolicyGradientConfig(
        total_steps=12 * 32, num_envs=8, rollout_steps=4, rounds=4, action_mode="edit", corruption_low=0.1,
        corruption_high=0.1, lr=3e-3, minibatch_size=16,
    )  # fmt: skip
    env_kwargs = dict(tasks=EASY, max_nodes=8, max_tests=4, **cfg.env_kwargs())
    torch.manual_seed(0)
    trainer = PolicyGradientTrainer(RefineNet(TINY), make_vector_env(cfg.num_envs, **env_kwargs), cfg)

    def success_rate() -> float:  # the sampling policy on 32 fixed episodes
        envs = make_vector_env(32, **env_kwargs)
        collector = RolloutCollector(envs, GraphPolicy(trainer.model, "edit"))
        collector.reset(list(range(1000, 1032)))
        rate = collector.collect(cfg.rounds, torch.Generator().manual_seed(1)).episodes.success_rate()
        envs.close()
        return rate

    before = success_rate()
    while trainer.iteration < cfg.iterations:
        trainer.run_iteration()
    assert success_rate() > before + 0.1


# ----------------------------------------------------------------------------- command lines


@pytest.mark.parametrize("command", ["ppo", "reinforce"])
def test_help_explains_every_option(command, capsys):
    import importlib

    module = importlib.import_module("train.ppo")
    with pytest.raises(SystemExit) as done:
        module.main(["--help"], algo=command)
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert f"python -m train.{command}" in out
    for flag in ("--kl-coef", "--ent-coef", "--reward", "--action-mode", "--init", "--resume", "--clip-range"):
        assert flag in out
    assert f"(default: {command})" in out


def test_cli_warm_starts_trains_and_resumes(tmp_path):
    from train.ppo import main

    tasks = tmp_path / "tasks.jsonl"
    save_tasks(TASKS, tasks)
    init = tmp_path / "init.pt"
    torch.manual_seed(3)
    save_checkpoint(init, RefineNet(TINY))
    common = ["--tasks", str(tasks), "--num-envs", "2", "--rollout-steps", "2", "--rounds", "2",
              "--runs-dir", str(tmp_path / "runs"), "--no-progress", "--minibatch-size", "4"]  # fmt: skip
    assert main([*common, "--init", str(init), "--total-steps", "4", "--name", "a", "--kl-coef", "0.1"]) == 0
    checkpoint = tmp_path / "runs" / "ppo" / "a" / "checkpoint.pt"
    model, payload = load_checkpoint(checkpoint)
    assert model.config == TINY and payload["trainer"]["num_steps"] == 4 and payload["init"] == str(init)
    assert main([*common, "--resume", str(checkpoint), "--total-steps", "8", "--name", "b"]) == 0
    _, resumed = load_checkpoint(tmp_path / "runs" / "ppo" / "b" / "checkpoint.pt")
    assert resumed["trainer"]["num_steps"] == 8 and resumed["train_config"]["kl_coef"] == 0.1
    assert any((tmp_path / "runs" / "ppo" / "a").glob("events.out.tfevents.*"))


def test_ctrl_c_saves_the_last_whole_iteration(tmp_path, monkeypatch):
    from agents.training import policy_gradient
    from train.ppo import main

    tasks = tmp_path / "tasks.jsonl"
    save_tasks(TASKS, tasks)
    common = ["--tasks", str(tasks), "--num-envs", "2", "--rollout-steps", "2", "--rounds", "2", "--hidden", "16",
              "--layers", "1", "--runs-dir", str(tmp_path / "runs"), "--no-progress"]  # fmt: skip
    assert main([*common, "--total-steps", "4", "--name", "whole"]) == 0
    real_update = policy_gradient.PolicyGradientTrainer._update

    def update_then_interrupt(self, batch, generator):
        metrics = real_update(self, batch, generator)  # the model has moved: the save must undo it
        if self.iteration == 1:
            raise KeyboardInterrupt
        return metrics

    monkeypatch.setattr(policy_gradient.PolicyGradientTrainer, "_update", update_then_interrupt)
    assert main([*common, "--total-steps", "40", "--name", "cut"]) == 130
    whole, _ = load_checkpoint(tmp_path / "runs" / "ppo" / "whole" / "checkpoint.pt")
    cut, payload = load_checkpoint(tmp_path / "runs" / "ppo" / "cut" / "checkpoint.pt")
    assert payload["trainer"]["num_steps"] == 4 and payload["trainer"]["iteration"] == 1
    for key, value in whole.state_dict().items():
        assert torch.equal(value, cut.state_dict()[key]), key
