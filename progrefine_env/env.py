"""ProgramRefine-v0: repair a corrupted program, round by round, guided by its tests.

The class's docstring is the manual; the class holds the episode (reset, step, render, the
privileged accessors) and hands the rest to one module each: `options` (arguments and reset
options, checked), `actions` (spaces, decoding, edits, masks), `observation` (the observation's
spaces and arrays, and every step's `info`), `scoring` (`run_visible_tests`), `render` (what
`render()` shows) and `tasks.source` (the `tasks` argument)."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from . import actions, expert, picture
from .actions import edit_mask
from .corruption import CORRUPTION_MODES, corrupt, corruption_level, validate_corruption
from .feedback import Feedback, run_tests
from .graph import max_edges_for
from .lang import PAD, VOCAB_SIZE, Program
from .lang.incremental import recheck
from .lang.types import TypeInfo
from .observation import (
    NO_TEST,
    OUTCOME_NAMES,
    input_leaves,
    observation_arrays,
    observation_spaces,
    program_arrays,
    static_arrays,
    step_info,
)
from .options import (
    ACTION_MODES,
    INVALID_EDITS,
    RESET_OPTIONS,
    REWARDS,
    UnsupportedRenderMode,
    check_arguments,
    reset_options,
)
from .render import state_picture, state_text
from .scoring import visible_scores
from .tasks.corpus import DEFAULT_CORPUS_SIZE
from .tasks.source import load_task_source
from .tasks.task import Task, Test, passes

# The environment, and the names defined beside it in `options`, `observation` and `actions` that
# users import from here (as from before those modules were split out of this one).
__all__ = [
    "ACTION_MODES", "CORRUPTION_MODES", "INVALID_EDITS", "NO_TEST", "OUTCOME_NAMES", "REWARDS", "RESET_OPTIONS",
    "ProgramRefineEnv", "UnsupportedRenderMode", "edit_mask",
]  # fmt: skip


class ProgramRefineEnv(gym.Env):
    """
    ## Description

    An agent repairs a corrupted program of LANGUAGE.md's language. At reset a task (a target
    program with visible and held-out tests) is drawn and a fraction of its nodes is corrupted
    (masked, or replaced by random well-typed tokens); the visible tests are run. Each step applies
    the agent's token edits, re-runs the visible tests and returns what they say about every node.
    The tree shape never changes: edits replace tokens with tokens of the same arity.

    ## Action Space

    `action_mode="rewrite"` (default): `MultiDiscrete([V] * max_nodes)`, one refinement round a step:
    a token for every node; choosing a node's current token keeps it; padded slots are ignored.
    `action_mode="edit"`: `Discrete(max_nodes * V)`, action `node * V + token`, one node a step.
    Every edit the mask allows changes the program: the edit-mode mask is the grammar mask of the
    real nodes *without each node's current token*. Naming a real node's current token is the
    **stop**: the program is kept and the episode ends, truncated, as at its step limit (reward as
    for any unchanged step). The mask offers the stop (as the root's current token) only when no
    node has another token, so that it is never empty. A padded node is a step that changes nothing.
    V = 56 tokens (`progrefine_env.lang.VOCAB`). An edit whose token lies outside the node's grammar
    mask (a token of another arity, `<pad>`, `<mask>`, or one that breaks the types) is ignored and
    counted in `info["invalid_edits"]` (`invalid_edits="ignore"`, default), except that a round whose
    edits together give a well-typed program is always applied; with `invalid_edits="apply"` edits of
    the right arity are applied and the program is left to fail its tests. Action masks, in the
    layout MaskablePPO expects for the mode (`max_nodes * V` booleans, node-major): `env.action_masks()`
    and `info["action_mask"]`; the observation key `grammar_mask` (`[max_nodes, V]`) holds the grammar
    masks themselves (current tokens included: in `rewrite` mode they are the action masks, in `edit`
    mode `edit_mask(obs["grammar_mask"], obs["tokens"], obs["node_mask"])` gives the action masks).
    `env.sample_mask()` gives them in the form `env.action_space.sample(mask=...)` takes (int8 `[N*V]`
    in `edit` mode, a tuple of N int8 rows in `rewrite` mode).
    `progrefine_env.wrappers.ActionMaskObservation` puts them in the observation under a key, layout
    and nesting of your choice (RLlib, TorchRL, Tianshou; see its docstring).
    In a well-typed program (holes standing for any token of their arity) an edit inside the mask
    keeps the program well-typed. Only an ill-typed program, which a simultaneous `rewrite` round or
    `invalid_edits="apply"` can produce, has nodes that no token fits; their mask is then a
    non-empty local fallback (`lang.types._relax`), so every node always has a choice.

    ## Observation Space

    A `Dict` of fixed-shape arrays (N = max_nodes, E = 4N edge slots, T = max_tests, F = 14); integer
    arrays are integer `Box`es (cast to long in a network), nodes in pre-order, padded slots zero:

    | key | shape | meaning |
    | --- | --- | --- |
    | tokens, prev_tokens | [N] | current token id, and the token before the last step |
    | node_mask | [N] | 1 for a real node |
    | masked | [N] | 1 where the token is `<mask>` |
    | arity, depth, position | [N] | children, distance from root, index among siblings |
    | expected_type | [N] | bit set of the types (int, bool, list, fn1, pred, fn2) the parent accepts |
    | type_conflict | [N] | 1 where the current token lies outside its grammar mask |
    | edge_index, edge_type, edge_mask | [2, E], [E], [E] | edges child/parent/sibling/binder |
    | test_mask, test_outcome | [T] | real test; 0 passed, 1 wrong value, 2+k error kind k |
    | node_failure, node_suspicion | [N] | share of failing tests that reached the node; Ochiai |
    | node_values | [N, T, F] | summary of the first value each node took on each test |
    | expected_output | [T, F] | the same summary of each test's expected output |
    | test_inputs | [T, 3, F] | the same summary of each test's inputs `x`, `y`, `z` (zeros: no such input) |
    | grammar_mask | [N, V] | tokens allowed at each node (padded slots: only `<pad>`) |

    The observation never contains the target program or anything computed from it.
    `progrefine_env.wrappers.GraphObservation` gives the same state as a `gymnasium.spaces.Graph`.

    ## Rewards

    `reward="delta"` (default): the change in the fraction of visible tests passed since the last
    step, plus 1 on the step that makes all of them pass. `reward="sparse"`: 1 on that step, else 0.

    ## Starting State

    A task drawn uniformly from the task source, corrupted at a level drawn from `corruption`.
    `reset(options={"task_index": i, "corruption": c})` picks task `i` (0 <= i < len(env.tasks))
    and corrupts it at `c` (a number or `(low, high)` range in [0, 1]) for that episode; either key
    may be left out. Any other key, an index outside the task list, or a corruption that is not
    such a number (NaN, 5.0, "0.5") raises ValueError.

    ## Episode End

    Terminated when every visible test passes. Truncated after `max_steps` steps (default 5 rounds
    in `rewrite` mode, twice the program's node count in `edit` mode), or in `edit` mode on the
    stop (an action naming a node's current token; see Action Space).

    ## Info

    Every value has a fixed shape, so that batched collectors (Tianshou, TorchRL) can stack them:

    | key | type | meaning |
    | --- | --- | --- |
    | tests_passed, num_tests | int | visible tests passed, and their number |
    | error_kinds | int8 [T] | each visible test's outcome code, -1 past the last test (below) |
    | program | str | the current program's text |
    | nodes_changed, invalid_edits | int | nodes the step changed, and edits it refused |
    | type_errors | int8 [N] | 1 at the nodes in type conflict (as `obs["type_conflict"]`) |
    | action_mask | bool [N*V] | `env.action_masks()` |

    and, only when the episode ends, `held_out_passed` / `num_held_out` (ints; for evaluation only).
    With `expert_labels=True` (off by default), also `expert_action`: the expert's next action from
    the new state (privileged: the target's correction, int64 [N] or an int; for imitation trainers
    such as DAgger, which read it from `info`, never from the observation).
    With `eval_accuracy=True` (off by default; for evaluation reports only, never for an agent),
    also `token_accuracy` (float: share of the originally corrupted nodes that hold the target's
    token) and `exact` (bool: the program is the target). Both are computed from the target, so an
    agent must never read them; the report does, after the agent has acted.
    Outcome codes are those of `obs["test_outcome"]`: 0 passed, 1 wrong value, 2 + k the k-th error
    kind; `progrefine_env.env.OUTCOME_NAMES[code]` names them.

    ## Arguments

    ```python
    gym.make("ProgramRefine-v0", tasks="generated", split="train", corpus_size=20_000, corpus_seed=0,
             corruption=0.5, corruption_mode="mask", max_nodes=64, max_tests=8,
             action_mode="rewrite", max_steps=None, reward="delta", invalid_edits="ignore",
             render_mode=None, expert_labels=False, eval_accuracy=False)
    ```
    * `tasks`: "generated" (the built-in corpus: the default `corpus_size` and `corpus_seed` ship with
      the package; other settings are generated on first use, minutes, then cached on disk), a path
      to a JSON Lines task file (docs/tasks.md), or a sequence of `Task`s.
    * `split`: "train", "val" or "test" of the generated corpus (disjoint by program behaviour).
    * `corruption`: fraction of nodes corrupted, a number or a `(low, high)` range drawn per episode;
      at least one node; 1.0 corrupts every node.
    * `corruption_mode`: "mask" (nodes become `<mask>`) or "noise" (random well-typed tokens).
    * `max_nodes`, `max_tests`: array sizes; a task with more nodes or visible tests is refused.
    * `render_mode`: None, "ansi" (text), "human" (the text, printed) or "rgb_array" (a picture,
      uint8 `[540, 960, 3]`: the program tree, each node's token, `<mask>` nodes dashed, the last
      step's edits thick blue and the episode's thin blue, the test signal (`node_suspicion`) as
      colour, green to red; `progrefine_env.picture`, drawn with matplotlib's Agg backend, no display
      needed), so that `gymnasium.wrappers.RecordVideo` can record episodes. "rgb_array" needs
      matplotlib (`pip install matplotlib`, in `progrefine[agents]`); without it, or for another
      mode, `UnsupportedRenderMode` is raised (a ValueError that is also a TypeError, so that SB3's
      `make_vec_env`, which asks for "rgb_array", falls back to no render mode).
    * `expert_labels`: add the expert's next action to every `info` (privileged; for imitation
      learning: `agents.acting.collector` hands it to the trainer and to expert/mixture policies only).
    * `eval_accuracy`: add `token_accuracy` and `exact` to every `info` (privileged; for
      evaluation reports such as `agents.acting.refine`, which read them but never show them to the agent).

    ## Scoring candidates

    `env.run_visible_tests(candidates)` runs the *visible* tests (those the observation already
    reports on) on candidate programs, `[K, max_nodes]` token arrays laid out like `tokens`, without
    changing the episode; it returns how many tests each passes, or -1 for a candidate that cannot
    run (a token of the wrong arity, a hole, or ill-typed). Best-of-k decoders and search baselines
    use it; it is public and reads nothing an agent may not see (the tests it runs are the ones
    whose outcomes the observation shows). Through a vector env: `envs.call("run_visible_tests", c)`
    scores the same `c` in every sub-env; to give each its own, set them first with
    `envs.set_attr("pending_candidates", [c_0, c_1, ...])`, then `envs.call("run_visible_tests")`
    (what `agents.acting.candidates.run_visible_tests` does).
    `env.visible_tests()` and `env.input_types` give those visible tests (inputs and expected
    outputs) and the task's declared inputs, for a search that fills the program's holes itself
    (`progrefine_env.search`); the target program and the held-out tests stay out of reach.

    ## Version History

    * v0: initial release.
    * v0, issue 23: `render_mode="rgb_array"` (pictures; `metadata["render_modes"]` lists it).
    * v0, issue 23 (edit mode): `action_masks()` no longer allows a node's current token, so every
      allowed edit changes the program (a supervised policy, most confident in the current token,
      used to repeat a no-op until truncation); naming a node's current token, a no-op step before,
      is now the stop and truncates the episode. The observation's `grammar_mask` is unchanged
      (it still holds the current token); `edit_mask()` in this module computes the edit-mode
      mask from the observation, and `agents.nn.distribution.edit_mask` is the same in torch.
    """

    metadata = {"render_modes": ["ansi", "human", "rgb_array"], "render_fps": 2}

    def __init__(
        self,
        tasks: str | os.PathLike | Sequence[Task] = "generated",
        split: str = "train",
        corpus_size: int = DEFAULT_CORPUS_SIZE,
        corpus_seed: int = 0,
        corruption: float | tuple[float, float] = 0.5,
        corruption_mode: str = "mask",
        max_nodes: int = 64,
        max_tests: int = 8,
        action_mode: str = "rewrite",
        max_steps: int | None = None,
        reward: str = "delta",
        invalid_edits: str = "ignore",
        render_mode: str | None = None,
        expert_labels: bool = False,
        eval_accuracy: bool = False,
    ) -> None:
        check_arguments(
            action_mode, reward, invalid_edits, corruption_mode, render_mode, self.metadata["render_modes"], max_steps
        )
        self.corruption = validate_corruption(corruption)
        self.corruption_mode, self.action_mode, self.reward_kind = corruption_mode, action_mode, reward
        self.invalid_edits, self.render_mode, self._max_steps_option = invalid_edits, render_mode, max_steps
        self.expert_labels, self.eval_accuracy = bool(expert_labels), bool(eval_accuracy)
        self.max_nodes, self.max_tests = int(max_nodes), int(max_tests)
        self.max_edges = max_edges_for(self.max_nodes)
        self.tasks = load_task_source(tasks, split, corpus_size, corpus_seed, self.max_nodes, self.max_tests)

        n, v, e, t = self.max_nodes, VOCAB_SIZE, self.max_edges, self.max_tests
        self.action_space = actions.action_space(action_mode, n)
        self.observation_space = spaces.Dict(observation_spaces(n, v, e, t))
        self._task: Task | None = None
        self._arrays_source: Feedback | None = None

    # ----------------------------------------------------------------------------- episode

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        index, corruption = reset_options(options, self.corruption, len(self.tasks))
        super().reset(seed=seed)
        if index is None:
            index = int(self.np_random.integers(len(self.tasks)))
        self._task = task = self.tasks[index]
        self._target = task.program
        level = corruption_level(corruption, self.np_random)
        self._static = static_arrays(task.program, task.tests, self.max_nodes, self.max_tests)
        # run_tests' memo of subtree values
        self._subtree_values: dict = input_leaves(task.input_types, len(task.tests), self._static["test_inputs"])
        for _ in range(10):  # noise can leave a program that already passes: draw again
            program, self.corrupted_nodes = corrupt(
                task.program, level, self.np_random, task.input_types, self.corruption_mode
            )
            feedback = run_tests(program, task.input_types, task.tests, subtree_values=self._subtree_values)
            if feedback.num_passed < len(task.tests):
                break
        self._program, self._previous, self._start = program, program, program
        self._feedback_cache: dict[tuple[int, ...], Feedback] = {program.tokens: feedback}
        self._visible_cache: dict[tuple[int, ...], int] = {}  # run_visible_tests, this episode
        self._feedback = feedback
        self._prev_tokens = self._arrays()["tokens"]
        self.steps, self.max_steps = 0, self._episode_max_steps(len(program))
        self._last_changed, self._last_invalid = [], 0
        observation = self._get_obs()
        if self.render_mode == "human":
            self.render()
        return observation, self._get_info(done=False)

    def step(self, action):
        if self._task is None:
            raise RuntimeError("call reset() before step()")
        edits = actions.decode(action, self.action_mode, self.action_space, self._program.tokens, self.max_nodes)
        stop = edits is None
        program, changed, invalid, info = actions.apply_edits(
            self._program, edits or {}, self._feedback.info, self.invalid_edits
        )
        before = self._feedback.num_passed
        self._prev_tokens = self._arrays()["tokens"]
        self._previous, self._program = self._program, program
        self._feedback = self._run(program, info)
        self.steps += 1
        self._last_changed, self._last_invalid = changed, invalid
        total = len(self._task.tests)
        solved = self._feedback.num_passed == total
        reward = float(solved)
        if self.reward_kind == "delta":
            reward += (self._feedback.num_passed - before) / total
        truncated = not solved and (stop or self.steps >= self.max_steps)
        observation = self._get_obs()
        if self.render_mode == "human":
            self.render()
        return observation, reward, solved, truncated, self._get_info(done=solved or truncated)

    def _run(self, program: Program, info: TypeInfo | None = None) -> Feedback:
        feedback = self._feedback_cache.get(program.tokens)
        if feedback is None:
            # Re-type only what the step's edits can change (the same result as a full check).
            info = info or recheck(self._feedback.info, program)
            feedback = run_tests(program, self._task.input_types, self._task.tests, info, self._subtree_values)
            self._feedback_cache[program.tokens] = feedback
        return feedback

    def run_visible_tests(self, candidates=None) -> np.ndarray:
        """Visible tests passed by each candidate program, without changing the episode.

        Args:
            candidates: token ids laid out like `obs["tokens"]` (entries past the program's nodes
                are ignored); one program or a batch. None: the `pending_candidates` attribute,
                which a vector env sets per sub-env (`envs.set_attr("pending_candidates", [...])`,
                then `envs.call("run_visible_tests")`: how each sub-env of an async vector env gets
                its own candidates).

        Returns:
            int64 tests passed per candidate (-1: it cannot run: a wrong arity, a hole, a bad id or
            ill-typed). A program run before in this episode is not run again.

        Shapes:
            candidates: [max_nodes] or [K, max_nodes]; returns [] or [K].
        """
        if self._task is None:
            raise RuntimeError("call reset() before run_visible_tests()")
        if candidates is None:
            candidates, self.pending_candidates = getattr(self, "pending_candidates", None), None
            if candidates is None:
                raise ValueError("run_visible_tests() without candidates needs pending_candidates set")
        return visible_scores(
            candidates, self.max_nodes, self._program, self._task, self._feedback_cache, self._visible_cache
        )

    def visible_tests(self) -> tuple[Test, ...]:
        """The episode's visible tests (inputs and expected outputs), as copies.

        Public, like the observation's test summaries: these are the tests every step runs and
        rewards, and what a user's task file gives a repair tool anyway. Neither the target
        program nor the held-out tests are reachable from here. A sketch search
        (`progrefine_env.search`) reads them, with `input_types`, to fill the holes."""
        if self._task is None:
            raise RuntimeError("call reset() before visible_tests()")
        return tuple(Test(copy.deepcopy(t.inputs), copy.deepcopy(t.output)) for t in self._task.tests)

    @property
    def input_types(self) -> dict[str, str]:
        """The episode's declared inputs ({"x": "list", ...}): the signature a user states with a task."""
        if self._task is None:
            raise RuntimeError("call reset() before input_types")
        return dict(self._task.input_types)

    def action_masks(self) -> np.ndarray:
        """Grammar masks as MaskablePPO expects them: `max_nodes * V` booleans, node-major.

        `rewrite` mode: the grammar masks; padded slots allow only `<pad>` (a no-op). `edit` mode:
        `edit_mask()`: padded slots and each node's current token are not allowed, so every allowed
        edit changes the program (the stop only when nothing else is possible)."""
        return self._arrays()["action_mask"].copy()

    def sample_mask(self) -> np.ndarray | tuple[np.ndarray, ...]:
        """The grammar masks in the form `env.action_space.sample(mask=...)` takes.

        `edit` mode (`Discrete`): an int8 array of `max_nodes * V`, `action_masks()` as 0/1.
        `rewrite` mode (`MultiDiscrete`): a tuple of `max_nodes` int8 rows of V, one per node.
        Gymnasium refuses a bool mask, and a flat one for `MultiDiscrete`; hence this form.
        """
        return actions.sample_mask(self.action_mode, self.action_masks(), self.max_nodes)

    # ----------------------------------------------------------------------------- expert

    @property
    def program(self) -> Program:
        """The current program (what the observation encodes)."""
        return self._program

    @property
    def tests_passed(self) -> int:
        """Visible tests the current program passes."""
        return self._feedback.num_passed

    @property
    def solved(self) -> bool:
        """Whether the current program passes every visible test."""
        return self._feedback.num_passed == len(self._task.tests)

    @property
    def task(self) -> Task:
        """The episode's task (privileged: it holds the target program and the held-out tests)."""
        return self._task

    @property
    def target_tokens(self) -> np.ndarray:
        """The target's tokens, padded to `max_nodes` (privileged: for experts and evaluation)."""
        tokens = np.full(self.max_nodes, PAD, dtype=np.int64)
        tokens[: len(self._target)] = self._target.tokens
        return tokens

    def wrong_nodes(self) -> list[int]:
        """Nodes whose token differs from the target, in pre-order (privileged)."""
        return expert.wrong_nodes(self._program.tokens, self._target.tokens)

    def expert_action(self, fix: int | None = None):
        """The expert's next action (privileged; see `progrefine_env.expert` for the order).

        `rewrite` mode: the full correction, or with `fix=k` only the first k wrong nodes fixed.
        `edit` mode: one wrong node fixed (`fix` is ignored).
        """
        current, target = self._program.tokens, self._target.tokens
        if self.action_mode == "rewrite":
            return expert.rewrite_action(current, target, self.max_nodes, PAD, fix)
        info, program = self._feedback.info, self._program

        def is_valid(node: int, token: int) -> bool:
            return bool((info.masks[node] >> token) & 1) or recheck(info, program.replace({node: token})).well_typed

        return expert.edit_action(current, target, VOCAB_SIZE, is_valid)

    # ----------------------------------------------------------------------------- observation

    def _arrays(self) -> dict[str, np.ndarray]:
        """The current program's padded arrays, computed once per program and only ever handed
        out as copies: `tokens` [N], `grammar` int8 [N, V] (padded slots: only `<pad>`),
        `action_mask` (`action_masks()`) and `type_conflict` int8 [N]."""
        if self._arrays_source is not self._feedback:
            arrays = program_arrays(self._program, self._feedback, self.max_nodes)
            arrays["action_mask"] = actions.action_mask(
                self.action_mode, arrays["grammar"], arrays["tokens"], len(self._program)
            )
            self._cached_arrays, self._arrays_source = arrays, self._feedback
        return self._cached_arrays

    def _get_obs(self) -> dict[str, np.ndarray]:
        return observation_arrays(
            self._program, self._feedback, len(self._task.tests), self._static, self._arrays(), self._prev_tokens,
            max_nodes=self.max_nodes, max_tests=self.max_tests, max_edges=self.max_edges,
        )  # fmt: skip

    def _get_info(self, done: bool) -> dict[str, Any]:
        task = self._task
        info = step_info(
            self._program, self._feedback, len(task.tests), self.max_tests, self._arrays(), self._last_changed,
            self._last_invalid,
        )  # fmt: skip
        if self.expert_labels:
            info["expert_action"] = np.asarray(self.expert_action())
        if self.eval_accuracy:
            current, target = np.asarray(self._program.tokens), np.asarray(self._target.tokens)
            nodes = self.corrupted_nodes
            info["token_accuracy"] = float((current[nodes] == target[nodes]).mean()) if len(nodes) else 1.0
            info["exact"] = bool((current == target).all())
        if done:
            held_out = passes(self._program, task.input_types, task.held_out_tests)
            info["held_out_passed"], info["num_held_out"] = sum(held_out), len(held_out)
        return info

    # ----------------------------------------------------------------------------- render

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi', 'human' or 'rgb_array'")
            return None
        if self.render_mode == "rgb_array":
            return picture.render_rgb(self.picture_state())
        text = state_text(
            self._program, self._feedback, self._last_changed, self._last_invalid, self.steps, self.max_steps,
            len(self._task.tests),
        )  # fmt: skip
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def picture_state(self) -> picture.State:
        """What `render_mode="rgb_array"` draws of the current state (`progrefine_env.picture`)."""
        return state_picture(
            self._program, self._start, self._feedback, self._last_changed, self.steps, self.max_steps,
            len(self._task.tests),
        )  # fmt: skip

    def _episode_max_steps(self, num_nodes: int) -> int:
        if self._max_steps_option is not None:
            return self._max_steps_option
        return 5 if self.action_mode == "rewrite" else 2 * num_nodes
