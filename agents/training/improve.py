"""Improvement from the agent's own search: expert iteration with the search as the expert.

A generation refines every task with the agent's decoding (the guided sketch search by default)
under a CPU budget, keeps every program that passes every visible test together with the
observations of the states it was found from, and takes supervised steps toward those programs
from those states (expert iteration: Anthony et al. 2017; STaR, Zelikman et al. 2022; ReST,
Gulcehre et al. 2023; Break-It-Fix-It and DrRepair learn from their own repairs the same way).
Only the observation and the visible tests are used: never the target program, never held-out
tests (`refine_chunk` reads them through the env's public accessors; the report alone reads the
held-out outcome, after the fact). With `loss="grpo"` the update is instead (or also) a
group-relative policy gradient on the states where a program was found (agents.training.group_update).

    learner = Improvement(model, config)
    results, states = refine_and_collect(model, tasks, level=1.0, mode="mask", config=config)
    loss = learner.learn(fit_pairs(results, states), generation=0, kept=kept_states(results, states))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from progrefine_env.env import ProgramRefineEnv
from progrefine_env.lang import PAD, parse
from progrefine_env.tasks.task import Task, passes

from ..acting.evaluation import Agent, SearchStates, TaskResult, refine_chunk
from ..acting.policy import GraphPolicy
from ..acting.strategies import Decoding
from ..nn.batching import stack_observations
from ..nn.network import RefineNet
from .dataset import AggregateDataset
from .group_update import GroupUpdate
from .imitation import ImitationUpdate

CHUNK = 64  # tasks refined together
LOSSES = ("expert_iteration", "grpo", "both")


@dataclass(frozen=True)
class ImproveConfig:
    """How the agent improves from its own search.

    Attributes:
        generations: generations of search-then-update (generation 0 is the starting policy's search).
        strategy: the decoding that searches: "guided" (the sketch search ordered by the policy) or
            "sample_distinct".
        cpu_budget: CPU seconds per task of one generation's decoding (0: none; then `fillings`).
        fillings: guided: fillings composed per task and generation (0: none; deterministic).
        rounds: refinement rounds per task and generation.
        samples: sample_distinct: candidates per round.
        steps: gradient steps per generation on the aggregate of found programs.
        batch_size: states per gradient step.
        lr: Adam's learning rate.
        grad_clip: gradient-norm clipping.
        failure_weight: weight of nodes that failing tests reach (agents.training.losses.test_guided_weights).
        capacity: most (state, program) pairs kept over the generations.
        seed: seeds the corruption of every task (task i with seed + i) and the minibatches.
        loss: "expert_iteration" (supervised steps toward the found programs), "grpo" (group-relative
            policy gradient on the states where a program was found, rewarded by visible tests
            passed: agents.training.group_update) or "both" (each step one of each).
        group_size: grpo: draws per state.
        entropy_coef: grpo: entropy bonus.
        kl_coef: grpo: weight of the exact KL to the starting policy (0: none).
        std_floor: grpo: floor of a group's reward standard deviation.
        tasks_per_generation: inductive protocol: each generation searches the next this many
            training tasks, cycling through them (0: every task each generation). Fresh tasks each
            generation, because searching the same corrupted states again taught the policy those
            very states (15 generations on one fixed set of 2,000 tasks passed fewer held-out tests
            after generation 5; benchmarks/README.md, "The inductive protocol at scale").
    """

    generations: int = 3
    strategy: str = "guided"
    cpu_budget: float = 0.3
    fillings: int = 0
    rounds: int = 1
    samples: int = 64
    steps: int = 100
    batch_size: int = 32
    lr: float = 3e-4
    grad_clip: float = 1.0
    failure_weight: float = 1.0
    capacity: int = 50_000
    seed: int = 0
    loss: str = "expert_iteration"
    group_size: int = 8
    entropy_coef: float = 0.01
    kl_coef: float = 0.0
    std_floor: float = 0.1
    tasks_per_generation: int = 0

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss={self.loss!r} is not one of {LOSSES}")
        if self.group_size < 2 or not self.std_floor > 0:
            raise ValueError("need group_size >= 2 and std_floor > 0")
        if self.strategy not in ("guided", "sample_distinct"):
            raise ValueError(f"strategy={self.strategy!r}: the improvement searches with 'guided' or 'sample_distinct'")
        if self.tasks_per_generation < 0:
            raise ValueError(f"tasks_per_generation={self.tasks_per_generation}: must be 0 (all) or more")
        if self.generations < 0 or self.rounds < 1 or self.steps < 0 or self.batch_size < 1 or self.capacity < 1:
            raise ValueError("need generations >= 0, rounds >= 1, steps >= 0, batch_size >= 1 and capacity >= 1")
        self.decoding()  # checks the budgets

    def decoding(self) -> Decoding:
        if self.strategy == "guided":
            return Decoding("guided", cpu_budget=self.cpu_budget, fillings=self.fillings)
        return Decoding("sample_distinct", samples=self.samples, cpu_budget=self.cpu_budget)

    def to_dict(self) -> dict:
        return asdict(self)


def generation_tasks(tasks: Sequence[Task], generation: int, per_generation: int) -> list[Task]:
    """The training tasks generation `generation` searches: all of them (`per_generation` 0 or at
    least their number), else the window of `per_generation` tasks that starts where the previous
    generation's ended, cycling back to the first task."""
    if not per_generation or per_generation >= len(tasks):
        return list(tasks)
    start = generation * per_generation % len(tasks)
    return [tasks[(start + i) % len(tasks)] for i in range(per_generation)]


def refine_and_collect(
    model: RefineNet, tasks: Sequence[Task], level: float, mode: str, config: ImproveConfig,
    env_options: dict | None = None, env_factory: Callable = ProgramRefineEnv,
) -> tuple[list[TaskResult], dict[int, SearchStates]]:  # fmt: skip
    """Every task refined at one level with the config's decoding; the per-task results and what
    each task's refinement saw (`SearchStates`), keyed by task index."""
    model.eval()
    agent = Agent(GraphPolicy(model), config.decoding())
    options = {"corruption_mode": mode, "eval_accuracy": False, **(env_options or {})}
    results: list[TaskResult] = []
    states: dict[int, SearchStates] = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for start in range(0, len(tasks), CHUNK):
            indices = list(range(start, min(start + CHUNK, len(tasks))))
            results += refine_chunk(agent, tasks, indices, level, config.rounds, config.seed, options, env_factory,
                                    states=states)  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    return results, states


def fit_pairs(
    results: Sequence[TaskResult], states: dict[int, SearchStates]
) -> tuple[dict[str, np.ndarray], np.ndarray] | None:
    """(observations [K, ...], target tokens [K, N]): for every task whose refinement found a program
    passing every visible test, that program as the label of each state it was found from. The
    program is checked again on the visible tests the env handed over; None when nothing was found."""
    observations, labels = [], []
    for result in results:
        if result.round_solved is None:
            continue
        seen = states[result.index]
        program = parse(result.final_program)
        if not all(passes(program, seen.input_types, seen.tests)):
            continue  # never happens with the env's own runner; kept as the guarantee it is
        for obs in seen.observations[: result.round_solved + 1]:
            label = np.full(len(obs["tokens"]), PAD, dtype=np.int64)
            label[: len(program)] = program.tokens
            observations.append(obs)
            labels.append(label)
    if not labels:
        return None
    return stack_observations(observations), np.stack(labels)


def kept_states(results: Sequence[TaskResult], states: dict[int, SearchStates]) -> list[tuple]:
    """(observation, input types, visible tests) of every state a program passing every visible test
    was found from: the states group-relative updates draw from."""
    kept = []
    for result in results:
        if result.round_solved is not None:
            seen = states[result.index]
            kept += [(obs, seen.input_types, seen.tests) for obs in seen.observations[: result.round_solved + 1]]
    return kept


class Improvement:
    """A generation's update from what the search found (`config.loss`).

    Expert iteration: the aggregate keeps every generation's (state, found program) pairs (at most
    `config.capacity`, random eviction) and each step is the test-weighted cross-entropy toward them
    (`agents.training.imitation.ImitationUpdate`; a found program's tokens join each node's allowed set).
    GRPO: each step draws `config.group_size` programs from a minibatch of this generation's kept
    states (on-policy; `agents.training.group_update.GroupUpdate`). Minibatches and draws come from
    generators seeded by (seed, generation), so that a run resumed at a generation's start
    continues exactly.

    Args:
        model: the policy's network, updated in place.
        config: the improvement's settings.
        reference: the starting network, for the KL term of GRPO (None: no KL).
    """

    def __init__(self, model: RefineNet, config: ImproveConfig, reference: RefineNet | None = None) -> None:
        self.model, self.config = model, config
        self.update = ImitationUpdate(model, "rewrite", config.lr, config.grad_clip, config.failure_weight)
        self.group = GroupUpdate(model, self.update.optimizer, config.group_size, config.entropy_coef,
                                 config.kl_coef, config.std_floor, config.grad_clip, reference)  # fmt: skip
        self.dataset = AggregateDataset(config.capacity, "random")

    def learn(self, pairs, generation: int, kept: Sequence[tuple] = ()) -> float:
        """Add a generation's pairs (`fit_pairs`) and take its steps on them and on `kept`
        (`kept_states`); the mean loss (NaN: no step)."""
        rng = np.random.default_rng([self.config.seed, generation])
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        if pairs is not None:
            self.dataset.add(*pairs, rng)
        imitate = self.config.loss != "grpo" and len(self.dataset)
        group = self.config.loss != "expert_iteration" and len(kept)
        losses = []
        for _ in range(self.config.steps if imitate or group else 0):
            if imitate:
                index = rng.integers(len(self.dataset), size=min(self.config.batch_size, len(self.dataset)))
                losses.append(self.update(*self.dataset.batch(index))[0])
            if group:
                index = rng.integers(len(kept), size=min(self.config.batch_size, len(kept)))
                losses.append(self.group([kept[i] for i in index], generator)[0])
        self.model.eval()
        return float(np.mean(losses)) if losses else math.nan

    def state_dict(self) -> dict:
        return {"optimizer": self.update.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.update.optimizer.load_state_dict(state["optimizer"])
