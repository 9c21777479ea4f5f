"""The refinement report as a figure: token accuracy and pass rate against round, per level."""

from __future__ import annotations

import os
import re
from pathlib import Path


def plot_report(report: dict, path: str | os.PathLike, title: str = "Refinement") -> None:
    """Write a PNG with one line per corruption level in two panels (accuracy, pass rate)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    fig, (acc_ax, pass_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for level in report["levels"]:
        rounds = [s["round"] for s in level["rounds"]]
        label = f"corruption {level['corruption']:.2f}"
        acc_ax.plot(rounds, [s["token_accuracy"] for s in level["rounds"]], marker="o", label=label)
        pass_ax.plot(rounds, [s["pass_visible"] for s in level["rounds"]], marker="o", label=f"{label} visible")
        pass_ax.plot(rounds, [s["pass_held_out"] for s in level["rounds"]], marker="x", linestyle="--",
                     label=f"{label} held-out")  # fmt: skip
    acc_ax.set(title="token accuracy on corrupted nodes", xlabel="round", ylim=(0, 1))
    pass_ax.set(title="programs passing their tests (cumulative)", xlabel="round", ylim=(0, 1))
    for ax in (acc_ax, pass_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_task_pictures(report: dict, tasks, folder: str | os.PathLike) -> list[Path]:
    """One PNG per task and level of `report` (its per-task results) in `folder`: the task's start
    and each round's program as trees (`progrefine_env.picture`: tokens, holes, edits, the tests'
    signal as colour). `tasks` is the task list the report ran on. Returns the paths written."""
    from progrefine_env.picture import rounds_states, save_rounds

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for result in report["per_task"]:
        task = tasks[result["index"]]
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", result["task"] or f"task{result['index']}")
        path = folder / f"{result['corruption']:.2f}-{result['index']:04d}-{name}.png"
        save_rounds(rounds_states(task, [result["start_program"], *result["programs"]]), path)
        paths.append(path)
    return paths
