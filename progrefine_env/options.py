"""The environment's arguments and `reset` options: the values each may take, and the checks that
refuse anything else with a message that says why (`corruption` itself: `corruption.validate_corruption`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import picture
from .corruption import CORRUPTION_MODES, validate_corruption
from .lang.brief import brief

ACTION_MODES = ("rewrite", "edit")
RESET_OPTIONS = ("task_index", "corruption")
REWARDS = ("delta", "sparse")
INVALID_EDITS = ("ignore", "apply")


class UnsupportedRenderMode(ValueError, TypeError):
    """A render mode the environment does not have. Also a TypeError, the error by which
    Stable-Baselines3's `make_vec_env` (which asks for "rgb_array" unless told otherwise) knows to
    make the environment again without a render mode."""


def check_arguments(
    action_mode: str,
    reward: str,
    invalid_edits: str,
    corruption_mode: str,
    render_mode: str | None,
    render_modes: Sequence[str],
    max_steps: int | None,
) -> None:
    """`ProgramRefineEnv`'s choices and `max_steps`, checked; `render_modes`: the env's metadata's."""
    check_choice("action_mode", action_mode, ACTION_MODES)
    check_choice("reward", reward, REWARDS)
    check_choice("invalid_edits", invalid_edits, INVALID_EDITS)
    check_choice("corruption_mode", corruption_mode, CORRUPTION_MODES)
    if render_mode not in (None, *render_modes):
        raise UnsupportedRenderMode(f"render_mode={render_mode!r} is not one of {[None, *render_modes]}")
    if render_mode == "rgb_array" and not picture.matplotlib_available():
        raise UnsupportedRenderMode("render_mode='rgb_array' draws with matplotlib: pip install matplotlib")
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, got {max_steps}")


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {list(choices)}")


def reset_options(
    options: Mapping[str, Any] | None, corruption: float | tuple[float, float], num_tasks: int
) -> tuple[int | None, float | tuple[float, float]]:
    """`reset`'s options, checked: the task index (None: draw one) and the corruption (the env's
    `corruption` where the options leave it out)."""
    if options is None:
        return None, corruption
    if not isinstance(options, Mapping):
        raise ValueError(f"reset options must be a dict, got {type(options).__name__}")
    unknown = sorted(map(str, set(options) - set(RESET_OPTIONS)))
    if unknown:
        raise ValueError(f"unknown reset option(s) {brief(unknown)}: reset takes {', '.join(RESET_OPTIONS)}")
    index = options.get("task_index")
    if index is not None:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < num_tasks:
            raise ValueError(f"reset option task_index must be an int in [0, {num_tasks}), got {brief(index)}")
        index = int(index)
    reset_corruption = options.get("corruption")
    if reset_corruption is None:
        return index, corruption
    try:
        return index, validate_corruption(reset_corruption)
    except ValueError as err:
        raise ValueError(f"reset option {err}") from None
