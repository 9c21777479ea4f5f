"""The graph policy inside Stable-Baselines3 / sb3-contrib: masked actions, training, save/load,
and warm start from our checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from env_tasks import make_env

pytest.importorskip("sb3_contrib")

from sb3_contrib import MaskablePPO  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.logger import Logger  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

from agents.acting.policy import GraphPolicy  # noqa: E402
from agents.integrations.sb3_policy import GraphActorCriticPolicy, MaskableGraphPolicy, to_refinenet, warm_start  # noqa: E402
from agents.nn.batching import stack_observations, to_tensors  # noqa: E402
from agents.nn.checkpoint import save_checkpoint  # noqa: E402
from agents.nn.network import ModelConfig, RefineNet  # noqa: E402

TINY = ModelConfig(hidden=16, layers=1)
ALGOS = {"maskable": (MaskablePPO, MaskableGraphPolicy), "ppo": (PPO, GraphActorCriticPolicy)}


def _model(algo: str, mode: str, n_envs: int = 2, config: ModelConfig = TINY, **kwargs):
    cls, policy = ALGOS[algo]
    env = DummyVecEnv([lambda: make_env(action_mode=mode, corruption=0.3)] * n_envs)
    env.seed(0)
    model = cls(policy, env, n_steps=8, batch_size=8, n_epochs=1, seed=0, device="cpu",
                policy_kwargs={"model_config": config}, **kwargs)  # fmt: skip
    model.set_logger(Logger(None, []))  # SB3's default logger makes a folder in the temp directory
    return model


def _states(mode: str, count: int = 6) -> tuple[list[dict], list[np.ndarray]]:
    """Observations and masks of a few states along random masked trajectories."""
    env, rng = make_env(action_mode=mode, corruption=0.5), np.random.default_rng(0)
    observations, masks = [], []
    obs, _ = env.reset(seed=0)
    for _ in range(count):
        observations.append(obs)
        masks.append(env.action_masks())
        allowed = masks[-1].reshape(env.max_nodes, -1)
        if mode == "edit":
            action = int(rng.choice(np.flatnonzero(masks[-1])))
        else:
            action = np.array([rng.choice(np.flatnonzero(row)) for row in allowed])
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            obs, _ = env.reset()
    return observations, masks


def _inside(mode: str, actions: np.ndarray, masks: np.ndarray) -> bool:
    if mode == "edit":
        return bool(masks[np.arange(len(actions)), actions].all())
    rows = masks.reshape(len(actions), actions.shape[1], -1)
    return bool(np.take_along_axis(rows, actions[..., None], -1).all())


@pytest.mark.parametrize("algo", ["maskable", "ppo"])
@pytest.mark.parametrize("mode", ["rewrite", "edit"])
def test_sampled_actions_are_always_inside_the_mask_and_training_runs(algo, mode, tmp_path):
    model = _model(algo, mode)
    model.learn(16)
    assert model.num_timesteps == 16
    observations, masks = _states(mode)
    batch, mask = stack_observations(observations), np.stack(masks)
    for seed in range(5):
        torch.manual_seed(seed)
        extra = {"action_masks": mask} if algo == "maskable" else {}  # plain PPO: the observation's mask
        actions, _ = model.predict(batch, deterministic=seed == 0, **extra)
        assert _inside(mode, np.asarray(actions), mask)


@pytest.mark.parametrize("mode", ["rewrite", "edit"])
def test_save_load_round_trip_gives_the_same_actions(mode, tmp_path):
    model = _model("maskable", mode)
    model.learn(8)
    model.save(tmp_path / "model.zip")
    loaded = MaskablePPO.load(tmp_path / "model.zip", device="cpu")
    assert isinstance(loaded.policy, MaskableGraphPolicy)
    observations, masks = _states(mode)
    batch, mask = stack_observations(observations), np.stack(masks)
    for deterministic in (True, False):
        torch.manual_seed(1)
        first, _ = model.predict(batch, deterministic=deterministic, action_masks=mask)
        torch.manual_seed(1)
        again, _ = loaded.predict(batch, deterministic=deterministic, action_masks=mask)
        assert np.array_equal(first, again)


def test_a_model_saved_under_the_old_module_path_still_loads(tmp_path):
    """SB3 pickles the policy class by module path into the zip; before issue 28 the path was
    `agents.sb3_policy`, which stays importable so that users' saved models load."""
    import base64
    import json
    import zipfile

    model = _model("maskable", "rewrite")
    model.save(tmp_path / "new.zip")
    with zipfile.ZipFile(tmp_path / "new.zip") as new, zipfile.ZipFile(tmp_path / "old.zip", "w") as old:
        for item in new.infolist():
            content = new.read(item)
            if item.filename == "data":
                data = json.loads(content)
                reference = b"cagents.sb3_policy\nMaskableGraphPolicy\n."  # a pickled global: module, name
                data["policy_class"][":serialized:"] = base64.b64encode(reference).decode()
                content = json.dumps(data).encode()
            old.writestr(item, content)
    loaded = MaskablePPO.load(tmp_path / "old.zip", device="cpu")
    assert type(loaded.policy) is MaskableGraphPolicy
    observations, masks = _states("rewrite")
    first, _ = model.predict(stack_observations(observations), deterministic=True, action_masks=np.stack(masks))
    again, _ = loaded.predict(stack_observations(observations), deterministic=True, action_masks=np.stack(masks))
    assert np.array_equal(first, again)


@pytest.mark.parametrize("mode", ["rewrite", "edit"])
def test_warm_start_loads_the_supervised_weights_exactly(mode, tmp_path):
    torch.manual_seed(0)
    network = RefineNet(TINY)
    save_checkpoint(tmp_path / "supervised.pt", network)
    model = _model("maskable", mode)
    loaded = warm_start(model.policy, tmp_path / "supervised.pt")
    for key, value in to_refinenet(model.policy).state_dict().items():
        assert torch.equal(value, network.state_dict()[key]), key
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), network.state_dict().values()))
    # The SB3 policy computes the very distribution and value of our own GraphPolicy.
    observations, masks = _states(mode)
    batch = stack_observations(observations)
    ours, value = GraphPolicy(network, mode).distribution(to_tensors(batch))
    obs_tensor, _ = model.policy.obs_to_tensor(batch)
    dist = model.policy.get_distribution(obs_tensor, action_masks=np.stack(masks))
    actions = ours.mode()
    assert torch.allclose(dist.log_prob(actions), ours.log_prob(actions), atol=1e-5)
    assert torch.allclose(dist.entropy(), ours.entropy(), atol=1e-4)
    assert torch.allclose(model.policy.predict_values(obs_tensor).squeeze(-1), value, atol=1e-6)


def test_warm_start_refuses_a_checkpoint_of_another_architecture(tmp_path):
    save_checkpoint(tmp_path / "other.pt", RefineNet(ModelConfig(hidden=8, layers=1)))
    with pytest.raises(ValueError, match="model config"):
        warm_start(_model("maskable", "edit").policy, tmp_path / "other.pt")

