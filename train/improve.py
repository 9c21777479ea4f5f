"""Improve a policy from its own search, learning only from test passage (expert iteration with the
search as the expert; see agents/training/improve.py), and report held-out pass per generation.

    # test-time: improve on your own task file from its visible tests, each (mode, level) on its own
    python -m train.improve --tasks my_tasks.jsonl --generations 3 --levels 0.5 1.0 --json out.jsonl
    # inductive: improve on training tasks, evaluate on other files
    python -m train.improve --tasks generated --split train --limit 512 \\
        --eval-files benchmarks/tasks/handwritten.jsonl --generations 3 --json out.jsonl

Test-time protocol (no --eval-files): for each corruption mode and level, the policy starts again
from --init and is improved using only the states it is evaluated on: generation g refines every
task (that is the generation's evaluation), then learns from the programs found. A fit found at 0.5
keeps half the target's tokens and never trains the policy judged at 1.0.
Inductive protocol (--eval-files): one policy improves on --tasks at every mode and level; each
generation it is evaluated on the --eval-files.

One JSON object per generation, mode and level goes to --json (and to the run folder's
improve.jsonl): generation, corruption, corruption_mode, pass_visible, pass_held_out (read by the
report only, after the fact), cpu_seconds (the generation's decoding, per task),
improve_cpu_seconds (search plus updates so far, per task), loss, and with --baseline sketch the
classical sketch search given the same cumulative CPU seconds on each task
(baseline_pass_held_out). The run folder (--run-dir) holds the checkpoint, the aggregate of found
programs, inductively each generation's policy (generation_G.pt: the policy generation G searches
and is evaluated with), and TensorBoard scalars (improve/pass_visible, improve/pass_held_out, train/loss); running
the same command again resumes it: exactly under a --fillings budget, and under a CPU budget an
unfinished generation is run again. On resuming, --generations may grow: the inductive protocol
continues; the test-time protocol extends the (mode, level) in progress, not finished ones.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from agents.acting.evaluation import Agent
from agents.acting.refine import evaluate_tasks
from agents.acting.search import corpus_token_weights
from agents.acting.strategies import Decoding
from agents.nn.checkpoint import load_checkpoint, save_checkpoint
from agents.training.dataset import AggregateDataset
from agents.training.improve import (
    ImproveConfig,
    Improvement,
    fit_pairs,
    generation_tasks,
    kept_states,
    refine_and_collect,
)
from progrefine_env.tasks.io import load_tasks
from train.cli import add_dataclass_flags, build_dataclass
from train.errors import user_errors
from train.evaluate import SHIPPED_CHECKPOINT
from train.tasks import add_task_flags, load_task_option


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m train.improve", description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[3:]), formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )  # fmt: skip
    add_dataclass_flags(parser, ImproveConfig, "improvement")
    add_task_flags(parser, default_split="train")
    group = parser.add_argument_group("protocol")
    group.add_argument("--limit", type=int, default=None, help="use the first this many tasks of --tasks")
    group.add_argument("--init", default=str(SHIPPED_CHECKPOINT), help="the policy to start from")
    group.add_argument("--corruption-mode", nargs="+", choices=("mask", "noise"), default=["mask"],
                       help="corruption modes, each improved and reported on its own")  # fmt: skip
    group.add_argument("--levels", type=float, nargs="+", default=[0.5, 1.0], help="corruption levels")
    group.add_argument("--noise-levels", type=float, nargs="+", default=None,
                       help="levels of the noise mode when they differ from --levels (e.g. mask 0.5 1.0 with "
                            "noise 0.5 only)")
    group.add_argument("--eval-files", nargs="+", default=None,
                       help="inductive protocol: evaluate on these task files (default: the test-time protocol)")
    group.add_argument("--eval-every", type=int, default=1,
                       help="inductive protocol: evaluate generation 0, every this many, and the last (the "
                            "evaluation's CPU is not the improvement's, but it is wall time)")
    group.add_argument("--baseline", choices=("sketch", "none"), default="sketch",
                       help="the classical sketch search at the same cumulative CPU seconds per task")
    run = parser.add_argument_group("run")
    run.add_argument("--run-dir", default=None, help="run folder (default runs/improve/TIME); an existing one resumes")
    run.add_argument("--json", default=None, help="also write the per-generation rows here (JSON Lines)")
    run.add_argument("--threads", type=int, default=1, help="torch threads")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    with user_errors():  # a bad option, checkpoint or task file: one `error:` line, exit 2
        config = build_dataclass(ImproveConfig, args)
        init, _ = load_checkpoint(args.init)
        tasks = load_task_option(args)[: args.limit]
        evals = {path: load_tasks(path) for path in args.eval_files or []}
        for flag, levels in (("--levels", args.levels), ("--noise-levels", args.noise_levels or [])):
            for level in levels:
                if not 0.0 <= level <= 1.0:
                    raise ValueError(f"{flag} {level}: levels must lie in [0, 1]")
        if args.eval_every < 1:
            raise ValueError(f"--eval-every {args.eval_every}: must be at least 1")
        if config.tasks_per_generation and not evals:
            raise ValueError("--tasks-per-generation belongs to the inductive protocol (--eval-files): the test-time "
                             "protocol searches every task each generation, because that search is its evaluation")
        folder = Path(args.run_dir or Path("runs") / "improve" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
        run = Run(folder, config, args, init)
    print(f"run folder {folder}" + (f" (resuming after {len(run.rows)} rows)" if run.rows else ""))
    weights = corpus_token_weights() if args.baseline == "sketch" else None
    combos = corruption_combos(args)
    protocol = inductive if evals else test_time
    protocol(run, tasks, evals, combos, weights)
    run.close()
    return 0


def corruption_combos(args: argparse.Namespace) -> list[tuple[str, float]]:
    """(mode, level) pairs: every mode at --levels, the noise mode at --noise-levels when given."""
    levels = {"mask": args.levels, "noise": args.noise_levels or args.levels}
    return [(mode, level) for mode in args.corruption_mode for level in levels[mode]]


def expected_rows(args: argparse.Namespace, config: ImproveConfig, extended: int | None = None) -> int:
    """Rows a finished run has (the progress bar's total): one per (mode, level) and generation;
    inductively, per evaluation file and evaluated generation (0, every `--eval-every`, the last,
    and `extended`, the last of the run this one extends, whose rows are kept)."""
    combos = len(corruption_combos(args))
    if not args.eval_files:
        return combos * (config.generations + 1)
    evaluated = {g for g in range(config.generations + 1) if g % args.eval_every == 0} | {config.generations}
    return combos * len(args.eval_files) * len(evaluated | ({extended} if extended is not None else set()))


class Run:
    """The run folder: progress, checkpoint, aggregate, rows, TensorBoard; saved after each row."""

    def __init__(self, folder: Path, config: ImproveConfig, args: argparse.Namespace, init) -> None:
        self.folder, self.config, self.args, self.init = folder, config, args, init
        folder.mkdir(parents=True, exist_ok=True)
        self.checkpoint = folder / "checkpoint.pt"
        self.rows: list[dict] = []
        self.progress: dict = {"stage": 0, "generation": 0, "cum": None}
        self.model = copy.deepcopy(init)
        self.learner = Improvement(self.model, config, init)
        if self.checkpoint.exists():
            self._resume()
        self.writer = SummaryWriter(str(folder))
        total = expected_rows(args, config, self.progress.get("finished"))
        self.bar = tqdm(total=total, initial=len(self.rows), unit="row", disable=args.no_progress,
                        file=sys.stderr)  # fmt: skip

    def _resume(self) -> None:
        model, state = load_checkpoint(self.checkpoint)
        saved = {**ImproveConfig().to_dict(), **state["improve_config"]}  # settings added since take their defaults
        saved, asked = ({k: v for k, v in c.items() if k != "generations"}
                        for c in (saved, self.config.to_dict()))  # fmt: skip
        if saved != asked:  # more generations may be asked for; nothing else may change
            raise ValueError(f"{self.checkpoint}: the run was made with other settings; use another --run-dir")
        self.model.load_state_dict(model.state_dict())
        self.learner.load_state_dict(state["learner"])
        self.rows, self.progress = state["rows"], state["progress"]
        aggregate = self.checkpoint.with_name("checkpoint.dataset.npz")
        if aggregate.exists():
            self.learner.dataset = AggregateDataset.load(aggregate)

    def restart_from_init(self) -> None:
        """A new (mode, level) of the test-time protocol: the policy and the aggregate start again."""
        self.model.load_state_dict(self.init.state_dict())
        self.learner = Improvement(self.model, self.config, self.init)

    def emit(self, row: dict) -> None:
        self.rows.append(row)
        step, tag = row["generation"], f"{row['corruption_mode']}_{row['corruption']}"
        for key in ("pass_visible", "pass_held_out"):
            self.writer.add_scalar(f"improve/{key}/{tag}", row[key], step)
        if not math.isnan(row.get("loss", math.nan)):
            self.writer.add_scalar(f"train/loss/{tag}", row["loss"], step)
        print(json.dumps(row), flush=True)
        self.bar.update(1)

    def save(self) -> None:
        save_checkpoint(self.checkpoint, self.model, improve_config=self.config.to_dict(), rows=self.rows,
                        progress=self.progress, learner=self.learner.state_dict())  # fmt: skip
        self.learner.dataset.save(self.checkpoint.with_name("checkpoint.dataset.npz"))
        text = "".join(json.dumps(r) + "\n" for r in self.rows)
        (self.folder / "improve.jsonl").write_text(text)
        if self.args.json:
            Path(self.args.json).write_text(text)

    def close(self) -> None:
        self.bar.close()
        self.writer.close()


def test_time(run: Run, tasks, evals, combos, weights) -> None:
    """Each (mode, level) on its own from --init, on the states it is evaluated on."""
    config = run.config
    for stage, (mode, level) in enumerate(combos):
        if stage < run.progress["stage"]:
            continue
        if stage > run.progress["stage"]:  # the previous stage just finished in this process
            run.progress.update(stage=stage, generation=0, finished=None)
        elif run.progress.get("finished") == config.generations:  # done, and not asked for more
            continue
        if run.progress["generation"] == 0:
            run.restart_from_init()
            run.progress["cum"] = [0.0] * len(tasks)
        for generation in range(run.progress["generation"], config.generations + 1):
            run.rows = [r for r in run.rows if (r["corruption_mode"], r["corruption"], r["generation"]) !=
                        (mode, float(level), generation)]  # a final generation run again, now extended
            results, states = refine_and_collect(run.model, tasks, level, mode, config)
            cum = np.asarray(run.progress["cum"]) + [r.cpu_seconds for r in results]
            row = _row("test-time", run.args.tasks, generation, mode, level, results, cum)
            if weights is not None:
                row.update(_baseline(tasks, mode, level, cum, weights, config.seed))
            loss, final = math.nan, generation == config.generations
            if not final:
                start = time.process_time()
                loss = run.learner.learn(fit_pairs(results, states), generation, kept_states(results, states))
                run.progress["cum"] = (cum + (time.process_time() - start) / len(tasks)).tolist()
            run.emit({**row, "loss": loss})
            # A final generation (no update after it) is run again if more generations are asked for later.
            next_generation = generation if final else generation + 1
            run.progress.update(generation=next_generation, finished=generation if final else None)
            run.save()


def inductive(run: Run, tasks, evals, combos, weights) -> None:
    """One policy improved on --tasks at every (mode, level), evaluated on --eval-files."""
    config = run.config
    if run.progress.get("finished") == config.generations:
        return
    for generation in range(run.progress["generation"], config.generations + 1):
        # A final generation now extended keeps its rows: its policy has not changed since.
        extended = generation == run.progress.get("finished")
        run.rows = [r for r in run.rows if r["generation"] < generation or (extended and r["generation"] == generation)]
        cum, first = run.progress["cum"] or 0.0, sum(r["generation"] < generation for r in run.rows)
        evaluated = not extended and (generation % run.args.eval_every == 0 or generation == config.generations)
        for path, eval_tasks in evals.items() if evaluated else ():
            for mode, level in combos:
                results, _ = refine_and_collect(run.model, eval_tasks, level, mode, config)
                spent = np.asarray([r.cpu_seconds for r in results])
                row = _row("inductive", path, generation, mode, level, results, spent + cum)
                if weights is not None:
                    row.update(_baseline(eval_tasks, mode, level, spent, weights, config.seed))
                run.emit({**row, "loss": math.nan})
        if generation < config.generations:
            start = time.process_time()
            window = generation_tasks(tasks, generation, config.tasks_per_generation)
            searched = [refine_and_collect(run.model, window, level, mode, config) for mode, level in combos]
            pairs = [p for p in (fit_pairs(*found) for found in searched) if p is not None]
            kept = [state for found in searched for state in kept_states(*found)]
            merged = None if not pairs else ({k: np.concatenate([p[0][k] for p in pairs]) for k in pairs[0][0]},
                                             np.concatenate([p[1] for p in pairs]))  # fmt: skip
            loss = run.learner.learn(merged, generation, kept)
            cum += (time.process_time() - start) / len(window)
            for row in run.rows[first:]:  # the loss of the update that follows this generation's search
                row["loss"] = loss
            # Kept per generation, so that any generation's policy can be checked or shipped later.
            save_checkpoint(run.folder / f"generation_{generation + 1}.pt", run.model,
                            improve_config=config.to_dict(), generation=generation + 1)  # fmt: skip
        # A final generation (no update after it) gets its update if more generations are asked for later.
        run.progress.update(generation=generation + 1 if generation < config.generations else generation, cum=cum)
        run.save()
    run.progress["finished"] = config.generations
    run.save()


def _row(protocol: str, source, generation: int, mode: str, level: float, results, cum: np.ndarray) -> dict:
    n = len(results)
    return {
        "protocol": protocol, "tasks": str(source), "generation": generation, "corruption": float(level),
        "corruption_mode": mode, "pass_visible": sum(r.round_solved is not None for r in results) / n,
        "pass_held_out": sum(r.held_out_solved for r in results) / n,
        "cpu_seconds": float(np.mean([r.cpu_seconds for r in results])), "improve_cpu_seconds": float(np.mean(cum)),
    }  # fmt: skip


def _baseline(tasks, mode: str, level: float, cpu: np.ndarray, weights, seed: int) -> dict:
    """The classical sketch search given `cpu[i]` CPU seconds on task i."""
    budgets = {(float(level), i): float(c) for i, c in enumerate(cpu)}
    agent = Agent(None, Decoding("argmax", 1), "sketch", weights, cpu_budgets=budgets)
    results = evaluate_tasks(agent, tasks, (level,), 1, seed, env_options={"corruption_mode": mode})
    n = len(results)
    return {"baseline": "sketch", "baseline_pass_held_out": sum(r.held_out_solved for r in results) / n,
            "baseline_pass_visible": sum(r.round_solved is not None for r in results) / n}  # fmt: skip




if __name__ == "__main__":
    raise SystemExit(main())
