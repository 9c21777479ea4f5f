"""The refinement report: how test passage (and, for evaluation, accuracy) evolves round by round.

    report = refinement_report(policy, tasks, levels=(0.5, 0.75, 1.0), rounds=5, seed=0,
                               decoding=Decoding("best_first", samples=128, budget=640))

`policy` is any `agents.acting.policy.Policy` (a `RefineNet` is wrapped in a `GraphPolicy`); with
`baseline="search"` or `"search-freq"` the grammar-masked random search runs beside it at the same
budget, task by task (the distinct candidates the agent ran on that task, at least one), or at a
fixed `search_budget` per task with `per_task_budget=False`. For each corruption level every task
is corrupted and refined (see `agents.acting.evaluation`); a program counts as solved from the round it
first passes all its visible tests and is left alone after that, so pass shares are cumulative.
Work is split into chunks of `batch_size` tasks, run in `workers` processes (one torch thread
each) when there are several.
"""

from __future__ import annotations

import math
import multiprocessing
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
import torch

from progrefine_env.env import ProgramRefineEnv
from progrefine_env.tasks.task import Task

from ..nn.network import RefineNet
from .evaluation import Agent, TaskResult, refine_chunk
from .policy import GraphPolicy, Policy
from .strategies import ARGMAX, Decoding

DEFAULT_LEVELS = (0.5, 0.75, 1.0)
BASELINES = ("none", "search", "search-freq", "sketch")


@dataclass
class RoundStats:
    """Metrics after one round, as fractions in [0, 1] except `changed` (mean nodes changed)."""

    round: int
    token_accuracy: float
    changed: float
    confidence: float
    pass_visible: float
    pass_held_out: float
    exact: float


def refinement_report(
    policy: Policy | RefineNet,
    tasks: Sequence[Task],
    levels: Sequence[float] = DEFAULT_LEVELS,
    rounds: int = 5,
    seed: int = 0,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    decoding: Decoding = ARGMAX,
    *,
    baseline: str = "none",
    search_budget: int = 640,
    per_task_budget: bool = True,
    search_weights: np.ndarray | None = None,
    search_cpu: float = 0.0,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    env_options: dict | None = None,
    env_factory: Callable = ProgramRefineEnv,
) -> dict:
    """`{"levels": [{"corruption", "rounds": [RoundStats as dict], "candidates_run": {...}}],
    "num_tasks", "decoding", "per_task": [TaskResult as dict]}`, and under "baseline" the same for
    the search when `baseline` is not "none". `progress(n)` is called as n more tasks finish."""
    if baseline not in BASELINES:
        raise ValueError(f"baseline={baseline!r} is not one of {BASELINES}")
    if isinstance(policy, RefineNet):
        policy = GraphPolicy(policy, "rewrite", device)
    _eval_mode(policy)
    run = dict(tasks=tasks, levels=levels, rounds=rounds, seed=seed, batch_size=batch_size, workers=workers,
               progress=progress, env_options=env_options, env_factory=env_factory)  # fmt: skip
    results = _evaluate(Agent(policy, decoding), **run)
    report = summarize(results, levels, rounds, len(tasks))
    report["decoding"] = decoding.to_dict()
    if baseline != "none":
        searched = _evaluate(_baseline_agent(baseline, results, decoding, search_weights, search_budget, search_cpu,
                                             per_task_budget), **run)  # fmt: skip
        report["baseline"] = {"name": baseline, **summarize(searched, levels, 1, len(tasks))}
    return report


def _baseline_agent(name, results, decoding, weights, budget, cpu, per_task_budget) -> Agent:
    """The baseline beside the agent, at its budget task by task (`per_task_budget`: the distinct
    candidates, or for the sketch search the CPU seconds, that the agent spent on that task), or
    at a fixed `budget` candidates / `cpu` seconds per task."""
    if name == "search-freq" and weights is None:
        raise ValueError("baseline 'search-freq' needs search_weights (agents.acting.search.token_weights)")
    if name == "sketch":
        cpu_budgets = {(r.corruption, r.index): r.cpu_seconds for r in results} if per_task_budget else None
        fixed = Decoding(strategy="argmax", cpu_budget=cpu or decoding.cpu_budget)
        if not per_task_budget and not fixed.cpu_budget:
            raise ValueError("baseline 'sketch' at a fixed budget needs search_cpu (CPU seconds per task)")
        return Agent(None, fixed, "sketch", weights, cpu_budgets=cpu_budgets)
    budgets = {(r.corruption, r.index): max(r.candidates_run, 1) for r in results} if per_task_budget else None
    return Agent(None, decoding, "random", weights if name == "search-freq" else None, budget, budgets)


