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


def graph_takes_dict_nodes() -> bool:
    """gymnasium >= 1.4 (what constraints.txt pins); 1.2.2 (constraints-rllib.txt) does not."""
    try:
        Graph(node_space=gym.spaces.Dict({"a": gym.spaces.Discrete(2)}), edge_space=None)
    except AssertionError:
        return False
    return True


needs_dict_graph = pytest.mark.skipif(
    not graph_takes_dict_nodes(), reason=f"gymnasium {gym.__version__}: Graph takes no Dict node space (needs 1.4)"
)


def checker_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "different from the unwrapped version" not in str(w.message)]


# ----------------------------------------------------------------------------- Graph


@needs_dict_graph
@pytest.mark.parametrize("action_mode", MODES)
def test_graph_wrapper_passes_check_env(action_mode, capsys):
    env = GraphObservation(make(action_mode=action_mode))
    assert isinstance(env.observation_space, Graph)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)  # with a spec: also rebuilt, wrapper included, for each render mode
    assert checker_warnings(caught) == []
    assert env.spec.additional_wrappers[-1].name == "GraphObservation"


@needs_dict_graph
def test_graph_wrapper_passes_check_env_on_a_one_node_program():
    env = GraphObservation(make_env([TASKS[-1]]))  # "x": one node, no edges
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    assert checker_warnings(caught) == []
    obs, _ = env.reset(seed=0)
    assert obs.nodes["tokens"].shape == (1,) and obs.edges.shape == (0,) and obs.edge_links.shape == (0, 2)


@needs_dict_graph
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


@pytest.mark.skipif(graph_takes_dict_nodes(), reason="gymnasium >= 1.4 has Graphs with Dict node spaces")
def test_graph_wrapper_says_which_gymnasium_it_needs():
    with pytest.raises(RuntimeError, match="gymnasium>=1.4"):
        GraphObservation(make())


def test_graph_wrapper_refuses_other_observations():
    with pytest.raises(TypeError):
        GraphObservation(gym.make("CartPole-v1"))


@needs_dict_graph
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


LIBRARY_OPTIONS = {
    "default": {},
    "nested": {"observations_key": "observations"},
    "rllib": {"observations_key": "observations", "flatten": True},
    "torchrl": {"layout": "auto", "dtype": "bool"},
    "tianshou": {"key": "mask", "observations_key": "obs", "layout": "auto", "dtype": "bool"},
    "per_node": {"layout": "per_node"},
}
"""The wrapper's docstring's one line per library, and the other layouts."""


@pytest.mark.parametrize("action_mode", MODES)
@pytest.mark.parametrize("options", LIBRARY_OPTIONS.values(), ids=LIBRARY_OPTIONS.keys())
def test_action_mask_wrapper_passes_check_env(action_mode, options):
    env = ActionMaskObservation(make(action_mode=action_mode), **options)
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


@pytest.mark.parametrize("action_mode", MODES)
@pytest.mark.parametrize("options", LIBRARY_OPTIONS.values(), ids=LIBRARY_OPTIONS.keys())
def test_action_mask_in_every_layout_is_the_action_masks(action_mode, options):
    env = ActionMaskObservation(make(action_mode=action_mode, corruption=(0.2, 1.0)), **options)
    key, layout = options.get("key", "action_mask"), options.get("layout", "flat")
    per_node = layout == "per_node" or (layout == "auto" and action_mode == "rewrite")
    shape = (MAX_NODES, V) if per_node else (MAX_NODES * V,)
    dtype = np.dtype(options.get("dtype", "int8"))
    assert env.observation_space[key].shape == shape and env.observation_space[key].dtype == dtype
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    for _ in range(20):
        assert obs in env.observation_space
        mask = obs[key]
        assert mask.shape == shape and mask.dtype == dtype
        assert np.array_equal(mask.reshape(-1).astype(bool), env.get_wrapper_attr("action_masks")())
        if per_node == (action_mode == "rewrite"):  # "auto": a masked argmax over the last axis is an action
            action = np.where(mask.astype(bool), rng.random(shape), -1.0).argmax(-1)
            assert env.action_space.contains(action if per_node else int(action))
        obs, _, terminated, truncated, _ = env.step(masked_action(mask.reshape(-1), action_mode, MAX_NODES, rng))
        if terminated or truncated:
            obs, _ = env.reset()


def test_flattened_observation_is_gymnasiums_flatten_as_float32():
    plain = ActionMaskObservation(make(), observations_key="observations")
    flat = ActionMaskObservation(make(), observations_key="observations", flatten=True)
    inner = plain.observation_space["observations"]
    space = flat.observation_space["observations"]
    assert space.dtype == np.float32 and space.shape == (gym.spaces.flatdim(inner),)
    a, _ = plain.reset(seed=3)
    b, _ = flat.reset(seed=3)
    for _ in range(3):
        expected = gym.spaces.flatten(inner, a["observations"]).astype(np.float32)
        assert b["observations"].dtype == np.float32 and np.array_equal(b["observations"], expected)
        assert b in flat.observation_space
        action = flat.action_space.sample(mask=flat.unwrapped.sample_mask())
        a, b = plain.step(action)[0], flat.step(action)[0]


def test_action_mask_wrapper_refuses_bad_arguments():
    with pytest.raises(ValueError):
        ActionMaskObservation(ActionMaskObservation(make()))
    with pytest.raises(ValueError):
        ActionMaskObservation(make(), observations_key="action_mask")
    with pytest.raises(ValueError, match="layout"):
        ActionMaskObservation(make(), layout="rows")
    with pytest.raises(ValueError, match="observations_key"):
        ActionMaskObservation(make(), flatten=True)
    with pytest.raises(ValueError, match="dtype"):
        ActionMaskObservation(make(), dtype="float32")
    with pytest.raises(ValueError, match="'tokens'"):
        ActionMaskObservation(make(), key="tokens")
    with pytest.raises(TypeError):
        ActionMaskObservation(gym.make("CartPole-v1"))


def test_wrapped_envs_pickle():
    env = ActionMaskObservation(make(action_mode="edit"))
    env.reset(seed=0)
    clone = pickle.loads(pickle.dumps(env))
    action = int(np.flatnonzero(env.get_wrapper_attr("action_masks")())[0])
    a, b = env.step(action), clone.step(action)
    assert np.array_equal(a[0]["action_mask"], b[0]["action_mask"]) and a[1] == b[1]
