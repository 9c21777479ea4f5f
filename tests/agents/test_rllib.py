"""RLlib: our RLModule never picks a masked action, warm-starts from a checkpoint, and the example
trains PPO with 2 env runners. Needs `ray[rllib]`, which pins gymnasium 1.2.2: these run in
`make test-rllib` (its own .venv-rllib from constraints-rllib.txt) and are skipped elsewhere."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from env_tasks import MAX_NODES, make, masked_action
from example_scripts import run_example
from repo_root import ROOT

pytest.importorskip("ray.rllib", reason="ray[rllib] is not installed (make test-rllib installs it)")

from ray.rllib.core.columns import Columns  # noqa: E402

from agents.integrations.rllib_module import RefineRLModule  # noqa: E402
from agents.nn.checkpoint import load_checkpoint  # noqa: E402
from agents.nn.distribution import edit_mask  # noqa: E402
from progrefine_env.wrappers import ActionMaskObservation  # noqa: E402

MODES = ("rewrite", "edit")


@pytest.fixture(autouse=True)
def no_ray_session_left():
    """A Ray run keeps its session folder (logs, sockets) in $TMPDIR/ray after `ray.shutdown()`:
    remove it, so that the suite leaves the temp folder as it found it (tests/conftest.py)."""
    yield
    shutil.rmtree(Path(tempfile.gettempdir()) / "ray", ignore_errors=True)


CHECKPOINT = ROOT / "checkpoints" / "scheduled_sampling.pt"


def observations(env, count: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """`count` observations from masked random play, batched as RLlib's connectors batch them."""
    obs, _ = env.reset(seed=0)
    seen = []
    for _ in range(count):
        seen.append(obs)
        obs, _, terminated, truncated, _ = env.step(
            masked_action(env.unwrapped.action_masks(), env.unwrapped.action_mode, MAX_NODES, rng)
        )
        if terminated or truncated:
            obs, _ = env.reset()
    return {key: torch.as_tensor(np.stack([o[key] for o in seen])) for key in seen[0]}


@pytest.mark.parametrize("action_mode", MODES)
def test_module_samples_only_allowed_actions(action_mode):
    env = make(action_mode=action_mode, corruption_mode="noise", corruption=(0.1, 1.0))
    module = RefineRLModule(
        observation_space=env.observation_space, action_space=env.action_space, model_config={"network": {"hidden": 16}}
    )
    obs = observations(env, 24, np.random.default_rng(0))
    allowed = obs["grammar_mask"].bool()
    if action_mode == "edit":  # the env's edit-mode mask: no node's current token (issue 23)
        allowed = edit_mask(obs["grammar_mask"], obs["tokens"], obs["node_mask"])
    with torch.no_grad():
        inputs = module.forward_exploration({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
        dist = module.get_exploration_action_dist_cls().from_logits(inputs)
        for _ in range(50):  # every sampled action, on every observation
            actions = dist.sample()
            if action_mode == "edit":
                assert allowed.flatten(1).gather(1, actions[:, None]).all()
            else:
                assert actions.shape == (24, MAX_NODES) and allowed.gather(2, actions[..., None]).all()
            assert torch.isfinite(dist.logp(actions)).all()
        greedy = module.get_inference_action_dist_cls().from_logits(inputs).to_deterministic().sample()
        if action_mode == "edit":
            assert allowed.flatten(1).gather(1, greedy[:, None]).all()
        else:
            assert allowed.gather(2, greedy[..., None]).all()
        assert torch.isfinite(dist.entropy()).all() and torch.allclose(dist.kl(dist), torch.zeros(24), atol=1e-5)
        values = module.compute_values({Columns.OBS: obs})
    assert values.shape == (24,)


@pytest.mark.parametrize("action_mode", MODES)
def test_rllibs_own_action_masking_module_takes_the_flattened_wrapper(action_mode):
    # RLlib's example module (its default MLP) reads {"action_mask", "observations": flat Box}.
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

    env = ActionMaskObservation(make(action_mode=action_mode), observations_key="observations", flatten=True)
    spaces = {"observation_space": env.observation_space, "action_space": env.action_space}
    module = ActionMaskingTorchRLModule(**spaces, model_config={"head_fcnet_hiddens": [16]})
    obs, _ = env.reset(seed=0)
    for _ in range(20):  # every action it samples
        batch = {Columns.OBS: {key: torch.as_tensor(value)[None] for key, value in obs.items()}}
        with torch.no_grad():
            inputs = module.forward_exploration(batch)[Columns.ACTION_DIST_INPUTS]
        action = module.get_exploration_action_dist_cls().from_logits(inputs).sample()[0].numpy()
        allowed = env.get_wrapper_attr("action_masks")()
        if action_mode == "edit":
            assert allowed[int(action)]
        else:
            assert allowed.reshape(MAX_NODES, -1)[np.arange(MAX_NODES), action].all()
        obs, _, terminated, truncated, _ = env.step(int(action) if action_mode == "edit" else action)
        if terminated or truncated:
            obs, _ = env.reset()


def test_module_warm_starts_from_the_supervised_checkpoint():
    env = make()
    module = RefineRLModule(
        observation_space=env.observation_space,
        action_space=env.action_space,
        model_config={"checkpoint": str(CHECKPOINT)},
    )
    model, _ = load_checkpoint(CHECKPOINT)
    for name, tensor in model.state_dict().items():
        assert torch.equal(module.net.state_dict()[name], tensor), name


def test_the_warm_started_greedy_edit_module_changes_the_program_on_its_first_step():
    env = make(action_mode="edit", corruption=0.5)
    module = RefineRLModule(
        observation_space=env.observation_space, action_space=env.action_space,
        model_config={"checkpoint": str(CHECKPOINT)},
    )  # fmt: skip
    for seed in range(12):
        obs, _ = env.reset(seed=seed)
        batch = {Columns.OBS: {key: torch.as_tensor(value)[None] for key, value in obs.items()}}
        with torch.no_grad():
            inputs = module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS]
        action = module.get_inference_action_dist_cls().from_logits(inputs).to_deterministic().sample()
        before = env.unwrapped.program
        _, _, _, _, info = env.step(int(action[0]))
        assert env.unwrapped.program != before and info["nodes_changed"] == 1, seed


@pytest.mark.parametrize("action_mode", MODES)
def test_rllib_example_trains_ppo_with_two_env_runners(task_file, action_mode):
    out = run_example(
        "rllib_ppo.py", "--tasks", task_file, "--max-nodes", "32", "--action-mode", action_mode,
        "--iterations", "2", "--env-runners", "2", "--train-batch", "64", "--minibatch", "32", "--epochs", "1",
        "--hidden", "16", "--layers", "1", "--eval-episodes", "2", timeout=900,
    )  # fmt: skip
    assert len(re.findall(r"^iteration +\d+ +env steps +\d+ .* time/sps \d+\.\d$", out, re.M)) == 2
    checked = re.search(r"^masked actions taken: 0 of (\d+) checked$", out, re.M)
    assert checked and int(checked.group(1)) >= 64  # every action of both iterations was checked
    assert re.search(r"^eval: mean return [+-]\d\.\d{3}, solved \d/2$", out, re.M)


def test_rllib_example_refuses_a_bad_checkpoint_in_one_line(tmp_path):
    missing = tmp_path / "none.pt"
    with pytest.raises(AssertionError, match="error: .*none.pt"):
        run_example("rllib_ppo.py", "--checkpoint", str(missing), "--tasks", str(tmp_path / "no-tasks.jsonl"))