def evaluate_tasks(
    policy: Policy | RefineNet | Agent,
    tasks: Sequence[Task],
    levels: Sequence[float] = DEFAULT_LEVELS,
    rounds: int = 5,
    seed: int = 0,
    decoding: Decoding = ARGMAX,
    *,
    batch_size: int = 64,
    workers: int = 1,
    device: str | torch.device = "cpu",
    env_options: dict | None = None,
) -> list[TaskResult]:
    """Every task refined at every level: the per-task results the report summarises. `policy` may
    be an `agents.acting.evaluation.Agent` (a policy with its decoding, or a search baseline; `decoding`
    is then ignored)."""
    if isinstance(policy, RefineNet):
        policy = GraphPolicy(policy, "rewrite", device)
    agent = policy if isinstance(policy, Agent) else Agent(policy, decoding)
    _eval_mode(agent.policy)
    return _evaluate(agent, tasks, levels, rounds, seed, batch_size, workers, None, env_options,
                     ProgramRefineEnv)  # fmt: skip


def refine_trace(
    policy: Policy | RefineNet, task: Task, level: float = 0.5, decoding: Decoding = ARGMAX, rounds: int = 5,
    seed: int = 0,
) -> list[str]:  # fmt: skip
    """One task refined alone: its program at the start and after each round, each followed by
    `[k/n tests pass]` (for showing a repair)."""
    (result,) = evaluate_tasks(policy, [task], (level,), rounds, seed, decoding)
    return trace_lines(asdict(result))


def trace_lines(result: dict) -> list[str]:
    """A per-task result (a `TaskResult` as dict): the start and each round's program, each
    followed by `[k/n tests pass]`."""
    programs = [result["start_program"], *result["programs"]]
    passed = [result["start_tests_passed"], *result["tests_passed"]]
    return [f"{p}   [{k}/{result['num_tests']} tests pass]" for p, k in zip(programs, passed)]


def _eval_mode(policy) -> None:
    model = getattr(policy, "model", None)
    if isinstance(model, torch.nn.Module):
        model.eval()


def _evaluate(agent: Agent, tasks, levels, rounds, seed, batch_size, workers, progress, env_options, env_factory):
    """TaskResults of every task at every level, in (level, task) order."""
    chunks = max(1, math.ceil(len(tasks) / batch_size))
    size = math.ceil(len(tasks) / chunks)  # chunks of equal size, so that workers finish together
    units = [(level, list(range(s, min(s + size, len(tasks))))) for level in levels for s in range(0, len(tasks), size)]
    common = (rounds, seed, env_options, env_factory)
    jobs = [(agent, [tasks[i] for i in idx], idx, level, *common) for level, idx in units]
    results: list[TaskResult] = []
    if workers <= 1 or len(units) == 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small tensors: on a busy CPU, more threads only wait for each other
        try:
            for job in jobs:
                results += _run_unit(*job)
                if progress:
                    progress(len(job[2]))
        finally:
            torch.set_num_threads(threads)
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        futures = [pool.submit(_run_unit, *job) for job in jobs]
        for future, job in zip(futures, jobs):
            results += future.result()
            if progress:
                progress(len(job[2]))
    return results


def _run_unit(agent, chunk_tasks, indices, level, rounds, seed, env_options, env_factory) -> list[TaskResult]:
    """One chunk, with `chunk_tasks[k]` standing at index `indices[k]` of the full list."""
    lookup = dict(zip(indices, chunk_tasks))
    view = _IndexedTasks(lookup)
    return refine_chunk(agent, view, indices, level, rounds, seed, env_options, env_factory)


class _IndexedTasks:
    """The tasks of one chunk, indexed as in the full list (only the chunk travels to a worker)."""

    def __init__(self, lookup: dict[int, Task]) -> None:
        self.lookup = lookup

    def __getitem__(self, index: int) -> Task:
        return self.lookup[index]


