"""The refinement loop of the report: any `Policy` (or the search baseline) refining corrupted
programs for a fixed number of rounds, everything counted read from the environment's `info`.

Each task is refined alone in its own sub-env (made from that one task), at each corruption level,
reset with seed `seed + task index`, so that a task's corruption and draws do not depend on the
batch it falls in or on how many worker processes share the work. The sub-envs of a chunk run as a
Gymnasium `SyncVectorEnv` stepped by `agents.acting.collector.RolloutCollector` one round at a time; a
program that passes all its visible tests ends its episode and stays solved (its later actions
are ignored). Counted per task, from `info` (and `info["final_info"]` when the episode ends):
visible tests passed, nodes changed, held-out tests passed at the episode's end, and, with the
env's evaluation-only option `eval_accuracy=True`, token accuracy on the corrupted nodes and exact
reconstruction. Nothing here reads the env's privileged accessors (`task`, `target_tokens`,
`expert_action`); the decoders see only observations and visible test counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from progrefine_env.env import ProgramRefineEnv
from progrefine_env.tasks.task import Task

from .collector import RolloutCollector
from .policy import Policy
from .search import SearchDecoder
from .sketch import SketchBudget, SketchDecoder
from .strategies import Decoding, DecodingPolicy


@dataclass
class TaskResult:
    """One task refined at one corruption level (a line of the per-task JSON Lines output).

    Attributes:
        task: the task's name; index: its position in the task list; corruption: the level.
        round_solved: first round after which it passed every visible test (None: never).
        candidates_run: distinct candidate programs whose visible tests ran (the start excluded).
        held_out_passed, num_held_out: held-out tests the program passed when its episode ended.
        final_program: the program it ended with; start_program: the corrupted one it began
            with (passing start_tests_passed); programs: the program after each round; num_tests: its
            visible tests.
        tests_passed, nodes_changed, token_accuracy, exact, confidence: per round (frozen once
            solved; token_accuracy and exact NaN/False without `eval_accuracy`). confidence: the
            mean probability the policy gave its chosen tokens on the real nodes (NaN without a
            distribution); hole_confidence: the same on the nodes that were holes at the start.
        cpu_seconds: process time the task's refinement took: its draws or searches and candidate
            runs, its env steps, and an equal share of each batched forward pass (env
            construction, reset and the final judging of held-out tests left out).
    """

    task: str
    index: int
    corruption: float
    round_solved: int | None = None
    candidates_run: int = 0
    held_out_passed: int = 0
    num_held_out: int = 0
    final_program: str = ""
    start_program: str = ""
    num_tests: int = 0
    start_tests_passed: int = 0
    programs: list[str] = field(default_factory=list)
    tests_passed: list[int] = field(default_factory=list)
    nodes_changed: list[int] = field(default_factory=list)
    token_accuracy: list[float] = field(default_factory=list)
    exact: list[bool] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    hole_confidence: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0

    @property
    def held_out_solved(self) -> bool:
        """Passed every visible test, and every held-out test when its episode ended."""
        return self.round_solved is not None and self.held_out_passed == self.num_held_out


@dataclass
class SearchStates:
    """What a task's refinement saw, for learning from it (see `refine_chunk`).

    Attributes:
        observations: the observation of each state the decoder acted on, in round order.
        input_types: the task's declared inputs (`env.input_types`).
        tests: its visible tests (`env.visible_tests()`), never the held-out ones.
    """

    observations: list[dict[str, np.ndarray]]
    input_types: dict[str, str]
    tests: tuple


@dataclass(frozen=True)
class Agent:
    """What refines: a policy with a decoding, or (policy None) a search baseline.

    Attributes:
        policy: the policy (None: a search baseline).
        decoding: how the policy's proposals become actions (and its `cpu_budget` per task).
        search: with no policy, "random" (the grammar-masked random search, at a budget of
            candidates) or "sketch" (the classical sketch search, at a budget of CPU seconds).
        search_weights: the search's token weights [V] (None: uniform among the allowed tokens;
            the sketch search tries tokens in this order).
        search_budget: the random search's distinct candidates per task (when `budgets` has no entry).
        budgets: per (corruption, task index), the random search's budget (e.g. what an agent ran).
        cpu_budgets: per (corruption, task index), the sketch search's CPU seconds (e.g. what an
            agent took); tasks without an entry get `decoding.cpu_budget`.
        reference_search: the sketch searches (guided and classical) run the reference engine
            instead of the fast one (the same classes and answer under a fillings budget).
    """

    policy: Policy | None = None
    decoding: Decoding = field(default_factory=Decoding)
    search: str = "random"
    search_weights: np.ndarray | None = None
    search_budget: int = 640
    budgets: dict | None = None
    cpu_budgets: dict | None = None
    reference_search: bool = False


class _OneTaskEnv:
    """A picklable constructor of an env that holds one task."""

    def __init__(self, factory: Callable, task: Task, level: float, rounds: int, options: dict) -> None:
        self.factory, self.task, self.level, self.rounds, self.options = factory, task, level, rounds, options

    def __call__(self):
        env = self.factory(tasks=[self.task], corruption=self.level, max_steps=self.rounds, **self.options)
        return StepClock(env)


class StepClock(gym.Wrapper):
    """Counts the process time of `step` (`step_seconds`), for a task's CPU accounting."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.step_seconds = 0.0

    def step(self, action):
        start = time.process_time()
        try:
            return self.env.step(action)
        finally:
            self.step_seconds += time.process_time() - start


