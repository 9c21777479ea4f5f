"""The refinement loop and its report: how accuracy and test passage evolve round by round.

For each corruption level, held-out tasks are corrupted and the model rewrites every node each
round (greedy within the grammar mask). A program counts as solved from the round it first passes
all its visible tests and is left alone after that; pass shares are cumulative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from progrefine_env.tasks.task import Task, passes

from .batching import to_tensors
from .decoding import masked_log_probs
from .network import RefineNet
from .rollout import EnvBatch
from .strategies import ARGMAX, Decoding, choose_tokens

DEFAULT_LEVELS = (0.5, 0.75, 1.0)


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


class _Tally:
    """Running sums over the programs of one level, per round."""

    def __init__(self, rounds: int) -> None:
        self.sums = np.zeros((rounds, 6))
        self.programs = 0

    def add(self, r: int, values: Sequence[float]) -> None:
        self.sums[r] += values

    def stats(self) -> list[RoundStats]:
        means = self.sums / max(self.programs, 1)
        return [RoundStats(r, *map(float, row)) for r, row in enumerate(means)]


@torch.no_grad()
def refine_level(
    model: RefineNet,
    tasks: Sequence[Task],
    level: float,
    rounds: int = 5,
    seed: int = 0,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    trace: list | None = None,
    decoding: Decoding = ARGMAX,
) -> list[RoundStats]:
    """Refine every task once at corruption `level`; `trace`, if given, receives the programs of the
    first task round by round (for showing a repair). `decoding`: see `agents.strategies`."""
    model.eval()
    tally = _Tally(rounds)
    envs = EnvBatch(tasks, min(batch_size, len(tasks)), corruption=level, max_steps=rounds)
    decode = {"decoding": decoding, "generator": torch.Generator().manual_seed(seed)}
    for start in range(0, len(tasks), len(envs)):
        indices = list(range(start, min(start + len(envs), len(tasks))))
        _refine_chunk(model, envs, tasks, indices, rounds, seed, device, tally, trace if start == 0 else None, decode)
    return tally.stats()


@torch.no_grad()
def _refine_chunk(model, envs: EnvBatch, tasks, indices, rounds, seed, device, tally: _Tally, trace, decode=None):
    decode = decode or {}
    count = len(indices)
    active_envs = envs.envs[:count]
    obs = envs.reset_tasks(indices, seed)
    tally.programs += count
    solved = np.zeros(count, dtype=bool)
    held_out = np.zeros(count, dtype=bool)
    if trace is not None:
        trace.append(_program_text(active_envs[0]))
    for r in range(rounds):
        tensors = to_tensors(obs, device)
        log_probs = masked_log_probs(model(tensors).logits, tensors["grammar_mask"])
        tokens = choose_tokens(log_probs, envs.envs, **decode)
        confidence = log_probs.gather(-1, torch.as_tensor(tokens, device=log_probs.device).unsqueeze(-1)).exp()
        node_mask = tensors["node_mask"].bool()
        conf = ((confidence.squeeze(-1) * node_mask).sum(1) / node_mask.sum(1)).cpu().numpy()
        obs, infos = envs.step(tokens)
        accuracy, changed, exact = [], [], []
        for k, env in enumerate(active_envs):
            current, target = np.asarray(env.program.tokens), np.asarray(env.task.program.tokens)
            nodes = env.corrupted_nodes
            accuracy.append(float((current[nodes] == target[nodes]).mean()))
            changed.append(infos[k].get("nodes_changed", 0))
            exact.append(bool((current == target).all()))
            if not solved[k] and env.solved:
                solved[k] = True
                task = env.task
                held_out[k] = all(passes(env.program, task.input_types, task.held_out_tests))
        tally.add(r, [sum(accuracy), sum(changed), conf[:count].sum(), solved.sum(), held_out.sum(), sum(exact)])
        if trace is not None:
            trace.append(_program_text(active_envs[0]))


def _program_text(env) -> str:
    return f"{env.program}   [{env.tests_passed}/{len(env.task.tests)} tests pass]"


def refinement_report(
    model: RefineNet,
    tasks: Sequence[Task],
    levels: Sequence[float] = DEFAULT_LEVELS,
    rounds: int = 5,
    seed: int = 0,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    decoding: Decoding = ARGMAX,
) -> dict:
    """`{"levels": [{"corruption": c, "rounds": [RoundStats as dict, ...]}, ...], "num_tasks": n,
    "decoding": {...}}`."""
    levels_out = []
    for level in levels:
        stats = refine_level(model, tasks, level, rounds, seed, batch_size, device, None, decoding)
        levels_out.append({"corruption": float(level), "rounds": [asdict(s) for s in stats]})
    return {"levels": levels_out, "num_tasks": len(tasks), "decoding": decoding.to_dict()}


def format_report(report: dict) -> str:
    """The report as a plain-text table."""
    header = f"{'corr':>5} {'round':>5} {'tok_acc':>8} {'changed':>8} {'conf':>6} {'pass':>6} {'held':>6} {'exact':>6}"
    lines = [header]
    for level in report["levels"]:
        for s in level["rounds"]:
            lines.append(
                f"{level['corruption']:>5.2f} {s['round']:>5d} {s['token_accuracy']:>8.3f} {s['changed']:>8.2f} "
                f"{s['confidence']:>6.3f} {s['pass_visible']:>6.3f} {s['pass_held_out']:>6.3f} {s['exact']:>6.3f}"
            )
    return "\n".join(lines)

