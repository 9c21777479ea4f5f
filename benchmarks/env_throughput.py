"""Environment throughput: ProgramRefine-v0 against CartPole-v1 in the same run, and vectorized.

    python benchmarks/env_throughput.py                 # table, then a profile of an edit step
    python benchmarks/env_throughput.py --quick         # fewer steps, no vector envs of 8
    python benchmarks/env_throughput.py --markdown      # the tables as Markdown

ProgramRefine-v0 runs on the default generated corpus (train split, 20,000 tasks; generated and
cached on first use) at corruption 0.5, with random actions drawn among those
`env.action_masks()` allows; CartPole-v1 with `action_space.sample()`. Both through `gym.make`
(so with Gymnasium's checker and order-enforcing wrappers). A step's time counts `env.step` and
the resets, not the drawing of the action; the ratio to CartPole compares CPU times, which other
processes on a shared machine do not inflate. Each figure is the best of `--repeats` runs.
Vector environments are timed by the wall clock (their workers are other processes), actions
drawn from `info["action_mask"]`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import time
from collections import defaultdict

import gymnasium as gym
import numpy as np

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)


def masked_action(mask: np.ndarray, edit: bool, rng: np.random.Generator, max_nodes: int):
    if edit:
        allowed = np.flatnonzero(mask)
        return int(allowed[rng.integers(len(allowed))])
    rows = mask.reshape(max_nodes, -1)
    return np.where(rows, rng.random(rows.shape), -1.0).argmax(axis=1)


def single_env_rate(env_id: str, steps: int, repeats: int, seed: int = 0, **options) -> dict:
    """Best-of-`repeats` µs per step (resets included) in CPU time and in wall-clock time.

    CPU time (`time.process_time`) is the figure to compare on a shared machine: it does not count
    the time other processes hold the CPU. The step time is the loop's time less the time of
    drawing the same actions again from the recorded masks (CartPole: `action_space.sample()`)."""
    env = gym.make(env_id, **options)
    masks = getattr(env.unwrapped, "action_masks", None)
    edit = isinstance(env.action_space, gym.spaces.Discrete) and masks is not None
    max_nodes = getattr(env.unwrapped, "max_nodes", 0)
    env.action_space.seed(seed)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    best = {"step_cpu": float("inf"), "step_wall": float("inf"), "loop_wall": float("inf")}
    for _ in range(repeats):
        recorded = []
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            if masks:
                mask = masks()
                recorded.append(mask)
                action = masked_action(mask, edit, rng, max_nodes)
            else:
                action = env.action_space.sample()
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        loop_cpu, loop_wall = time.process_time() - cpu, time.perf_counter() - wall
        wall, cpu = time.perf_counter(), time.process_time()
        for k in range(steps):  # the same work of choosing actions, without the env
            if masks:
                masked_action(recorded[k], edit, rng, max_nodes)
            else:
                env.action_space.sample()
        pick_cpu, pick_wall = time.process_time() - cpu, time.perf_counter() - wall
        best["step_cpu"] = min(best["step_cpu"], (loop_cpu - pick_cpu) / steps * 1e6)
        best["step_wall"] = min(best["step_wall"], (loop_wall - pick_wall) / steps * 1e6)
        best["loop_wall"] = min(best["loop_wall"], loop_wall / steps * 1e6)
    env.close()
    return best


def vector_rate(env_id: str, num_envs: int, mode: str, steps: int, repeats: int, seed: int = 0, **options) -> float:
    """Best-of-`repeats` environment steps per second (num_envs per vector step), masked actions."""
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode, **options)
    single = envs.single_action_space
    edit = isinstance(single, gym.spaces.Discrete)
    rng = np.random.default_rng(seed)
    envs.action_space.seed(seed)
    _, infos = envs.reset(seed=seed)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            if "action_mask" in infos:
                max_nodes = options.get("max_nodes", 64)
                actions = np.stack([masked_action(m, edit, rng, max_nodes) for m in infos["action_mask"]])
            else:
                actions = envs.action_space.sample()
            _, _, _, _, infos = envs.step(actions)
        best = min(best, (time.perf_counter() - start) / steps)
    envs.close()
    return num_envs / best


AREAS = (
    # lang/types.py and lang/interpreter.py with the modules split out of them (issue 28).
    *((f"lang/{name}.py", "type checking and grammar masks (lang.check)")
      for name in ("types", "signatures", "passes")),
    *((f"lang/{name}.py", "running the program (lang interpreter, traced)")
      for name in ("interpreter", "operations", "values")),
    ("lang/program.py", "building programs (Program, shapes)"),
    ("lang/syntax.py", "printing the program for info (unparse)"),
    ("feedback.py", "summarising test results per node (feedback)"),
    ("graph.py", "edges (graph.encode_edges)"),
    ("env.py", "the env itself (decode, apply, obs, info)"),
    # The env's own modules split out of env.py (issue 28): still the env itself.
    *((f"progrefine_env/{name}.py", "the env itself (decode, apply, obs, info)")
      for name in ("actions", "observation", "options", "scoring", "render")),
    ("gymnasium", "Gymnasium wrappers (checker, order enforcing)"),
    ("numpy", "numpy's Python code"),
)
"""Areas of the profile, by the file a function is in; a builtin counts for the area that calls it."""


def profile_edit_steps(steps: int, seed: int = 0, **options) -> tuple[str, list[tuple[str, float]], float]:
    """cProfile of `steps` edit-mode steps: the top functions, and the share of time per area."""
    env = gym.make("ProgramRefine-v0", action_mode="edit", corruption=0.5, **options)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    actions = []

    def run() -> None:
        for _ in range(steps):
            action = masked_action(env.unwrapped.action_masks(), True, rng, 0)
            actions.append(action)
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()

    profiler = cProfile.Profile()
    profiler.runcall(run)
    stats = pstats.Stats(profiler)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)

    def area(filename: str) -> str:
        for needle, label in AREAS:
            if needle in filename.replace(os.sep, "/"):
                return label
        return "other (the benchmark loop, Python's own code)"

    by_area: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, _), (_, _, tottime, _, callers) in stats.stats.items():
        total += tottime
        if filename == "~" and callers:  # a builtin (any, all, dict.get...): charge it to its callers
            for (caller_file, _, _), (_, _, caller_tt, _) in callers.items():
                by_area[area(caller_file)] += caller_tt
            by_area[area("~")] += tottime - sum(c[2] for c in callers.values())
        else:
            by_area[area(filename)] += tottime
    shares = sorted(((label, t / total) for label, t in by_area.items()), key=lambda x: -x[1])
    return text.getvalue(), shares, total / steps * 1e6


def table(rows: list[list[str]], markdown: bool) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join(" --- " for _ in rows[0]) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    else:
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000, help="steps per timed run (single envs)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--vector-steps", type=int, default=300, help="vector steps per timed run")
    parser.add_argument("--profile-steps", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="fewer steps; vector envs of 2 only")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--corpus-size", type=int, default=20_000, help="20,000 is the default corpus")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.repeats, args.vector_steps, args.profile_steps = 500, 2, 50, 500

    corpus = {"corpus_size": args.corpus_size}
    gym.make("ProgramRefine-v0", **corpus).close()  # generate / load the default corpus outside the timings
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, gymnasium {gym.__version__}, load average {load[0]:.2f}")  # fmt: skip

    cart = single_env_rate("CartPole-v1", args.steps * 10, args.repeats)
    header = ["env", "action mode", "µs / step (CPU)", "steps / s (CPU)", "µs / step (wall)", "ratio to CartPole (CPU)"]
    rows = [header, ["CartPole-v1", "-", f"{cart['step_cpu']:.1f}", f"{1e6 / cart['step_cpu']:,.0f}",
                     f"{cart['step_wall']:.1f}", "1.0"]]  # fmt: skip
    for mode in ("rewrite", "edit"):
        r = single_env_rate("ProgramRefine-v0", args.steps, args.repeats, action_mode=mode, corruption=0.5, **corpus)
        rows.append(["ProgramRefine-v0", mode, f"{r['step_cpu']:.1f}", f"{1e6 / r['step_cpu']:,.0f}",
                     f"{r['step_wall']:.1f}", f"{r['step_cpu'] / cart['step_cpu']:.1f}"])  # fmt: skip
    print("\nSingle environment (gym.make), random masked actions, corruption 0.5, resets included\n")
    print(table(rows, args.markdown))

    vrows = [["env", "vectorization", "envs", "env steps / s"]]
    sizes = (2,) if args.quick else (2, 8)
    for env_id, options in (("ProgramRefine-v0", {"corruption": 0.5, **corpus}), ("CartPole-v1", {})):
        for mode in ("sync", "async"):
            for n in sizes:
                rate = vector_rate(env_id, n, mode, args.vector_steps, args.repeats, **options)
                vrows.append([env_id, mode, str(n), f"{rate:,.0f}"])
    print("\nVector environments (gymnasium.make_vec, rewrite mode, random masked actions)\n")
    print(table(vrows, args.markdown))

    if not args.no_profile:
        text, shares, per_step = profile_edit_steps(args.profile_steps, **corpus)
        print(f"\nProfile of {args.profile_steps} edit-mode steps (cProfile, {per_step:.0f} µs a step profiled)\n")
        print(table([["where", "share of time"]] + [[label, f"{share:.0%}"] for label, share in shares], args.markdown))
        print("\nTop functions by own time:\n")
        print("\n".join(line for line in text.splitlines() if line.strip())[:4000])


if __name__ == "__main__":
    main()
