"""Actions in both modes: the action spaces, decoding an action into token edits, applying the
edits (`invalid_edits`), and the action masks (`action_masks()`, `sample_mask()`, `edit_mask`).
The manual (`ProgramRefineEnv`'s docstring, Action Space) says what they mean."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from .lang import ARITY, MASK, PAD, VOCAB_SIZE, Program
from .lang.incremental import recheck
from .lang.types import TypeInfo


def action_space(action_mode: str, max_nodes: int) -> spaces.Space:
    """`rewrite`: a token for every node; `edit`: one edit, `node * V + token`."""
    if action_mode == "rewrite":
        return spaces.MultiDiscrete(np.full(max_nodes, VOCAB_SIZE, dtype=np.int64))
    return spaces.Discrete(max_nodes * VOCAB_SIZE)


def decode(
    action, action_mode: str, space: spaces.Space, current: tuple[int, ...], max_nodes: int
) -> dict[int, int] | None:
    """{node: token} for every real node the action names (validated against `space`); None for
    `edit` mode's stop. `current`: the program's tokens."""
    n = len(current)
    if action_mode == "edit":
        # A plain int is checked here as `Discrete.contains` would, anything else by the space.
        plain = type(action) is int and 0 <= action < space.n
        if not plain and not space.contains(action):
            raise ValueError(f"action {action!r} is outside the action space {space}")
        node, token = divmod(int(action), VOCAB_SIZE)
        if node >= n:
            return {}  # padded slots are ignored
        # A node's current token is the stop (None): nothing changes and the episode ends.
        return None if token == current[node] else {node: token}
    array = np.asarray(action)
    if array.shape != (max_nodes,) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"action must be an integer array of shape ({max_nodes},), got {action!r}")
    if array.min() < 0 or array.max() >= VOCAB_SIZE:
        raise ValueError(f"action tokens must lie in [0, {VOCAB_SIZE}), got {action!r}")
    return {i: int(tok) for i, tok in enumerate(array[:n].tolist()) if tok != current[i]}


def apply_edits(
    current: Program, edits: dict[int, int], current_info: TypeInfo, invalid_edits: str
) -> tuple[Program, list[int], int, TypeInfo | None]:
    """The program after `edits`, the nodes that changed, how many edits were refused, and the
    new program's type information when it was computed on the way (else None).
    `current_info`: the current program's type information (its grammar masks)."""
    arities = current.arities
    shaped = {i: t for i, t in edits.items() if t not in (PAD, MASK) and ARITY[t] == arities[i]}
    invalid = len(edits) - len(shaped)
    if not shaped:
        return current, [], invalid, None
    proposal, info = current.replace(shaped), None
    if invalid_edits == "ignore":
        masks = current_info.masks
        allowed = {i: t for i, t in shaped.items() if (masks[i] >> t) & 1}
        # When every edit lies in its mask, keeping only those is keeping them all: no check.
        if len(allowed) < len(shaped):
            info = recheck(current_info, proposal)
            if not info.well_typed:
                invalid += len(shaped) - len(allowed)
                shaped, info = allowed, None
                proposal = current.replace(shaped) if shaped else current
    return proposal, sorted(shaped), invalid, info


def action_mask(action_mode: str, grammar: np.ndarray, tokens: np.ndarray, num_nodes: int) -> np.ndarray:
    """`action_masks()`: bool [N*V], node-major, from the program's padded grammar masks (int8
    [N, V]) and tokens [N]; `num_nodes`: its real nodes."""
    if action_mode == "edit":
        allowed = edit_mask(grammar, tokens, np.arange(len(tokens)) < num_nodes)
    else:
        allowed = grammar.view(bool).copy()
    return allowed.reshape(-1)


def edit_mask(grammar_mask: np.ndarray, tokens: np.ndarray, node_mask: np.ndarray) -> np.ndarray:
    """`edit` mode's action mask (`action_masks()` as `[..., N, V]`) from an observation's arrays:
    the grammar mask of the real nodes without each node's current token, so that every allowed
    edit changes the program. Where that leaves nothing, the stop (the root's current token) alone.

    Shapes: grammar_mask [..., N, V]; tokens, node_mask [..., N]; returns bool [..., N, V].
    (`agents.nn.distribution.edit_mask` is the same rule in torch.)"""
    tokens = np.asarray(tokens).astype(np.int64)
    allowed = np.asarray(grammar_mask).astype(bool) & np.asarray(node_mask).astype(bool)[..., None]
    current = np.arange(allowed.shape[-1]) == tokens[..., None]
    allowed &= ~current
    empty = ~allowed.reshape(*allowed.shape[:-2], -1).any(-1)
    allowed[..., 0, :] |= empty[..., None] & current[..., 0, :]
    return allowed


def sample_mask(action_mode: str, mask: np.ndarray, max_nodes: int) -> np.ndarray | tuple[np.ndarray, ...]:
    """`mask` (a fresh `action_masks()`) in the form `action_space.sample(mask=...)` takes."""
    mask = mask.view(np.int8)  # bool and int8 share their bytes: no copy
    if action_mode == "edit":
        return mask
    return tuple(mask.reshape(max_nodes, VOCAB_SIZE))
