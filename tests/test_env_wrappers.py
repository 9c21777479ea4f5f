"""progrefine_env.wrappers: the Graph view of the state, and the action mask as an observation key."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from env_tasks import MAX_NODES, TASKS, make, make_env, masked_action
from gymnasium.spaces import Graph, GraphInstance
from gymnasium.utils.env_checker import check_env

from progrefine_env.lang import VOCAB_SIZE
from progrefine_env.wrappers import ActionMaskObservation, GraphObservation

MODES = ("rewrite", "edit")
V = VOCAB_SIZE


def checker_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "different from the unwrapped version" not in str(w.message)]


# ----------------------------------------------------------------------------- Graph


@pytest.mark.parametrize("action_mode", MODES)
def test_graph_wrapper_passes_check_env(action_mode, capsys):
    env = GraphObservation(make(action_mode=action_mode))
    assert isinstance(env.observation_space, Graph)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)  # with a spec: also rebuilt, wrapper included, for each render mode
    assert checker_warnings(caught) == []
    assert env.spec.additional_wrappers[-1].name == "GraphObservation"


def test_graph_wrapper_passes_check_env_on_a_one_node_program():
    env = GraphObservation(make_env([TASKS[-1]]))  # "x": one node, no edges
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    assert checker_warnings(caught) == []
    obs, _ = env.reset(seed=0)
    assert obs.nodes["tokens"].shape == (1,) and obs.edges.shape == (0,) and obs.edge_links.shape == (0, 2)


@pytest.mark.parametrize("action_mode", MODES)
def test_graph_holds_the_same_state_as_the_padded_observation(action_mode):
    padded_env = make_env(action_mode=action_mode, corruption=(0.2, 1.0))
    graph_env = GraphObservation(make_env(action_mode=action_mode, corruption=(0.2, 1.0)))
    rng = np.random.default_rng(0)
    padded, _ = padded_env.reset(seed=4)
    graph, _ = graph_env.reset(seed=4)
    for _ in range(40):
        assert isinstance(graph, GraphInstance)
        n, m = int(padded["node_mask"].sum()), int(padded["edge_mask"].sum())
        nodes = graph.nodes
        for key in ("tokens", "prev_tokens", "masked", "arity", "depth", "position", "expected_type", "type_conflict"):
            assert nodes[key].dtype == np.int64 and np.array_equal(nodes[key], padded[key][:n]), key
        assert np.array_equal(nodes["fault"], np.stack([padded["node_failure"][:n], padded["node_suspicion"][:n]], 1))
        assert np.array_equal(nodes["node_values"], padded["node_values"][:n])
        assert np.array_equal(nodes["grammar_mask"], padded["grammar_mask"][:n])
        for key in ("test_mask", "test_outcome", "expected_output", "test_inputs"):
            assert nodes[key].shape == (n, *padded[key].shape)
            assert (nodes[key] == padded[key]).all(), key
        assert np.array_equal(graph.edges, padded["edge_type"][:m])
        assert graph.edge_links.shape == (m, 2) and np.array_equal(graph.edge_links.T, padded["edge_index"][:, :m])
        action = masked_action(padded_env.action_masks(), action_mode, MAX_NODES, rng)
        assert np.array_equal(padded_env.action_masks(), graph_env.get_wrapper_attr("action_masks")())
        padded, _, terminated, truncated, _ = padded_env.step(action)
        graph, _, terminated_g, truncated_g, _ = graph_env.step(action)
        assert (terminated, truncated) == (terminated_g, truncated_g)
        if terminated or truncated:
            padded, _ = padded_env.reset()
            graph, _ = graph_env.reset()
    assert graph in graph_env.observation_space


def test_graph_wrapper_refuses_other_observations():
    with pytest.raises(TypeError):
        GraphObservation(gym.make("CartPole-v1"))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_graph_wrapper_in_vector_envs(mode):
    kwargs = {"shared_memory": False} if mode == "async" else {}
    envs = gym.make_vec(
        "ProgramRefine-v0", num_envs=2, vectorization_mode=mode, wrappers=[GraphObservation],
        vector_kwargs=kwargs, tasks=TASKS, max_nodes=MAX_NODES, max_tests=4,
    )  # fmt: skip
    try:
        obs, infos = envs.reset(seed=0)
        assert isinstance(obs, tuple) and len(obs) == 2 and all(isinstance(g, GraphInstance) for g in obs)
        for _ in range(5):
            obs, rewards, terminated, truncated, infos = envs.step(envs.action_space.sample())
        assert rewards.shape == (2,) and all(isinstance(g, GraphInstance) for g in obs)
    finally:
        envs.close()


# ----------------------------------------------------------------------------- action_mask key


@pytest.mark.parametrize("action_mode", MODES)
@pytest.mark.parametrize("observations_key", [None, "observations"])
def test_action_mask_wrapper_passes_check_env(action_mode, observations_key):
    env = ActionMaskObservation(make(action_mode=action_mode), observations_key=observations_key)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    assert checker_warnings(caught) == []
    rebuilt = env.spec.make()  # the wrapper and its argument are in the spec
    assert isinstance(rebuilt, ActionMaskObservation) and rebuilt.observation_space == env.observation_space


@pytest.mark.parametrize("action_mode", MODES)
def test_action_mask_key_is_the_action_masks_in_the_action_space_layout(action_mode):
    env = ActionMaskObservation(make(action_mode=action_mode, corruption=(0.2, 1.0)))
    space = env.observation_space["action_mask"]
    size = MAX_NODES * V
    assert space.shape == (size,) and space.dtype == np.int8
    if action_mode == "edit":
        assert env.action_space.n == size
    else:
        assert int(env.action_space.nvec.sum()) == size
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    for _ in range(40):
        mask = obs["action_mask"]
        assert mask.dtype == np.int8 and mask.shape == (size,)
        assert np.array_equal(mask.astype(bool), env.get_wrapper_attr("action_masks")())
        assert np.array_equal(mask.astype(bool), info["action_mask"])
        action = masked_action(mask, action_mode, MAX_NODES, rng)
        if action_mode == "edit":
            assert mask[action] == 1
        else:
            assert mask.reshape(MAX_NODES, V)[np.arange(MAX_NODES), action].all()
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            obs, info = env.reset()


def test_action_mask_nested_layout_of_rllib():
    env = ActionMaskObservation(make(), observations_key="observations")
    assert set(env.observation_space.spaces) == {"action_mask", "observations"}
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"action_mask", "observations"} and "tokens" in obs["observations"]
    assert obs in env.observation_space


def test_action_mask_wrapper_refuses_bad_arguments():
    with pytest.raises(ValueError):
        ActionMaskObservation(ActionMaskObservation(make()))
    with pytest.raises(ValueError):
        ActionMaskObservation(make(), observations_key="action_mask")
    with pytest.raises(TypeError):
        ActionMaskObservation(gym.make("CartPole-v1"))


def test_wrapped_envs_pickle():
    env = ActionMaskObservation(make(action_mode="edit"))
    env.reset(seed=0)
    clone = pickle.loads(pickle.dumps(env))
    action = int(np.flatnonzero(env.get_wrapper_attr("action_masks")())[0])
    a, b = env.step(action), clone.step(action)
    assert np.array_equal(a[0]["action_mask"], b[0]["action_mask"]) and a[1] == b[1]
