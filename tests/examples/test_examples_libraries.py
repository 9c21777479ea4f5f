"""The third-party library examples run with tiny settings, and never take a masked action.

CleanRL-style PPO needs nothing beyond the agents' install; TorchRL and Tianshou come with the
`clients` extra, which `make setup` installs (`.[all]`), so their tests run in `make test` (they
skip only in an environment installed without it). RLlib's are in tests/agents/test_rllib.py
(`make test-rllib`, its own environment). Every example, run without its library, prints one line
with the exact install command and exits 2.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from example_scripts import run_example
from repo_root import ROOT

MODES = ("rewrite", "edit")
TINY_NETWORK = ("--hidden", "16", "--layers", "1")
CHECKPOINT = ROOT / "checkpoints" / "scheduled_sampling.pt"


def assert_no_masked_action(out: str, at_least: int) -> None:
    checked = re.search(r"^masked actions taken: 0 of (\d+) checked$", out, re.M)
    assert checked, out[-2000:]
    assert int(checked.group(1)) >= at_least


@pytest.mark.parametrize("action_mode", MODES)
def test_cleanrl_ppo(task_file, tmp_path, action_mode):
    out = run_example(
        "cleanrl_ppo.py", "--tasks", task_file, "--max-nodes", "32", "--action-mode", action_mode,
        "--total-timesteps", "64", "--num-envs", "2", "--num-steps", "16", "--num-minibatches", "2",
        "--update-epochs", "1", *TINY_NETWORK, "--logdir", str(tmp_path / "runs"),
    )  # fmt: skip
    assert len(re.findall(r"^iteration +\d+ +global_step +\d+ +episodes +\d+ .* time/sps \d+\.\d$", out, re.M)) == 2
    assert_no_masked_action(out, at_least=64)
    assert list((tmp_path / "runs").iterdir()), "no TensorBoard run was written"


def test_cleanrl_ppo_warm_starts_from_the_checkpoint(task_file, tmp_path):
    out = run_example(
        "cleanrl_ppo.py", "--tasks", task_file, "--max-nodes", "32", "--checkpoint", str(CHECKPOINT),
        "--total-timesteps", "32", "--num-envs", "2", "--num-steps", "16", "--num-minibatches", "2",
        "--update-epochs", "1", "--logdir", str(tmp_path / "runs"),
    )  # fmt: skip
    assert_no_masked_action(out, at_least=32)


def test_cleanrl_ppo_refuses_a_bad_checkpoint_in_one_line(tmp_path):
    with pytest.raises(AssertionError, match="error: .*none.pt"):
        run_example("cleanrl_ppo.py", "--checkpoint", str(tmp_path / "none.pt"), "--logdir", str(tmp_path / "runs"))


@pytest.mark.parametrize("action_mode", MODES)
def test_torchrl_ppo(task_file, action_mode):
    pytest.importorskip("torchrl", reason="torchrl is not installed (an optional library; see docs/libraries.md)")
    out = run_example(
        "torchrl_ppo.py", "--tasks", task_file, "--max-nodes", "32", "--action-mode", action_mode,
        "--total-frames", "128", "--frames-per-batch", "64", "--minibatch", "32", "--epochs", "1", *TINY_NETWORK,
        timeout=600,
    )  # fmt: skip
    assert len(re.findall(r"^iteration +\d+ +frames +\d+ .* time/sps \d+\.\d$", out, re.M)) == 2
    assert_no_masked_action(out, at_least=128)


@pytest.mark.parametrize("action_mode", MODES)
def test_tianshou_collector_with_its_masked_random_policy(task_file, action_mode):
    pytest.importorskip("tianshou", reason="tianshou is not installed (an optional library; see docs/libraries.md)")
    import gymnasium as gym
    from tianshou.data import Collector, VectorReplayBuffer
    from tianshou.env import DummyVectorEnv
    from tianshou.policy import RandomPolicy

    from progrefine_env.wrappers import ActionMaskObservation

    def make():
        env = gym.make("ProgramRefine-v0", tasks=task_file, max_nodes=32, action_mode=action_mode)
        return ActionMaskObservation(env, key="mask", observations_key="obs", layout="auto", dtype="bool")

    envs = DummyVectorEnv([make, make])
    buffer = VectorReplayBuffer(200, 2)
    result = Collector(RandomPolicy(), envs, buffer).collect(n_step=100)  # stacks every info value too
    assert result["n/st"] == 100 and result["n/ep"] > 0
    batch, _ = buffer.sample(0)
    mask, action = batch.obs.mask, batch.act
    assert len(action) == 100
    ok = np.take_along_axis(mask, action[..., None], axis=-1).reshape(len(action), -1).all(-1)
    assert ok.all()  # every action of the masked policy is allowed
    assert batch.info.type_errors.shape == (100, 32) and batch.info.error_kinds.shape[0] == 100


@pytest.mark.parametrize("action_mode", MODES)
def test_tianshou_ppo(task_file, action_mode):
    pytest.importorskip("tianshou", reason="tianshou is not installed (an optional library; see docs/libraries.md)")
    out = run_example(
        "tianshou_ppo.py", "--tasks", task_file, "--max-nodes", "32", "--action-mode", action_mode,
        "--epochs", "2", "--steps-per-epoch", "64", "--minibatch", "32", "--repeat", "1", *TINY_NETWORK,
        timeout=600,
    )  # fmt: skip
    assert len(re.findall(r"^epoch +\d+ +env steps +\d+ .* time/sps \d+\.\d$", out, re.M)) == 2
    assert_no_masked_action(out, at_least=128)


@pytest.mark.parametrize(
    "example, missing, install",
    [
        ("tianshou_ppo.py", "tianshou", 'pip install -c constraints.txt -e ".[clients]"'),
        ("torchrl_ppo.py", "torchrl", 'pip install -c constraints.txt -e ".[clients]"'),
        ("torchrl_ppo.py", "tensordict", 'pip install -c constraints.txt -e ".[clients]"'),
        ("rllib_ppo.py", "ray", '.venv-rllib/bin/pip install -c constraints-rllib.txt -e ".[rllib]"'),
        ("maskable_ppo.py", "sb3_contrib", 'pip install -c constraints.txt -e ".[agents]"'),
        ("cleanrl_ppo.py", "torch", 'pip install -c constraints.txt -e ".[agents]"'),
    ],
)
def test_an_example_without_its_library_says_how_to_install_it_in_one_line(example, missing, install):
    # `sys.modules[name] = None` makes `import name` raise ModuleNotFoundError, as if not installed.
    path = str(ROOT / "examples" / example)
    code = (f"import runpy, sys; sys.modules[{missing!r}] = None; sys.argv = [{path!r}]; "
            f"runpy.run_path({path!r}, run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {missing} is not installed: "), lines
    assert install in lines[0]


@pytest.mark.parametrize("example, config", [("cleanrl_ppo.py", "Args"), ("torchrl_ppo.py", "Config"),
                                             ("tianshou_ppo.py", "Config")])  # fmt: skip
def test_the_examples_default_to_the_shipped_corpus(example, config):
    # Another default size would generate a corpus (minutes) on first run instead of loading the shipped one.
    import runpy

    from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE

    module = runpy.run_path(str(ROOT / "examples" / example))  # not "__main__": defines, runs nothing
    assert module[config]().corpus_size == DEFAULT_CORPUS_SIZE