def make_task_envs(
    tasks: Sequence[Task], indices: Sequence[int], level: float, rounds: int, env_options: dict | None = None,
    env_factory: Callable = ProgramRefineEnv,
) -> SyncVectorEnv:  # fmt: skip
    """A sub-env per task `tasks[i]`, i in `indices`, alone in it, at corruption `level`, episodes of
    `rounds` steps, `eval_accuracy` on. Reset it with `seed=[seed + i ...]` and
    `options={"task_index": 0}` for each task's own corruption."""
    options = {"eval_accuracy": True, **(env_options or {})}
    fns = [_OneTaskEnv(env_factory, tasks[i], level, rounds, options) for i in indices]
    return SyncVectorEnv(fns, autoreset_mode=AutoresetMode.SAME_STEP)


def refine_chunk(
    agent: Agent,
    tasks: Sequence[Task],
    indices: Sequence[int],
    level: float,
    rounds: int = 5,
    seed: int = 0,
    env_options: dict | None = None,
    env_factory: Callable = ProgramRefineEnv,
    states: dict | None = None,
) -> list[TaskResult]:
    """Refine `tasks[i]` for i in `indices` together at corruption `level` (see the module docstring).

    `states`, when given, receives for each task index `i` a `SearchStates`: the observation of
    every state the decoder acted on (one a round, while the task ran) and the task's visible tests
    and declared inputs, read through the env's public accessors (what `agents.training.improve` learns from).
    """
    rounds = 1 if agent.policy is None else rounds
    envs = make_task_envs(tasks, indices, level, rounds, env_options, env_factory)
    generators = [torch.Generator().manual_seed(seed * 1_000_003 + i) for i in indices]
    decoder = _decoder(agent, envs, rounds, [tasks[i] for i in indices], indices, level, seed, generators)
    collector = RolloutCollector(envs, decoder)
    obs = collector.reset(seed=[seed + i for i in indices], options={"task_index": 0})
    decoder.begin(obs)
    results = [TaskResult(tasks[i].name, i, float(level)) for i in indices]
    for k, result in enumerate(results):
        result.start_program = str(collector.infos["program"][k])
        result.num_tests = int(collector.infos["num_tests"][k])
        result.start_tests_passed = int(collector.infos["tests_passed"][k])
    if states is not None:
        for k, i in enumerate(indices):
            env = envs.envs[k]
            states[i] = SearchStates([], env.get_wrapper_attr("input_types"), env.get_wrapper_attr("visible_tests")())
    for r in range(rounds):
        if states is not None:
            for k in np.flatnonzero(decoder.active):
                states[indices[k]].observations.append({key: v[k].copy() for key, v in collector.obs.items()})
        rollout = collector.collect(1)
        _record(r, rollout, collector, decoder, results)
    for k, result in enumerate(results):
        result.candidates_run = int(decoder.runs[k])
        result.cpu_seconds = float(decoder.cpu[k]) + envs.envs[k].step_seconds
    envs.close()
    return results


