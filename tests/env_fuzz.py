"""A random-action stress driver for ProgramRefineEnv, shared by the fuzz tests and the long-run
memory check (benchmarks/memory.py).

It rotates over one environment per combination of the constructor options, an episode each,
and mixes action kinds: masked actions (edit mode: one edit inside `action_masks()`; rewrite
mode: a round drawn from the masks, or one node changed inside its mask), raw
`action_space.sample()`, and reset options (`corruption`, `task_index`). It counts what must never
happen instead of stopping at the first one, so that a long run reports totals:
exceptions, non-finite or out-of-range rewards, observations outside the observation space,
single masked edits that take a well-typed program to an ill-typed one, and edit-mode actions
inside `action_masks()` that leave the program as it was without being the stop (issue 23).

Not a test module (no `test_` prefix); imported by name, pytest puts this folder on sys.path.
"""

from __future__ import annotations

import itertools
import math
import traceback
from dataclasses import dataclass, field

import numpy as np

from progrefine_env.env import ACTION_MODES, INVALID_EDITS, REWARDS, ProgramRefineEnv
from progrefine_env.lang import VOCAB_SIZE, check

CORRUPTION_MODES = ("mask", "noise")
OPTION_GRID = [
    {"action_mode": a, "corruption_mode": c, "invalid_edits": i, "reward": r,
     "render_mode": "ansi" if k % 2 else None, "max_steps": 3 if k % 4 == 3 else None}
    for k, (a, c, i, r) in enumerate(itertools.product(ACTION_MODES, CORRUPTION_MODES, INVALID_EDITS, REWARDS))
]  # fmt: skip
"""Every combination of the constructor options that change the dynamics (16), half of them
rendering as text and a quarter truncating after 3 steps."""


@dataclass
class FuzzStats:
    """Totals of a run; `failures` keeps the first few descriptions of what went wrong.

    Attributes:
        steps: environment steps taken.
        episodes: episodes ended (terminated or truncated).
        exceptions: calls to reset/step/render/action_masks that raised.
        bad_rewards: rewards that were not finite or outside [-1, 2].
        outside_space: observations checked that lay outside the observation space.
        observations_checked: observations checked against the space.
        masked_edits: single masked edits made from a well-typed program.
        broke_types: of those, edits that left the program ill-typed.
        masked_edit_steps: edit-mode steps with an action inside `action_masks()`.
        idle_edits: of those, steps that changed nothing and were not the stop (the root's current
            token, which the mask offers only when no edit is possible; it ends the episode).
        failures: descriptions of the first failures (at most 10).
    """

    steps: int = 0
    episodes: int = 0
    exceptions: int = 0
    bad_rewards: int = 0
    outside_space: int = 0
    observations_checked: int = 0
    masked_edits: int = 0
    broke_types: int = 0
    masked_edit_steps: int = 0
    idle_edits: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.exceptions or self.bad_rewards or self.outside_space or self.broke_types or self.idle_edits)

    def fail(self, what: str) -> None:
        if len(self.failures) < 10:
            self.failures.append(what)


