"""Improvement from the agent's own search: expert iteration with the search as the expert.

A generation refines every task with the agent's decoding (the guided sketch search by default)
under a CPU budget, keeps every program that passes every visible test together with the
observations of the states it was found from, and takes supervised steps toward those programs
from those states (expert iteration: Anthony et al. 2017; STaR, Zelikman et al. 2022; ReST,
Gulcehre et al. 2023; Break-It-Fix-It and DrRepair learn from their own repairs the same way).
Only the observation and the visible tests are used: never the target program, never held-out
tests (`refine_chunk` reads them through the env's public accessors; the report alone reads the
held-out outcome, after the fact).

    learner = ExpertIteration(model, ImproveConfig())
    results, states = refine_and_collect(model, tasks, level=1.0, mode="mask", config=config)
    loss = learner.learn(*fit_pairs(results, states), generation=0)
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

from .batching import stack_observations
from .dataset import AggregateDataset
from .evaluation import Agent, SearchStates, TaskResult, refine_chunk
from .imitation import ImitationUpdate
from .network import RefineNet
from .policy import GraphPolicy
from .strategies import Decoding

CHUNK = 64  # tasks refined together


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
        failure_weight: weight of nodes that failing tests reach (agents.losses.test_guided_weights).
        capacity: most (state, program) pairs kept over the generations.
        seed: seeds the corruption of every task (task i with seed + i) and the minibatches.
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

    def __post_init__(self) -> None:
        if self.strategy not in ("guided", "sample_distinct"):
            raise ValueError(f"strategy={self.strategy!r}: the improvement searches with 'guided' or 'sample_distinct'")
        if self.generations < 0 or self.rounds < 1 or self.steps < 0 or self.batch_size < 1 or self.capacity < 1:
            raise ValueError("need generations >= 0, rounds >= 1, steps >= 0, batch_size >= 1 and capacity >= 1")
        self.decoding()  # checks the budgets

    def decoding(self) -> Decoding:
        if self.strategy == "guided":
            return Decoding("guided", cpu_budget=self.cpu_budget, fillings=self.fillings)
        return Decoding("sample_distinct", samples=self.samples, cpu_budget=self.cpu_budget)

    def to_dict(self) -> dict:
        return asdict(self)


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


class ExpertIteration:
    """Supervised steps toward the programs the search found, from the states it found them from.

    The aggregate keeps every generation's pairs (at most `config.capacity`, random eviction); each
    generation takes `config.steps` minibatch steps of the test-weighted cross-entropy
    (`agents.imitation.ImitationUpdate`; a found program's tokens join each node's allowed set).
    Minibatches are drawn from a generator seeded by (seed, generation), so that a run resumed at a
    generation's start continues exactly.
    """

    def __init__(self, model: RefineNet, config: ImproveConfig, device: str | torch.device = "cpu") -> None:
        self.model, self.config = model, config
        self.update = ImitationUpdate(model, "rewrite", config.lr, config.grad_clip, config.failure_weight, device)
        self.dataset = AggregateDataset(config.capacity, "random")

    def learn(self, pairs: tuple[dict[str, np.ndarray], np.ndarray] | None, generation: int) -> float:
        """Add a generation's pairs and take the generation's steps; the mean loss (NaN: no step)."""
        rng = np.random.default_rng([self.config.seed, generation])
        if pairs is not None:
            self.dataset.add(*pairs, rng)
        if not len(self.dataset) or not self.config.steps:
            return math.nan
        losses = []
        for _ in range(self.config.steps):
            index = rng.integers(len(self.dataset), size=min(self.config.batch_size, len(self.dataset)))
            loss, _ = self.update(*self.dataset.batch(index))
            losses.append(loss)
        self.model.eval()
        return float(np.mean(losses))

    def state_dict(self) -> dict:
        return {"optimizer": self.update.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.update.optimizer.load_state_dict(state["optimizer"])
