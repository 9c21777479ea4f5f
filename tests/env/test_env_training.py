"""sb3-contrib's MaskablePPO trains on ProgramRefine-v0 as it is (MultiInputPolicy, env masks)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from env_tasks import TASKS

torch = pytest.importorskip("torch")
pytest.importorskip("sb3_contrib")
from sb3_contrib import MaskablePPO  # noqa: E402
from sb3_contrib.common.maskable.utils import get_action_masks  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

MAX_NODES = 16
SMALL = [task for task in TASKS if len(task.program) <= MAX_NODES]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One thread: on 2 shared cores, torch's own threads slow these small networks several times."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.filterwarnings("ignore:.*render_mode='rgb_array':UserWarning")
@pytest.mark.parametrize("action_mode", ["edit", "rewrite"])
def test_maskable_ppo_learns_without_error(action_mode):
    # make_vec_env asks for render_mode="rgb_array" (drawn only when render() is called, never per step).
    env = make_vec_env(
        "ProgramRefine-v0", n_envs=2, seed=0,
        env_kwargs=dict(tasks=SMALL, action_mode=action_mode, max_nodes=MAX_NODES, max_tests=4, corruption=(0.1, 0.6)),
    )  # fmt: skip
    model = MaskablePPO("MultiInputPolicy", env, n_steps=128, batch_size=64, n_epochs=2, seed=0, device="cpu")
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=2048)
    assert model.num_timesteps >= 2048
    assert any(not np.allclose(a.numpy(), b.detach().numpy()) for a, b in zip(before, model.policy.parameters()))
    # Masked prediction gives only allowed actions.
    obs = env.reset()
    for _ in range(20):
        masks = get_action_masks(env)
        actions, _ = model.predict(obs, action_masks=masks, deterministic=False)
        rows = masks.reshape(2, -1)
        for i, action in enumerate(actions):
            if action_mode == "edit":
                assert rows[i, action]
            else:
                assert rows[i].reshape(MAX_NODES, -1)[np.arange(MAX_NODES), action].all()
        obs, _, _, _ = env.step(actions)
    env.close()


def test_maskable_ppo_predicts_on_a_single_gym_make_env():
    env = gym.make("ProgramRefine-v0", tasks=SMALL, action_mode="edit", max_nodes=MAX_NODES, max_tests=4)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=64)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, action_masks=env.unwrapped.action_masks())
    assert env.unwrapped.action_masks()[int(action)]
