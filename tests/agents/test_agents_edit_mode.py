"""Edit mode in every policy (issue 23): each allowed edit changes the program.

The env's edit-mode `action_masks()` leaves out each node's current token; our PPO/REINFORCE
(`agents.acting.policy.action_distribution`), the imitation loss, the uniform policy and the SB3 policies
apply the same mask, computed from the observation (`agents.nn.distribution.edit_mask`). A supervised
policy is most confident in a node's current token, so under the old mask its greedy edit was no
edit at all: here the shipped checkpoint's greedy edit changes the program on the first step of
every episode (the RLlib module's version of these checks is in tests/agents/test_rllib.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from env_tasks import TASKS, make_env
from repo_root import ROOT

from agents.acting.policy import GraphPolicy, UniformPolicy, action_distribution
from agents.nn.batching import stack_observations, to_tensors
from agents.nn.checkpoint import load_checkpoint
from agents.nn.distribution import HOLE_LOG_PROB, edit_mask, edit_scores
from agents.nn.network import ModelConfig, RefineNet
from agents.training.losses import edit_imitation_loss
from progrefine_env.env import ProgramRefineEnv
from progrefine_env.lang import VOCAB_SIZE
from progrefine_env.tasks.io import load_tasks

CHECKPOINT = ROOT / "checkpoints" / "scheduled_sampling.pt"
GENERATED = ROOT / "benchmarks" / "tasks" / "generated_test_200.jsonl"


def states(corruption_mode: str = "mask", count: int = 40, seed: int = 0):
    """(observations, env masks) along masked random edit-mode play on the hand-written tasks."""
    env = make_env(action_mode="edit", corruption_mode=corruption_mode, corruption=(0.1, 1.0))
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    observations, masks = [], []
    for _ in range(count):
        observations.append(obs)
        masks.append(info["action_mask"])
        obs, _, terminated, truncated, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
        if terminated or truncated:
            obs, info = env.reset()
    return stack_observations(observations), np.stack(masks)


@pytest.mark.parametrize("corruption_mode", ["mask", "noise"])
def test_the_torch_edit_mask_is_the_envs_action_mask(corruption_mode):
    obs, masks = states(corruption_mode)
    tensors = to_tensors(obs)
    allowed = edit_mask(tensors["grammar_mask"], tensors["tokens"], tensors["node_mask"])
    assert torch.equal(allowed.flatten(1), torch.as_tensor(masks))
    # SB3 hands the network float observations: the same mask from floats.
    floats = {k: v.float() for k, v in tensors.items()}
    assert torch.equal(edit_mask(floats["grammar_mask"], floats["tokens"], floats["node_mask"]), allowed)
    # ... and a sample where no edit exists gets the env's stop (the root's current token) alone.
    grammar = torch.zeros_like(tensors["grammar_mask"][:1])
    grammar[0, torch.arange(grammar.shape[1]), tensors["tokens"][0]] = 1
    only = edit_mask(grammar, tensors["tokens"][:1], tensors["node_mask"][:1]).flatten(1)
    assert only.nonzero().tolist() == [[0, int(tensors["tokens"][0, 0])]]


def test_graph_policy_and_uniform_policy_act_only_inside_the_env_mask():
    obs, masks = states("noise")
    model = RefineNet(ModelConfig(hidden=16, layers=1))
    tensors = to_tensors(obs)
    dist = action_distribution(model(tensors).logits, tensors, "edit")
    assert torch.equal(dist.mask, torch.as_tensor(masks))
    policy, rows = GraphPolicy(model, "edit"), np.arange(len(masks))
    generator = torch.Generator().manual_seed(0)
    for seed in range(10):
        for acting in (policy, UniformPolicy("edit")):
            actions = acting.act(obs, deterministic=seed == 0 and acting is policy, generator=generator).actions
            assert masks[rows, actions].all()


def test_the_edit_imitation_loss_scores_within_the_same_mask():
    obs, masks = states()
    tensors = to_tensors(obs)
    logits = torch.randn(*tensors["grammar_mask"].shape)
    targets = torch.as_tensor([int(np.flatnonzero(m)[0]) for m in masks])
    scores = edit_scores(logits, tensors["grammar_mask"], tensors["tokens"], tensors["node_mask"])
    expected = -torch.log_softmax(scores.flatten(1).masked_fill(~torch.as_tensor(masks), -1e8), -1)
    assert torch.allclose(edit_imitation_loss(logits, tensors, targets), expected.gather(1, targets[:, None]).mean())


def first_states(tasks, corruption: float, count: int):
    """(env, seed, task index, first observation) of `count` edit-mode episodes, masks corrupted."""
    env = ProgramRefineEnv(tasks=tasks, action_mode="edit", corruption=corruption)
    starts = []
    for k in range(count):
        obs, _ = env.reset(seed=k, options={"task_index": k % len(tasks)})
        assert obs["masked"].any()
        starts.append((k, k % len(tasks), obs))
    return env, starts


def assert_first_steps_edit(env, starts, actions) -> None:
    for (seed, index, _), action in zip(starts, actions):
        env.reset(seed=seed, options={"task_index": index})
        before = env.program
        _, _, _, truncated, info = env.step(int(action))
        assert env.program != before and info["nodes_changed"] == 1 and info["invalid_edits"] == 0, (seed, index)
        assert not truncated


@pytest.mark.parametrize("corruption", [0.25, 0.5, 1.0])
def test_the_warm_started_greedy_edit_policy_changes_the_program_on_its_first_step(corruption):
    tasks = load_tasks(GENERATED)[:40]
    env, starts = first_states(tasks, corruption, 40)
    model, _ = load_checkpoint(CHECKPOINT)
    actions = GraphPolicy(model, "edit").act(stack_observations([o for *_, o in starts]), deterministic=True).actions
    assert_first_steps_edit(env, starts, actions)
    # ... and it fills a hole first (edit_scores: keeping a hole is worth nothing), as a round does
    for (*_, obs), action in zip(starts, actions):
        assert obs["masked"][int(action) // VOCAB_SIZE]


def test_edit_scores_compare_each_edit_with_keeping_the_node():
    logits = torch.tensor([[[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]]])  # 2 nodes, 3 tokens
    grammar = torch.tensor([[[1, 1, 1], [0, 1, 1]]])  # node 1 holds token 0, outside its mask: a hole
    tokens, nodes = torch.tensor([[1, 0]]), torch.ones(1, 2)
    scores = edit_scores(logits, grammar, tokens, nodes)
    per_node = torch.log_softmax(logits[0, 0], -1)
    assert torch.allclose(scores[0, 0], per_node - per_node[1])  # against the current token
    hole = torch.log_softmax(logits[0, 1, 1:], -1)
    assert torch.allclose(scores[0, 1, 1:], hole - HOLE_LOG_PROB)  # against a hole's worthless "keep"
    dist = action_distribution(logits, {"grammar_mask": grammar, "tokens": tokens, "node_mask": nodes}, "edit")
    assert dist.mode().item() // 3 == 1  # the hole is filled before the settled node changes


@pytest.mark.parametrize("algo", ["maskable", "ppo"])
def test_the_warm_started_sb3_policy_edits_greedily_too(algo):
    pytest.importorskip("sb3_contrib")
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO

    from agents.integrations.sb3_policy import GraphActorCriticPolicy, MaskableGraphPolicy, warm_start

    cls, policy_cls = {"maskable": (MaskablePPO, MaskableGraphPolicy), "ppo": (PPO, GraphActorCriticPolicy)}[algo]
    model_config = load_checkpoint(CHECKPOINT)[0].config
    env, starts = first_states(TASKS, 0.5, 2 * len(TASKS))
    model = cls(policy_cls, env, n_steps=8, batch_size=8, device="cpu", policy_kwargs={"model_config": model_config})
    warm_start(model.policy, CHECKPOINT)
    batch = stack_observations([o for *_, o in starts])
    extra = {}
    if algo == "maskable":  # the env's masks, as MaskablePPO's evaluation passes them
        masks = []
        for seed, index, _ in starts:
            env.reset(seed=seed, options={"task_index": index})
            masks.append(env.action_masks())
        extra["action_masks"] = np.stack(masks)
    actions, _ = model.predict(batch, deterministic=True, **extra)
    assert_first_steps_edit(env, starts, actions)
