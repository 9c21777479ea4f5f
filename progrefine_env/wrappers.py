"""Wrappers that present ProgramRefine-v0's state in the shapes other tools expect.

    import gymnasium as gym
    import progrefine_env
    from progrefine_env.wrappers import ActionMaskObservation, GraphObservation

    env = GraphObservation(gym.make("ProgramRefine-v0"))        # a gymnasium.spaces.Graph
    env = ActionMaskObservation(gym.make("ProgramRefine-v0"))   # adds obs["action_mask"] (RLlib)

Both are `gymnasium.ObservationWrapper`s that record their constructor arguments, so an env made
through `gym.make` keeps a spec that `env.spec.make()` can rebuild. Neither changes the action space,
the rewards or `info`; `env.get_wrapper_attr("action_masks")()` (what sb3-contrib calls) still
reaches the environment's masks through them.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.spaces import GraphInstance

from .graph import EDGE_TYPES

__all__ = ["ActionMaskObservation", "GraphObservation"]

# How GraphObservation lays out each key of the padded observation (the env's `_observation_spaces`).
_SCALAR_NODE_KEYS = ("tokens", "prev_tokens", "masked", "arity", "depth", "position", "expected_type", "type_conflict")
"""Integer per-node scalars: each becomes a `Discrete` node feature (a node's value is one int)."""
_FAULT_KEYS = ("node_failure", "node_suspicion")
"""Float per-node scalars, stacked into the node feature `fault` of shape [2] in this order."""
_VECTOR_NODE_KEYS = ("node_values", "grammar_mask")
"""Per-node arrays, kept as they are: node_values [T, F], grammar_mask [V]."""
_TEST_KEYS = ("test_mask", "test_outcome", "expected_output", "test_inputs")
"""Per-episode test arrays: repeated on every node so that the graph alone carries the whole state."""
_EDGE_KEYS = ("edge_index", "edge_type", "edge_mask")
_DROPPED_KEYS = ("node_mask",)
"""Implied by the graph: every node of a GraphInstance is real."""


class GraphObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """The observation as a `gymnasium.spaces.Graph`: one node per program node, no padding.

    `observation_space = Graph(node_space=Dict(...), edge_space=Discrete(4))`; an observation is a
    `GraphInstance(nodes, edges, edge_links)` for a program of n nodes and m edges:

    * `nodes`: a dict of arrays whose first axis is the node (n rows), in pre-order:
      `tokens`, `prev_tokens`, `masked`, `arity`, `depth`, `position`, `expected_type`,
      `type_conflict` as int64 [n] (each a `Discrete` node feature); `fault` float32 [n, 2] =
      (node_failure, node_suspicion); `node_values` float32 [n, T, F]; `grammar_mask` int8 [n, V];
      and the episode's test arrays repeated on every node: `test_mask` int8 [n, T],
      `test_outcome` int64 [n, T], `expected_output` float32 [n, T, F], `test_inputs` float32
      [n, T, 3, F] (every row the same).
    * `edges`: int64 [m], the edge type (`progrefine_env.graph.EDGE_TYPES`: child, parent,
      sibling, binder).
    * `edge_links`: int64 [m, 2], (source, target) node indices.

    Everything in the padded Dict observation is here except `node_mask` (every node is real) and
    the padding; the test axis keeps its `max_tests` padding, marked by `test_mask`.
    Nodes and edges stay in the environment's order, so `edge_links` index the same nodes as the
    padded observation's `edge_index`, and `nodes["grammar_mask"]` is `env.action_masks()` cut to
    the real nodes (in `rewrite` mode; `edit` mode's mask is the same on real nodes).

    Limitations:

    * `gymnasium.utils.env_checker.check_env` passes on this wrapper, but for a `Graph` it can only
      test membership (`Graph.contains`, which checks every node and edge one by one: ~2 ms on a
      200-node graph, so this wrapper never calls it per step) and determinism; sampling the
      observation space (`Graph.sample`) gives random graphs, not programs.
    * Per-node scalars are `Discrete` node features, and the two float ones are stacked into
      `fault`, because `Graph.contains` checks a node's feature as a numpy scalar, which a
      shape-`()` `Box` accepts only with a "Casting input x to numpy array" warning.
    * No RL library trains on a `Graph` space directly (SB3, RLlib and CleanRL need fixed shapes),
      and Stable-Baselines3's own `check_env` stops at it: use the padded Dict observation there.
    * Gymnasium's vector environments batch a `Graph` as a tuple of `GraphInstance`s; the async one
      needs `shared_memory=False` (`gym.make_vec(..., vector_kwargs={"shared_memory": False})`).
    """

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        padded = env.observation_space
        if not isinstance(padded, spaces.Dict):
            raise TypeError(f"GraphObservation needs ProgramRefine-v0's Dict observation, got {padded}")
        known = (*_SCALAR_NODE_KEYS, *_FAULT_KEYS, *_VECTOR_NODE_KEYS, *_TEST_KEYS, *_EDGE_KEYS, *_DROPPED_KEYS)
        if set(padded.spaces) != set(known):
            raise ValueError(
                f"GraphObservation expects the observation keys {sorted(known)}, got {sorted(padded.spaces)}"
            )
        node_spaces: dict[str, spaces.Space] = {}
        for key in _SCALAR_NODE_KEYS:
            box = padded[key]
            low, high = int(box.low.min()), int(box.high.max())
            node_spaces[key] = spaces.Discrete(high - low + 1, start=low)
        fault = [padded[key] for key in _FAULT_KEYS]
        node_spaces["fault"] = spaces.Box(
            low=min(float(b.low.min()) for b in fault),
            high=max(float(b.high.max()) for b in fault),
            shape=(len(fault),),
            dtype=np.float32,
        )
        for key in (*_VECTOR_NODE_KEYS, *_TEST_KEYS):
            box = padded[key]
            shape = box.shape[1:] if key in _VECTOR_NODE_KEYS else box.shape
            node_spaces[key] = spaces.Box(float(box.low.min()), float(box.high.max()), shape, box.dtype)
        self.observation_space = spaces.Graph(
            node_space=spaces.Dict(node_spaces), edge_space=spaces.Discrete(len(EDGE_TYPES))
        )

    def observation(self, observation: dict[str, np.ndarray]) -> GraphInstance:
        n = int(observation["node_mask"].sum())
        nodes: dict[str, np.ndarray] = {}
        for key in _SCALAR_NODE_KEYS:
            nodes[key] = observation[key][:n].astype(np.int64)  # a copy, whatever the dtype
        nodes["fault"] = np.stack([observation[key][:n] for key in _FAULT_KEYS], axis=1)
        for key in _VECTOR_NODE_KEYS:
            nodes[key] = observation[key][:n].copy()
        for key in _TEST_KEYS:
            nodes[key] = np.repeat(observation[key][None], n, axis=0)
        real = observation["edge_mask"].astype(bool)
        edges = observation["edge_type"][real]
        edge_links = np.ascontiguousarray(observation["edge_index"][:, real].T)
        return GraphInstance(nodes=nodes, edges=edges, edge_links=edge_links)


class ActionMaskObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Adds the grammar mask in the layout of the action space as an observation key.

    `obs["action_mask"]` is an int8 array of `max_nodes * V` (node-major, `node * V + token`), 1
    where the action is allowed: exactly `env.action_masks()`. For `action_mode="edit"`
    (`Discrete(max_nodes * V)`) it masks the one categorical; for `rewrite`
    (`MultiDiscrete([V] * max_nodes)`) it is the per-node masks concatenated, as sb3-contrib's
    MaskablePPO takes them (reshape to `[max_nodes, V]` for one mask per node). This is the
    convention of RLlib's action-masking example module, which reads `action_mask` from a Dict
    observation.

    Args:
        env: a ProgramRefine-v0 environment (possibly wrapped) with a Dict observation.
        observations_key: None (default) adds `action_mask` beside the other keys. A name (RLlib's
            `ActionMaskingRLModule` uses `"observations"`) nests the original observation under
            that key instead: `{"action_mask": ..., "observations": {...}}`.
    """

    def __init__(self, env: gym.Env, observations_key: str | None = None) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, observations_key=observations_key)
        gym.ObservationWrapper.__init__(self, env)
        if not isinstance(env.observation_space, spaces.Dict):
            raise TypeError(f"ActionMaskObservation needs a Dict observation space, got {env.observation_space}")
        if "action_mask" in env.observation_space.spaces:
            raise ValueError("the observation already has an 'action_mask' key")
        if observations_key == "action_mask":
            raise ValueError("observations_key must differ from 'action_mask'")
        self.observations_key = observations_key
        size = self._action_masks_size(env)
        mask_space = spaces.Box(0, 1, shape=(size,), dtype=np.int8)
        if observations_key is None:
            self.observation_space = spaces.Dict({**env.observation_space.spaces, "action_mask": mask_space})
        else:
            self.observation_space = spaces.Dict({"action_mask": mask_space, observations_key: env.observation_space})

    @staticmethod
    def _action_masks_size(env: gym.Env) -> int:
        space = env.action_space
        if isinstance(space, spaces.Discrete):
            return int(space.n)
        if isinstance(space, spaces.MultiDiscrete):
            return int(space.nvec.sum())
        raise TypeError(f"ActionMaskObservation needs a Discrete or MultiDiscrete action space, got {space}")

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        mask = np.asarray(self.env.get_wrapper_attr("action_masks")(), dtype=np.int8)
        if self.observations_key is None:
            return {**observation, "action_mask": mask}
        return {"action_mask": mask, self.observations_key: observation}
