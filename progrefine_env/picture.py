"""Pictures of a program being repaired: `render_mode="rgb_array"` frames and the evaluation's
per-task pictures.

Each picture draws the program tree (root at the top, children left to right in order), every node
a box with its token, coloured by the tests' signal at that node (the observation's Ochiai-style
`node_suspicion`: green where no failing test points, red where they all do; every box green once
all tests pass; white where no test could run the program), a dashed grey border on a `<mask>`
node, a thick blue border on the nodes the last step changed and a thin blue one on the nodes
changed since the episode began. A title line gives the step, the tests passed and each test's
outcome.

matplotlib draws it through its Agg canvas: no display, no pyplot state, safe in worker processes.
It is imported on first use only (the environment itself needs numpy and gymnasium alone).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .lang import MASK, VOCAB, Program

WIDTH, HEIGHT, DPI = 960, 540, 100
"""Frame size in pixels (even, as video encoders want) and the drawing resolution."""


@dataclass(frozen=True)
class State:
    """What one picture shows (nothing in it is privileged: all of it is in the observation or `info`).

    Attributes:
        program: the program drawn.
        suspicion: [n] test signal per node in [0, 1] (the observation's `node_suspicion`), or
            None where no test ran the program (a hole or a type error): boxes drawn neutral.
        changed: nodes the last step changed.
        edited: nodes whose token differs from the episode's start.
        title: the line above the tree.
    """

    program: Program
    suspicion: np.ndarray | None
    changed: frozenset[int] = frozenset()
    edited: frozenset[int] = frozenset()
    title: str = ""


def matplotlib_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def tree_layout(program: Program) -> tuple[np.ndarray, np.ndarray]:
    """(x [n], y [n]) of each node: leaves one slot apart in order, a parent centred over its
    children, one row per depth (y = -depth)."""
    shape, n = program.shape, len(program)
    x, y = np.zeros(n), -np.asarray(shape.depth, dtype=float)
    slot = 0
    for node in range(n):  # leaves in order, one slot apart
        if not shape.children[node]:
            x[node], slot = slot, slot + 1
    for node in range(n - 1, -1, -1):  # parents bottom-up: children come after them in pre-order
        kids = shape.children[node]
        if kids:
            x[node] = (x[kids[0]] + x[kids[-1]]) / 2
    return x, y


def draw(ax, state: State) -> None:
    """Draw `state` on a matplotlib `Axes`."""
    from matplotlib import colormaps

    program, shape = state.program, state.program.shape
    x, y = tree_layout(program)
    cmap = colormaps["RdYlGn_r"]
    n = len(program)
    font = max(5.0, min(11.0, 220.0 / max(n, 1) ** 0.9))
    for node in range(1, n):
        parent = shape.parent[node]
        ax.plot([x[parent], x[node]], [y[parent], y[node]], color="#888888", linewidth=0.8, zorder=1)
    for node, token in enumerate(program.tokens):
        masked = token == MASK
        border = {"edgecolor": "#555555", "linewidth": 0.8, "linestyle": "-"}
        if masked:
            border = {"edgecolor": "#777777", "linewidth": 1.2, "linestyle": "--"}
        if node in state.edited:
            border = {"edgecolor": "#1f5fbf", "linewidth": 1.4, "linestyle": "-"}
        if node in state.changed:
            border = {"edgecolor": "#0b3d91", "linewidth": 3.0, "linestyle": "-"}
        if masked:
            face = "#dddddd"
        elif state.suspicion is None:
            face = "#f4f4f4"
        else:
            face = cmap(0.2 + 0.6 * float(np.clip(state.suspicion[node], 0.0, 1.0)))
        box = {"boxstyle": "round,pad=0.3", "facecolor": face, **border}
        label = "?" if masked else VOCAB[token]
        ax.text(x[node], y[node], label, ha="center", va="center", fontsize=font, family="monospace", bbox=box)
    centre, half = (x.max() / 2, max(x.max() / 2, 1.5)) if n else (0.0, 1.5)  # a small tree stays centred
    ax.set_xlim(centre - half - 0.8, centre + half + 0.8)
    ax.set_ylim((y.min() if n else 0.0) - 0.6, 0.6)
    ax.set_title(state.title, fontsize=9, family="monospace", loc="left")
    ax.axis("off")


LEGEND = ("colour: test signal (green: no failing test reaches the node, red: all do)   "
          "dashed: <mask>   thick blue: changed by the last step   thin blue: edited this episode")  # fmt: skip


def _figure(width: int, height: int):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def render_rgb(state: State, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """One frame: uint8 [height, width, 3]."""
    figure = _figure(width, height)
    ax = figure.add_axes((0.01, 0.06, 0.98, 0.86))
    draw(ax, state)
    figure.text(0.01, 0.015, LEGEND, fontsize=6.5, color="#444444")
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


def save_rounds(states: Sequence[State], path: str | os.PathLike, width: int = WIDTH, row_height: int = 300) -> None:
    """One picture of a task's rounds, one row per round, saved to `path` (PNG)."""
    if not states:
        raise ValueError("no rounds to draw")
    figure = _figure(width, row_height * len(states) + 30)
    rows = len(states)
    for k, state in enumerate(states):
        top = 1.0 - k / rows
        ax = figure.add_axes((0.01, top - 0.95 / rows, 0.98, 0.8 / rows))
        draw(ax, state)
    figure.text(0.01, 0.003, LEGEND, fontsize=6.5, color="#444444")
    figure.savefig(os.fspath(path), dpi=DPI)


def rounds_states(task, programs: Sequence[str]) -> list[State]:
    """The pictures' states of a task's rounds: `programs` (texts: the start, then the program
    after each round) with the visible tests' signal of each, edits marked against the one before
    (thick) and the start (thin). For a report after the fact, as `train.evaluate --pictures` draws."""
    from .feedback import run_tests
    from .lang import parse

    states, start, previous = [], None, None
    for k, text in enumerate(programs):
        program = parse(text)
        start = start or program
        feedback = run_tests(program, task.input_types, task.tests)
        passed = feedback.num_passed == len(task.tests)
        signal = np.zeros(len(program)) if passed else None if not feedback.reached_failing.any() else feedback.ochiai

        name = "start" if k == 0 else f"round {k - 1}"
        title = f"{name}   tests {feedback.num_passed}/{len(task.tests)}   {text}"
        title = title if len(title) <= 150 else title[:147] + "..."
        signal = None if signal is None else np.asarray(signal)
        states.append(State(program, signal, _diff(program, previous or program), _diff(program, start), title))
        previous = program
    return states


def _diff(program: Program, other: Program) -> frozenset[int]:
    """Nodes whose token differs between two programs of the same shape."""
    return frozenset(i for i, (a, b) in enumerate(zip(program.tokens, other.tokens)) if a != b)