class Fuzzer:
    """Random masked and unmasked actions through one env per option combination.

    Args:
        tasks: the task source every environment gets (a list of `Task`s).
        seed: seeds the action choices and the environments' resets.
        check_every: check one observation against the space every this many steps (and at
            every reset); the check is slow compared with a step.
        configs: constructor options of each environment (default: `OPTION_GRID`).
        **common: options every environment gets (`max_nodes`, `max_tests`, ...).
    """

    def __init__(self, tasks, seed: int = 0, check_every: int = 10, configs=None, **common) -> None:
        common.setdefault("corruption", (0.0, 1.0))
        self.envs = [ProgramRefineEnv(tasks=tasks, **{**common, **c}) for c in configs or OPTION_GRID]
        for k, env in enumerate(self.envs):
            env.action_space.seed(seed + k)
        self.rng = np.random.default_rng(seed)
        self.stats = FuzzStats()
        self.check_every, self._turn = check_every, -1
        self.kinds = (0, 1, 2)  # 0: one masked edit, 1: a masked round (rewrite mode), 2: raw sample
        self._next_episode()

    def run(self, steps: int) -> FuzzStats:
        """Take `steps` more steps; the totals so far."""
        for _ in range(steps):
            self._step()
        return self.stats

    # ------------------------------------------------------------------------------------------

    def _guard(self, what: str, call):
        try:
            return call()
        except Exception:  # noqa: BLE001 - counting every exception is the point
            self.stats.exceptions += 1
            self.stats.fail(f"{what} in {self._options()}:\n{traceback.format_exc(limit=6)}")
            return None

    def _options(self) -> str:
        env = self.env
        return f"{env.action_mode}/{env.corruption_mode}/{env.invalid_edits}/{env.reward_kind}"

    def _next_episode(self) -> None:
        self._turn = (self._turn + 1) % len(self.envs)
        self.env = env = self.envs[self._turn]
        options, draw = {}, self.rng.random()
        if draw < 0.2:
            options["corruption"] = float(self.rng.uniform(0.0, 1.0))
        elif draw < 0.3:
            options["task_index"] = int(self.rng.integers(len(env.tasks)))
        seed = int(self.rng.integers(2**31)) if self.rng.random() < 0.5 else None
        out = self._guard("reset", lambda: env.reset(seed=seed, options=options))
        if out is not None:
            self._check_observation(out[0])

    def _step(self) -> None:
        env, stats = self.env, self.stats
        kind = self.kinds[self.rng.integers(len(self.kinds))]
        action = self._guard("action_masks", lambda: self._action(kind))
        if action is None:
            self._next_episode()
            return
        before = env.program
        single = kind == 0 or env.action_mode == "edit" and kind == 1
        well_typed = single and check(before, env.task.input_types).well_typed
        out = self._guard("step", lambda: env.step(action))
        stats.steps += 1
        if out is None:
            self._next_episode()
            return
        obs, reward, terminated, truncated, info = out
        if not (isinstance(reward, float) and math.isfinite(reward) and -1.0 <= reward <= 2.0):
            stats.bad_rewards += 1
            stats.fail(f"reward {reward!r} in {self._options()}")
        if stats.steps % self.check_every == 0:
            self._check_observation(obs)
        if well_typed:
            stats.masked_edits += 1
            if not check(env.program, env.task.input_types).well_typed:
                stats.broke_types += 1
                stats.fail(f"in-mask edit {before} -> {env.program} ({self._options()})")
        if env.action_mode == "edit" and kind != 2:
            stats.masked_edit_steps += 1
            node, token = divmod(int(action), VOCAB_SIZE)
            stop = token == before.tokens[node] and truncated and env.program == before
            if not stop and (env.program == before or info["nodes_changed"] != 1):
                stats.idle_edits += 1
                stats.fail(f"masked edit {node}:{token} left {before} unchanged ({self._options()})")
        if env.render_mode is not None and self.rng.random() < 0.01:
            self._guard("render", env.render)
        if terminated or truncated:
            stats.episodes += 1
            self._next_episode()

    def _action(self, kind: int):
        env = self.env
        if kind == 2:
            return env.action_space.sample()
        rows = env.action_masks().reshape(env.max_nodes, VOCAB_SIZE)
        if env.action_mode == "edit":
            allowed = np.flatnonzero(rows)
            return int(allowed[self.rng.integers(len(allowed))])
        n = len(env.program)
        if kind == 0:  # one node changed inside its mask, every other one kept
            action = np.zeros(env.max_nodes, dtype=np.int64)
            action[:n] = env.program.tokens
            node = int(self.rng.integers(n))
            action[node] = self.rng.choice(np.flatnonzero(rows[node]))
            return action
        keys = np.where(rows, self.rng.random(rows.shape) + 1e-9, -1.0)
        return keys.argmax(axis=1).astype(np.int64)

    def _check_observation(self, obs) -> None:
        self.stats.observations_checked += 1
        if obs not in self.env.observation_space:
            self.stats.outside_space += 1
            bad = [k for k, space in self.env.observation_space.spaces.items() if obs[k] not in space]
            self.stats.fail(f"observation keys {bad} outside the space ({self._options()})")