def summarize(results: Sequence[TaskResult], levels: Sequence[float], rounds: int, num_tasks: int) -> dict:
    """Per level: RoundStats by round (means over tasks) and the candidates run per task."""
    out = []
    for level in levels:
        rows = [r for r in results if r.corruption == float(level)]
        stats = [asdict(_round_stats(rows, r)) for r in range(rounds)]
        runs = [r.candidates_run for r in rows]
        counts = {"mean": float(np.mean(runs)), "median": float(statistics.median(runs)), "max": int(max(runs))}
        cpu = [r.cpu_seconds for r in rows]
        seconds = {"mean": float(np.mean(cpu)), "median": float(statistics.median(cpu)), "max": float(max(cpu))}
        out.append({"corruption": float(level), "rounds": stats, "candidates_run": counts, "cpu_seconds": seconds})
    return {"levels": out, "num_tasks": num_tasks, "per_task": [asdict(r) for r in results]}


def _round_stats(rows: Sequence[TaskResult], r: int) -> RoundStats:
    solved = [t.round_solved is not None and t.round_solved <= r for t in rows]
    return RoundStats(
        round=r,
        token_accuracy=_mean([t.token_accuracy[r] for t in rows]),
        changed=_mean([t.nodes_changed[r] for t in rows]),
        confidence=_mean([t.confidence[r] for t in rows]),
        pass_visible=_mean(solved),
        pass_held_out=_mean([s and t.held_out_solved for s, t in zip(solved, rows)]),
        exact=_mean([t.exact[r] for t in rows]),
    )


def _mean(values) -> float:
    array = np.asarray(values, dtype=float)
    return float(np.nanmean(array)) if len(array) and not np.isnan(array).all() else float("nan")


def per_task_lines(report: dict) -> list[dict]:
    """The per-task JSON Lines records: the agent's, then the baseline's (marked `agent`)."""
    lines = [{"agent": "policy", **_line(r)} for r in report["per_task"]]
    if "baseline" in report:
        lines += [{"agent": report["baseline"]["name"], **_line(r)} for r in report["baseline"]["per_task"]]
    return lines


def _line(result: dict) -> dict:
    keys = ("task", "index", "corruption", "round_solved", "candidates_run", "cpu_seconds", "held_out_passed",
            "num_held_out", "final_program", "tests_passed")  # fmt: skip
    return {k: result[k] for k in keys}


def without_per_task(report: dict) -> dict:
    """The summary only (what `--json` writes)."""
    out = {k: v for k, v in report.items() if k != "per_task"}
    if "baseline" in out:
        out["baseline"] = without_per_task(out["baseline"])
    return out


def format_report(report: dict) -> str:
    """The report as a plain-text table; with a baseline, an `agent` column first and the
    baseline's rows after the policy's."""
    named = "baseline" in report
    header = (f"{'corr':>5} {'round':>5} {'tok_acc':>8} {'changed':>8} {'conf':>6} {'pass':>6} {'held':>6} "
              f"{'exact':>6} {'cands':>7} {'cpu_s':>6}")  # fmt: skip
    lines = [(f"{'agent':>11} " if named else "") + header] + _rows("policy" if named else "", report)
    if named:
        lines += _rows(report["baseline"]["name"], report["baseline"])
    return "\n".join(lines)


def _rows(name: str, report: dict) -> list[str]:
    prefix = f"{name:>11} " if name else ""
    lines = []
    for level in report["levels"]:
        for s in level["rounds"]:
            last = s["round"] == len(level["rounds"]) - 1
            cands = f"{level['candidates_run']['mean']:>7.1f}" if last else f"{'':>7}"
            cpu = level.get("cpu_seconds", {}).get("mean")
            cands += f" {cpu:>6.3f}" if last and cpu is not None else f" {'':>6}"
            lines.append(
                f"{prefix}{level['corruption']:>5.2f} {s['round']:>5d} {s['token_accuracy']:>8.3f} "
                f"{s['changed']:>8.2f} {s['confidence']:>6.3f} {s['pass_visible']:>6.3f} {s['pass_held_out']:>6.3f} "
                f"{s['exact']:>6.3f} {cands}"
            )
    return lines
