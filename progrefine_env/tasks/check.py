"""Check a task file: `python -m progrefine_env.tasks.check FILE [FILE ...]`.

Loads each file as the environment would (`load_tasks`: every line parsed, type-checked and run
against its own tests) and prints a summary per file, or, for the first bad task, one line
`error: FILE:LINE (task NAME): reason` on stderr and exit status 2. The format: docs/tasks.md.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from .io import load_tasks
from .task import Task


def summary(path: str, tasks: list[Task]) -> str:
    """`FILE: N tasks OK`, with their signatures, program sizes and test counts."""
    signatures = Counter(", ".join(f"{k}: {v}" for k, v in t.input_types.items()) for t in tasks)
    sizes = [len(t.program) for t in tasks]
    held = sum(len(t.held_out_tests) for t in tasks)
    return (
        f"{path}: {len(tasks)} task{'s' * (len(tasks) != 1)} OK; nodes {min(sizes)}-{max(sizes)}; "
        f"{sum(len(t.tests) for t in tasks)} visible and {held} held-out tests; "
        f"inputs " + "; ".join(f"({sig}) x{n}" for sig, n in signatures.most_common())
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m progrefine_env.tasks.check", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="JSON Lines task files")
    args = parser.parse_args(argv)
    for path in args.files:
        try:
            tasks = load_tasks(path)
        except (ValueError, OSError) as err:
            reason = f"{err.filename}: {err.strerror.lower()}" if isinstance(err, OSError) and err.strerror else err
            print(f"error: {reason}", file=sys.stderr)
            return 2
        if not tasks:
            print(f"error: {path}: no tasks in the file (one JSON object per line)", file=sys.stderr)
            return 2
        print(summary(path, tasks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
