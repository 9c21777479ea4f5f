"""Wrappers that present ProgramRefine-v0's state in the shapes other tools expect.

    import gymnasium as gym
    import progrefine_env
    from progrefine_env.wrappers import ActionMaskObservation, GraphObservation

    env = GraphObservation(gym.make("ProgramRefine-v0"))        # a gymnasium.spaces.Graph
    env = ActionMaskObservation(gym.make("ProgramRefine-v0"))   # adds obs["action_mask"]

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
    padded observation's `edge_index`, and `nodes["grammar_mask"]` is the padded observation's
    `grammar_mask` cut to the real nodes (`env.action_masks()` in `rewrite` mode; `edit` mode's
    action mask also leaves out each node's current token: `progrefine_env.env.edit_mask`).

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
    * Needs gymnasium>=1.4 (earlier `Graph`s take only a `Box` or `Discrete` node space; RLlib's
      constraints hold gymnasium at 1.2.2): a RuntimeError says so.
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
        try:
            self.observation_space = spaces.Graph(
                node_space=spaces.Dict(node_spaces), edge_space=spaces.Discrete(len(EDGE_TYPES))
            )
        except AssertionError as error:  # gymnasium < 1.4 asserts that node_space is a Box or Discrete
            raise RuntimeError(
                f"GraphObservation needs gymnasium>=1.4 (a Graph with Dict node features); this is "
                f"gymnasium {gym.__version__}. The padded Dict observation works on either."
            ) from error

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
    """Adds the action mask as an observation key, in the key, layout and nesting a library reads.

    One line per library (`env` made with `gym.make("ProgramRefine-v0", ...)`):

    * RLlib's action-masking module:
      `ActionMaskObservation(env, observations_key="observations", flatten=True)`
    * TorchRL's `ActionMask` transform: `ActionMaskObservation(env, layout="auto", dtype="bool")`
    * Tianshou's masked policies (`obs.mask`, `obs.obs`):
      `ActionMaskObservation(env, key="mask", observations_key="obs", layout="auto", dtype="bool")`

    The mask is `env.action_masks()` (1 where the action is allowed: the grammar masks in `rewrite`
    mode; in `edit` mode also without each node's current token, so every allowed edit changes the
    program), laid out as `layout` says:

    * `"flat"` (default): `max_nodes * V` values, node-major (`node * V + token`). For `edit` mode
      (`Discrete(max_nodes * V)`) the mask of the one categorical; for `rewrite`
      (`MultiDiscrete([V] * max_nodes)`) the per-node masks concatenated, as sb3-contrib's
      MaskablePPO and RLlib's action-masking example module (logits concatenated) take them.
    * `"per_node"`: `[max_nodes, V]`, one row per node (in `edit` mode padded nodes' rows are 0).
    * `"auto"`: per node for `rewrite` mode, flat for `edit` mode: the shape of the action space's
      one-hot encoding (TorchRL's action spec `[max_nodes, V]` or `[max_nodes * V]`), so that a
      masked argmax over the last axis is a valid action in both modes (Tianshou's policies).

    Args:
        env: a ProgramRefine-v0 environment (possibly wrapped) with a Dict observation.
        observations_key: None (default) adds the mask beside the other keys. A name (RLlib's
            module reads `"observations"`, Tianshou `"obs"`) nests the rest of the observation under
            that key instead: `{key: mask, observations_key: ...}`.
        key: the mask's key (default `"action_mask"`).
        layout: `"flat"`, `"per_node"` or `"auto"` (above).
        flatten: with `observations_key`, the rest of the observation becomes one float32 vector
            (every key, in the Dict space's sorted order, raveled: `gymnasium.spaces.flatten`'s
            order), for libraries whose default networks take only a flat `Box` (RLlib).
        dtype: the mask's dtype, `"int8"` (default) or `"bool"` (Tianshou inverts it with `~`,
            which needs booleans). A string, so that the env's spec stays JSON-serialisable.
    """

    def __init__(
        self,
        env: gym.Env,
        observations_key: str | None = None,
        key: str = "action_mask",
        layout: str = "flat",
        flatten: bool = False,
        dtype: str = "int8",
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, observations_key=observations_key, key=key, layout=layout, flatten=flatten, dtype=dtype
        )
        gym.ObservationWrapper.__init__(self, env)
        inner = env.observation_space
        _check_mask_options(inner, observations_key, key, layout, flatten, dtype)
        self.observations_key, self.key, self.flatten = observations_key, key, flatten
        self.mask_dtype = np.dtype(dtype)
        self.mask_shape = _mask_shape(env, layout)
        mask_space = spaces.Box(0, 1, shape=self.mask_shape, dtype=self.mask_dtype)
        if observations_key is None:
            self.observation_space = spaces.Dict({**inner.spaces, key: mask_space})
            return
        if flatten:
            self._flat_keys = list(inner.spaces)  # Dict keeps its keys sorted
            self._flat_sizes = [int(np.prod(inner[k].shape)) for k in self._flat_keys]
            inner = spaces.Box(
                low=np.concatenate([inner[k].low.ravel() for k in self._flat_keys]).astype(np.float32),
                high=np.concatenate([inner[k].high.ravel() for k in self._flat_keys]).astype(np.float32),
                dtype=np.float32,
            )
        self.observation_space = spaces.Dict({key: mask_space, observations_key: inner})

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        mask = self.env.get_wrapper_attr("action_masks")().reshape(self.mask_shape)
        mask = mask.astype(self.mask_dtype, copy=False)
        if self.observations_key is None:
            return {**observation, self.key: mask}
        if self.flatten:
            observation = self._flattened(observation)
        return {self.key: mask, self.observations_key: observation}

    def _flattened(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        """One float32 vector: a loop over the ~20 keys, never over nodes."""
        flat = np.empty(sum(self._flat_sizes), dtype=np.float32)
        start = 0
        for k, size in zip(self._flat_keys, self._flat_sizes):
            flat[start : start + size] = observation[k].ravel()
            start += size
        return flat


_LAYOUTS = ("flat", "per_node", "auto")


def _check_mask_options(inner: spaces.Space, observations_key, key, layout, flatten, dtype) -> None:
    """One clear error for each ActionMaskObservation argument that cannot work."""
    if not isinstance(inner, spaces.Dict):
        raise TypeError(f"ActionMaskObservation needs a Dict observation space, got {inner}")
    if observations_key is None and key in inner.spaces:
        raise ValueError(f"the observation already has a {key!r} key")
    if observations_key == key:
        raise ValueError(f"observations_key and key must differ, both are {key!r}")
    if layout not in _LAYOUTS:
        raise ValueError(f"layout={layout!r} is not one of {list(_LAYOUTS)}")
    if flatten and observations_key is None:
        raise ValueError("flatten=True needs observations_key (the name of the flat vector)")
    if flatten and not all(isinstance(s, spaces.Box) for s in inner.spaces.values()):
        raise TypeError("flatten=True needs an observation Dict of Boxes (ProgramRefine-v0's own)")
    if dtype not in ("int8", "bool", np.int8, bool, np.bool_):
        raise ValueError(f"dtype must be 'int8' or 'bool', got {dtype!r}")


def _mask_shape(env: gym.Env, layout: str) -> tuple[int, ...]:
    space = env.action_space
    if isinstance(space, spaces.Discrete):
        size = int(space.n)
        per_node = layout == "per_node"
    elif isinstance(space, spaces.MultiDiscrete):
        size = int(space.nvec.sum())
        per_node = layout in ("per_node", "auto")
    else:
        raise TypeError(f"ActionMaskObservation needs a Discrete or MultiDiscrete action space, got {space}")
    if not per_node:
        return (size,)
    nodes = int(env.get_wrapper_attr("max_nodes"))
    return (nodes, size // nodes)
