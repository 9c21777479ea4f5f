"""ProgramRefine-v0 in Gymnasium's vector environments, SB3's VecEnvs, and on the default corpus."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from env_tasks import MAX_NODES, TASKS, corpus_available, masked_action
from gymnasium.utils.env_checker import check_env

from progrefine_env.lang import VOCAB_SIZE

V = VOCAB_SIZE
OPTIONS = dict(tasks=TASKS, max_nodes=MAX_NODES, max_tests=4)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("action_mode", ["rewrite", "edit"])
def test_gymnasium_vector_envs_step_with_batched_shapes(mode, action_mode):
    envs = gym.make_vec("ProgramRefine-v0", num_envs=2, vectorization_mode=mode, action_mode=action_mode, **OPTIONS)
    try:
        single = envs.single_observation_space
        obs, infos = envs.reset(seed=0)
        rng = np.random.default_rng(0)
        for _ in range(30):
            assert set(obs) == set(single.spaces)
            for key, space in single.spaces.items():
                assert obs[key].shape == (2, *space.shape) and obs[key].dtype == space.dtype, key
            masks = infos["action_mask"]  # each env's mask, stacked
            assert masks.shape == (2, MAX_NODES * V) and masks.dtype == np.bool_
            actions = [masked_action(masks[i], action_mode, MAX_NODES, rng) for i in range(2)]
            obs, rewards, terminated, truncated, infos = envs.step(np.stack(actions))
            assert rewards.shape == terminated.shape == truncated.shape == (2,)
        assert obs in envs.observation_space
    finally:
        envs.close()


def test_vector_env_masks_through_call():
    envs = gym.make_vec("ProgramRefine-v0", num_envs=2, vectorization_mode="sync", **OPTIONS)
    try:
        _, infos = envs.reset(seed=0)
        masks = envs.call("action_masks")
        assert len(masks) == 2 and np.array_equal(np.stack(masks), infos["action_mask"])
    finally:
        envs.close()


@pytest.mark.parametrize("vec", ["dummy", "subproc"])
def test_sb3_vec_envs(vec):
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    def make_one():
        return gym.make("ProgramRefine-v0", action_mode="edit", **OPTIONS)

    envs = DummyVecEnv([make_one] * 2) if vec == "dummy" else SubprocVecEnv([make_one] * 2, start_method="fork")
    try:
        obs = envs.reset()
        assert obs["tokens"].shape == (2, MAX_NODES)
        rng = np.random.default_rng(0)
        for _ in range(30):
            masks = np.stack(envs.env_method("action_masks"))  # how sb3-contrib finds them
            assert masks.shape == (2, MAX_NODES * V)
            actions = np.array([masked_action(m, "edit", MAX_NODES, rng) for m in masks])
            obs, rewards, dones, infos = envs.step(actions)
            assert rewards.shape == (2,) and len(infos) == 2
            for done, info in zip(dones, infos):
                if done:  # SB3 resets at once and keeps the last observation in info
                    assert "terminal_observation" in info and "held_out_passed" in info
    finally:
        envs.close()


# ----------------------------------------------------------------------------- the default corpus

needs_corpus = pytest.mark.skipif(
    not corpus_available(), reason="progrefine_env.tasks.corpus (the default generated corpus) does not exist yet"
)


@needs_corpus
@pytest.mark.parametrize("action_mode", ["rewrite", "edit"])
def test_bare_gym_make_on_a_small_default_corpus(tmp_path, monkeypatch, action_mode):
    monkeypatch.setenv("PROGREFINE_CACHE", str(tmp_path))
    env = gym.make("ProgramRefine-v0", corpus_size=200, action_mode=action_mode)
    check_env(env.unwrapped, skip_render_check=True)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    for _ in range(200):
        action = masked_action(env.unwrapped.action_masks(), action_mode, env.unwrapped.max_nodes, rng)
        obs, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            obs, info = env.reset()
    assert obs in env.observation_space


@needs_corpus
def test_default_corpus_in_an_async_vector_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PROGREFINE_CACHE", str(tmp_path))
    gym.make("ProgramRefine-v0", corpus_size=200).close()  # build the cache once, in this process
    envs = gym.make_vec("ProgramRefine-v0", num_envs=2, vectorization_mode="async", corpus_size=200)
    try:
        obs, _ = envs.reset(seed=0)
        obs, *_ = envs.step(envs.action_space.sample())
        assert obs["tokens"].shape == (2, 64)
    finally:
        envs.close()
