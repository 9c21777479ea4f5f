"""Throughput of the language and the task generator, and the shape of the generated corpus.

    python benchmarks/language.py [--tasks N] [--seed S]

Prints one table: tasks generated per second, program evaluations per second (one program on one
test, compiled once, over the generated corpus), program compilations per second, grammar-mask
computations per second (`check` on complete programs and on programs with half their nodes
masked, as the environment sees them, and `grammar_masks` with its array), then the node-count
distribution and the share of each token in the corpus. The default sizes run in well under a
minute on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from progrefine_env.lang import MASK, VOCAB, Compiled, Program, check, grammar_masks  # noqa: E402
from progrefine_env.tasks import GeneratorConfig, generate_tasks  # noqa: E402


def _rate(work, count: int, min_seconds: float = 1.0) -> float:
    """Calls of `work()` (each doing `count` operations) per second, repeated for min_seconds."""
    done, start = 0, time.perf_counter()
    while True:
        work()
        done += count
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def _masked(program: Program, rng: np.random.Generator, share: float) -> Program:
    nodes = rng.choice(len(program), size=max(1, int(share * len(program))), replace=False)
    return program.replace({int(i): MASK for i in nodes})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000, help="tasks to generate (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=1.0, help="least time per throughput measurement")
    args = parser.parse_args(argv)
    config = GeneratorConfig()

    start, cpu = time.perf_counter(), time.process_time()
    tasks = generate_tasks(args.tasks, seed=args.seed, config=config)
    gen_wall, gen_cpu = time.perf_counter() - start, time.process_time() - cpu

    programs = [t.program for t in tasks]
    compiled = [Compiled(t.program) for t in tasks]
    runs = [(c, test.inputs) for c, t in zip(compiled, tasks) for test in t.tests + t.held_out_tests]
    rng = np.random.default_rng(args.seed)
    half_masked = [(_masked(t.program, rng, 0.5), t.input_types) for t in tasks]
    typed = [(t.program, t.input_types) for t in tasks]

    def evaluate_all():
        for c, inputs in runs:
            c.run(inputs)

    def compile_all():
        for p in programs:
            Compiled(p)

    def check_all(pairs):
        def work():
            for p, types in pairs:
                check(p, types)

        return work

    def masks_all():
        for p, types in typed:
            grammar_masks(p, types)

    rows = [
        ("tasks generated / s (1 core, wall)", args.tasks / gen_wall),
        ("tasks generated / s (CPU time)", args.tasks / gen_cpu),
        ("program evaluations / s (1 program, 1 test)", _rate(evaluate_all, len(runs), args.seconds)),
        ("program compilations / s", _rate(compile_all, len(programs), args.seconds)),
        ("grammar masks / s: check, complete program", _rate(check_all(typed), len(typed), args.seconds)),
        ("grammar masks / s: check, half the nodes masked", _rate(check_all(half_masked), len(typed), args.seconds)),
        ("grammar masks / s: grammar_masks (bool array)", _rate(masks_all, len(typed), args.seconds)),
    ]
    sizes = sorted(len(p) for p in programs)

    def pct(q: float) -> int:
        return sizes[min(len(sizes) - 1, int(q * (len(sizes) - 1) + 0.5))]

    print(f"ProgRefine language benchmark: {args.tasks} generated tasks (seed {args.seed}), one process\n")
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  {'per second':>12}")
    print(f"{'-' * width}  {'-' * 12}")
    for name, value in rows:
        print(f"{name:<{width}}  {value:>12,.0f}")
    print(f"\n(generating {args.tasks} tasks took {gen_wall:.1f} s wall, {gen_cpu:.1f} s CPU; "
          f"100,000 would take about {100_000 / (args.tasks / gen_cpu) / 60:.1f} CPU minutes)")  # fmt: skip

    print("\nnode count: " + "  ".join(
        f"{name} {value}" for name, value in (
            ("min", sizes[0]), ("p10", pct(0.1)), ("p25", pct(0.25)), ("median", pct(0.5)),
            ("p75", pct(0.75)), ("p90", pct(0.9)), ("p99", pct(0.99)), ("max", sizes[-1]),
        )
    ))  # fmt: skip
    histogram = Counter(min(n // 8, 7) for n in sizes)
    for bucket in range(8):
        label = f"{8 * bucket:>2}-{8 * bucket + 7:<2}" if bucket < 7 else "56+  "
        share = histogram[bucket] / len(sizes)
        print(f"  {label} {share:6.1%} {'#' * round(60 * share)}")
    outputs = Counter(type(t.tests[0].output).__name__ for t in tasks)
    signatures = Counter(", ".join(f"{k}:{v}" for k, v in t.input_types.items()) for t in tasks)
    print("output types: " + ", ".join(f"{k} {v / len(tasks):.0%}" for k, v in outputs.most_common()))
    print("signatures:   " + ", ".join(f"({k}) {v / len(tasks):.0%}" for k, v in signatures.most_common()))

    counts = Counter(VOCAB[tok] for p in programs for tok in p.tokens)
    total = sum(counts.values())
    shares = sorted(((counts.get(tok, 0) / total, tok) for tok in VOCAB[2:]), reverse=True)
    print(f"\ntoken shares ({total:,} nodes; tokens never used: "
          f"{', '.join(tok for share, tok in shares if not share) or 'none'})")  # fmt: skip
    columns = 4
    rows_needed = -(-len(shares) // columns)
    for r in range(rows_needed):
        cells = [shares[c * rows_needed + r] for c in range(columns) if c * rows_needed + r < len(shares)]
        print("  " + "".join(f"{tok:>8} {share:6.2%}   " for share, tok in cells))


if __name__ == "__main__":
    main()