def _decoder(agent: Agent, envs, rounds, tasks, indices, level, seed, generators):
    d = agent.decoding
    if agent.policy is not None and d.strategy == "guided":
        budget = SketchBudget(d.cpu_budget, d.fillings, d.nats_per_level)
        return SketchDecoder(envs, agent.policy, [budget] * len(indices), rounds, reference=agent.reference_search)
    if agent.policy is not None:
        return DecodingPolicy(agent.policy, envs, agent.decoding, rounds, generators)
    if agent.search == "sketch":
        cpu = [(agent.cpu_budgets or {}).get((float(level), i), d.cpu_budget) for i in indices]
        budgets = [SketchBudget(c, d.fillings if d.strategy == "guided" else 0) for c in cpu]
        return SketchDecoder(envs, None, budgets, rounds, agent.search_weights, agent.reference_search)
    budgets = [
        (agent.budgets or {}).get((float(level), i), agent.search_budget) for i in indices
    ]  # fmt: skip
    signatures = [task.input_types for task in tasks]  # the declared inputs: public, not the target
    seeds = [seed * 1_000_003 + i for i in indices]
    return SearchDecoder(envs, signatures, budgets, agent.search_weights, seeds, d.cpu_budget)


def _record(r: int, rollout, collector: RolloutCollector, decoder, results: list[TaskResult]) -> None:
    """Read round `r`'s outcome of every still-running task from `info` / `final_info`."""
    infos = collector.infos
    done = rollout.terminations[0] | rollout.truncations[0]
    for k, result in enumerate(results):
        if not decoder.active[k]:
            _repeat_last(result)
            continue
        info, obs = (infos["final_info"], infos["final_obs"][k]) if done[k] else (infos, None)
        tokens = obs["tokens"] if obs is not None else collector.obs["tokens"][k]
        node_mask = obs["node_mask"] if obs is not None else collector.obs["node_mask"][k]
        decoder.observe(k, tokens, node_mask, int(info["tests_passed"][k]))
        result.tests_passed.append(int(info["tests_passed"][k]))
        result.nodes_changed.append(int(info["nodes_changed"][k]))
        result.token_accuracy.append(float(info["token_accuracy"][k]) if "token_accuracy" in info else float("nan"))
        result.exact.append(bool(info["exact"][k]) if "exact" in info else False)
        result.confidence.append(float(decoder.confidence[k]))
        result.hole_confidence.append(float(decoder.hole_confidence[k]))
        result.final_program = str(info["program"][k])
        result.programs.append(result.final_program)
        if done[k]:
            decoder.active[k] = False
            if "held_out_passed" in info:  # an env may withhold them (the improvement's no-leak tests)
                result.held_out_passed = int(info["held_out_passed"][k])
                result.num_held_out = int(info["num_held_out"][k])
            if rollout.terminations[0][k]:
                result.round_solved = r


def _repeat_last(result: TaskResult) -> None:
    """A finished task keeps its program: its per-round figures stay, with no node changed."""
    result.tests_passed.append(result.tests_passed[-1])
    result.nodes_changed.append(0)
    result.token_accuracy.append(result.token_accuracy[-1])
    result.exact.append(result.exact[-1])
    result.confidence.append(result.confidence[-1])
    result.hole_confidence.append(result.hole_confidence[-1])
    result.programs.append(result.programs[-1])
