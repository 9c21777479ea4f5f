"""The shared agent core: the masked distributions, the policies and the rollout collector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")
from env_tasks import TASKS  # noqa: E402

from agents import ModelConfig, RefineNet  # noqa: E402
from agents.acting.collector import RolloutCollector, make_vector_env  # noqa: E402
from agents.acting.policy import ExpertPolicy, GraphPolicy, MixturePolicy, Policy, UniformPolicy  # noqa: E402
from agents.nn.distribution import MaskedFlatCategorical, MaskedNodeCategorical  # noqa: E402
from progrefine_env.env import ProgramRefineEnv  # noqa: E402

SMALL = ModelConfig(hidden=16, layers=1)


def random_case(seed=0, b=3, n=5, v=7):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, n, v, generator=g) * 3
    mask = torch.rand(b, n, v, generator=g) < 0.5
    mask[..., 0] = True  # at least one token allowed per real node
    mask[:, -1] = False  # the last node is padding: nothing allowed
    node_mask = torch.ones(b, n)
    node_mask[:, -1] = 0
    return logits, mask, node_mask


def test_masked_tokens_get_zero_probability_and_everything_stays_finite():
    logits, mask, node_mask = random_case()
    dist = MaskedNodeCategorical(logits, mask, node_mask)
    assert torch.all(dist.probs[:, :-1][~mask[:, :-1]] == 0)
    assert torch.allclose(dist.probs.sum(-1), torch.ones(3, 5))
    assert torch.isfinite(dist.log_probs).all() and torch.isfinite(dist.entropy()).all()
    # Padding adds nothing to the joint log-probability and entropy.
    alone = MaskedNodeCategorical(logits[:, :-1], mask[:, :-1])
    actions = dist.mode()
    assert torch.allclose(dist.log_prob(actions), alone.log_prob(actions[:, :-1]))
    assert torch.allclose(dist.entropy(), alone.entropy(), atol=1e-5)


def test_mode_has_the_highest_log_prob_and_samples_respect_the_mask():
    logits, mask, node_mask = random_case(1)
    dist = MaskedNodeCategorical(logits, mask, node_mask)
    best = dist.log_prob(dist.mode())
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        sample = dist.sample(g)
        assert mask[:, :-1].gather(-1, sample[:, :-1].unsqueeze(-1)).all()
        assert torch.all(dist.log_prob(sample) <= best + 1e-5)


def test_sampling_follows_the_probabilities_and_temperature_sharpens():
    logits = torch.tensor([[[2.0, 1.0, 0.0, 5.0]]])
    mask = torch.tensor([[[True, True, True, False]]])
    dist = MaskedNodeCategorical(logits, mask)
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([dist.sample(g) for _ in range(4000)]).flatten()
    frequencies = torch.bincount(draws, minlength=4).float() / len(draws)
    assert frequencies[3] == 0
    assert torch.allclose(frequencies[:3], dist.probs[0, 0, :3], atol=0.03)
    cold = MaskedNodeCategorical(logits, mask, temperature=0.5)
    assert cold.probs[0, 0, 0] > dist.probs[0, 0, 0]
    with pytest.raises(ValueError):
        MaskedNodeCategorical(logits, mask, temperature=0.0)


def test_flat_distribution_masks_pairs_and_stays_finite_when_all_masked():
    logits, mask, _ = random_case(2)
    dist = MaskedFlatCategorical(logits, mask)
    assert dist.log_probs.shape == (3, 35)
    assert torch.all(dist.probs[~mask.flatten(1)] == 0)
    sample = dist.sample(torch.Generator().manual_seed(0))
    assert mask.flatten(1).gather(-1, sample.unsqueeze(-1)).all()
    nothing = MaskedFlatCategorical(logits, torch.zeros_like(mask))
    assert torch.isfinite(nothing.entropy()).all() and torch.isfinite(nothing.log_prob(sample)).all()


def labelled_envs(n=3, mode="rewrite", vectorization="sync", **kwargs):
    kwargs = {"tasks": TASKS, "corruption": 0.5, "max_nodes": 32, "action_mode": mode, "expert_labels": True, **kwargs}
    return make_vector_env(n, vectorization, **kwargs)


@pytest.mark.parametrize("mode", ["rewrite", "edit"])
def test_collector_shapes_and_rewards_equal_the_envs(mode):
    envs = labelled_envs(mode=mode)
    torch.manual_seed(0)
    policy = GraphPolicy(RefineNet(SMALL), mode)
    collector = RolloutCollector(envs, policy)
    collector.reset(seed=[10, 11, 12])
    rollout = collector.collect(6, torch.Generator().manual_seed(0))
    action_shape = (6, 3, 32) if mode == "rewrite" else (6, 3)
    assert rollout.actions.shape == action_shape and rollout.expert_actions.shape == action_shape
    assert rollout.observations["tokens"].shape == (6, 3, 32)
    assert rollout.rewards.shape == rollout.log_probs.shape == rollout.values.shape == (6, 3)
    assert np.isfinite(rollout.log_probs).all()
    # Replaying env 0's actions in a plain env from the same seed gives the same rewards, with a
    # reset (seeded by the env's own generator) after each finished episode.
    env = ProgramRefineEnv(tasks=TASKS, corruption=0.5, max_nodes=32, action_mode=mode)
    obs, _ = env.reset(seed=10)
    for t in range(6):
        assert np.array_equal(obs["tokens"], rollout.observations["tokens"][t, 0])
        obs, reward, terminated, truncated, _ = env.step(rollout.actions[t, 0])
        assert reward == pytest.approx(rollout.rewards[t, 0])
        assert (terminated, truncated) == (rollout.terminations[t, 0], rollout.truncations[t, 0])
        if terminated or truncated:
            obs, _ = env.reset()
    ended = int((rollout.terminations | rollout.truncations).sum())
    assert len(rollout.episodes.returns) == ended
    envs.close()


def test_expert_solves_in_one_step_and_labels_are_the_targets():
    envs = labelled_envs()
    collector = RolloutCollector(envs, ExpertPolicy())
    collector.reset(seed=0)
    rollout = collector.collect(2)
    assert rollout.terminations.all()
    assert rollout.episodes.success_rate() == 1.0
    assert (rollout.episodes.held_out_passed == rollout.episodes.num_held_out).all()
    # After a terminal step the next state is a fresh episode (autoreset in the same step).
    assert (rollout.observations["masked"][1].sum(-1) > 0).all()
    envs.close()


def test_sync_and_async_collect_the_same_rollout():
    rollouts = []
    for vectorization in ("sync", "async"):
        torch.manual_seed(0)
        envs = labelled_envs(vectorization=vectorization)
        collector = RolloutCollector(envs, MixturePolicy(GraphPolicy(RefineNet(SMALL)), beta=0.5))
        collector.reset(seed=[1, 2, 3])
        rollouts.append(collector.collect(5, torch.Generator().manual_seed(3)))
        envs.close()
    sync, async_ = rollouts
    for field in ("actions", "rewards", "terminations", "truncations", "expert_actions"):
        assert np.array_equal(getattr(sync, field), getattr(async_, field)), field
    assert np.allclose(sync.log_probs, async_.log_probs, atol=1e-5)


def test_mixture_is_the_expert_at_beta_one_and_the_learner_at_zero():
    envs = labelled_envs()
    collector = RolloutCollector(envs, ExpertPolicy())
    obs = collector.reset(seed=0)
    expert = collector.infos["expert_action"]
    learner = UniformPolicy()
    g = torch.Generator().manual_seed(0)
    assert np.array_equal(MixturePolicy(learner, 1.0).act(obs, expert_actions=expert).actions, expert)
    for per in ("step", "node"):
        g0 = torch.Generator().manual_seed(0)
        mixed = MixturePolicy(learner, 0.0, per).act(obs, generator=g0, expert_actions=expert)
        alone = learner.act(obs, generator=torch.Generator().manual_seed(0))
        assert np.array_equal(mixed.actions, alone.actions)
    half = MixturePolicy(learner, 0.5, "node").act(obs, generator=g, expert_actions=expert).actions
    real = obs["node_mask"].astype(bool)
    assert 0 < (half == expert)[real].mean() < 1
    with pytest.raises(ValueError, match="expert_labels"):
        ExpertPolicy().act(obs)
    assert isinstance(GraphPolicy(RefineNet(SMALL)), Policy)
    envs.close()


def test_expert_labels_are_off_by_default_and_never_in_the_observation():
    env = ProgramRefineEnv(tasks=TASKS, corruption=0.5, max_nodes=32)
    _, info = env.reset(seed=0)
    assert "expert_action" not in info
    labelled = ProgramRefineEnv(tasks=TASKS, corruption=0.5, max_nodes=32, expert_labels=True)
    obs, info = labelled.reset(seed=0)
    assert np.array_equal(info["expert_action"], labelled.target_tokens)
    assert set(obs) == set(env.reset(seed=0)[0])
