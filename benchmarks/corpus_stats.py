"""Token shares and program sizes of task sets, side by side: what a model trained on them sees.

    python benchmarks/corpus_stats.py [--file PATH ...] [--corpus] [--generate N] [--seed S] [--only-structure]

Each source is one column: `--file` a JSON Lines task file (e.g. an older cached corpus, or
benchmarks/tasks/handwritten.jsonl), `--corpus` the default corpus of the current generator (all
splits, `load_corpus`; generated on first use), `--generate N` N tasks from `generate_tasks` with
the current default config (timed). Prints, per source: the share of every token among all
nodes, the share of programs that use it at least once, the node-count distribution, output types
and input signatures, and the share of programs with each of the structures of `structure()`:
nested lambdas, a `lam` inside a `lam2` (or the other way round), an `if` inside a lambda, two or
more inputs (`--only-structure`: only the sizes and these shares).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from progrefine_env.lang import VOCAB, Program  # noqa: E402
from progrefine_env.tasks import GENERATOR_VERSION, SPLITS, Task, generate_tasks, load_corpus, load_tasks  # noqa: E402

LAMBDAS = ("lam", "lam2")
STRUCTURES = (
    ("nested higher-order", "nested"),
    ("lam in lam2 (or lam2 in lam)", "lam_in_lam2"),
    ("if inside a lambda", "if_in_lambda"),
    ("2+ inputs", "multi_input"),
    ("any of the four", "any"),
)
"""Row label and `structure()` key of each structural share, in the order printed."""


def structure(program: Program, input_types: dict[str, str]) -> dict[str, bool]:
    """What makes a program more than one higher-order step: `nested` (a lambda inside another
    lambda's body, so a higher-order token inside another's lambda), `lam_in_lam2` (a `lam` inside a
    `lam2`'s body or a `lam2` inside a `lam`'s), `if_in_lambda` (an `if` inside a lambda's body),
    `multi_input` (two or more declared inputs), and `any` of these."""
    names = [VOCAB[t] for t in program.tokens]
    end = program.shape.end
    found = {"nested": False, "lam_in_lam2": False, "if_in_lambda": False}
    for i, name in enumerate(names):
        if name not in LAMBDAS:
            continue
        inside = names[i + 1 : end[i]]
        found["nested"] |= any(n in LAMBDAS for n in inside)
        found["lam_in_lam2"] |= (LAMBDAS[1] if name == "lam" else LAMBDAS[0]) in inside
        found["if_in_lambda"] |= "if" in inside
    found["multi_input"] = len(input_types) >= 2
    found["any"] = any(found.values())
    return found


def _sources(args: argparse.Namespace) -> list[tuple[str, list[Task]]]:
    sources = []
    for path in args.file or ():
        sources.append((os.path.basename(path)[:18], load_tasks(path)))
    if args.corpus:
        tasks = [t for split in SPLITS for t in load_corpus(split)]
        sources.append((f"corpus v{GENERATOR_VERSION}", tasks))
    if args.generate:
        start = time.perf_counter()
        tasks = generate_tasks(args.generate, seed=args.seed)
        print(f"generate_tasks({args.generate}, seed={args.seed}): {time.perf_counter() - start:.1f} s, one process")
        sources.append((f"generated v{GENERATOR_VERSION}", tasks))
    return sources


def _percentile(sizes: list[int], q: float) -> int:
    return sizes[min(len(sizes) - 1, int(q * (len(sizes) - 1) + 0.5))]


def _table(title: str, rows: list[tuple[str, list[str]]], names: list[str]) -> None:
    print(f"\n{title}")
    width = max(len(label) for label, _ in rows)
    print(f"{'':<{width}}  " + "  ".join(f"{n:>18}" for n in names))
    for label, cells in rows:
        print(f"{label:<{width}}  " + "  ".join(f"{c:>18}" for c in cells))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", action="append", help="a JSON Lines task file (repeatable)")
    parser.add_argument("--corpus", action="store_true", help="the default corpus of the current generator")
    parser.add_argument("--generate", type=int, default=0, help="generate this many tasks with the default config")
    parser.add_argument("--seed", type=int, default=0, help="seed for --generate")
    parser.add_argument("--only-structure", action="store_true", help="print only program sizes and structures")
    args = parser.parse_args(argv)
    sources = _sources(args)
    if not sources:
        parser.error("name at least one source: --file, --corpus or --generate")
    names = [name for name, _ in sources]
    print("columns: " + "; ".join(f"{name} = {len(tasks):,} tasks" for name, tasks in sources))
    if not args.only_structure:
        _token_table(sources, names)

    rows = []
    sized = [sorted(len(t.program) for t in tasks) for _, tasks in sources]
    for label, q in (("min", 0.0), ("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9),
                     ("p99", 0.99), ("max", 1.0)):  # fmt: skip
        rows.append((label, [str(_percentile(s, q)) for s in sized]))
    for low, high in ((3, 5), (6, 8), (9, 12), (13, 16), (17, 24), (25, 30), (31, 64)):
        rows.append((f"{low}-{high} nodes", [f"{sum(low <= n <= high for n in s) / len(s):.1%}" for s in sized]))
    _table("program size (nodes)", rows, names)

    found = [[structure(t.program, t.input_types) for t in tasks] for _, tasks in sources]
    rows = [(label, [f"{sum(f[key] for f in fs) / max(1, len(fs)):.1%}" for fs in found]) for label, key in STRUCTURES]
    _table("structure (share of programs)", rows, names)
    if args.only_structure:
        return

    outputs = [Counter(type(t.tests[0].output).__name__ for t in tasks) for _, tasks in sources]
    signatures = [
        Counter(" ".join(f"{k}:{v}" for k, v in t.input_types.items()) for t in tasks) for _, tasks in sources
    ]
    rows = []
    for counters in (outputs, signatures):
        for key in sorted({k for c in counters for k in c}, key=lambda k: (len(k), k)):
            rows.append((key, [f"{c[key] / max(1, sum(c.values())):.1%}" for c in counters]))
    _table("output types and input signatures (share of tasks)", rows, names)


def _token_table(sources: list[tuple[str, list[Task]]], names: list[str]) -> None:
    node_counts = [Counter(VOCAB[t] for task in tasks for t in task.program.tokens) for _, tasks in sources]
    program_counts = [Counter(VOCAB[t] for task in tasks for t in set(task.program.tokens)) for _, tasks in sources]
    rows = []
    for token in VOCAB[2:]:
        cells = []
        for nodes, programs, (_, tasks) in zip(node_counts, program_counts, sources):
            share = nodes[token] / max(1, sum(nodes.values()))
            cells.append(f"{share:6.2%} {programs[token] / max(1, len(tasks)):6.1%}")
        rows.append((token, cells))
    _table("token: share of all nodes, share of programs using it", rows, names)


if __name__ == "__main__":
    main()
