"""The `--tasks` flag shared by the entry points: the generated corpus or a JSON Lines file."""

from __future__ import annotations

import argparse

from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE
from progrefine_env.tasks.task import Task


def add_task_flags(parser: argparse.ArgumentParser, default_split: str) -> None:
    group = parser.add_argument_group("tasks")
    group.add_argument("--tasks", default="generated", help="'generated' (the built-in corpus) or a .jsonl file")
    group.add_argument("--split", default=default_split, help="split of the generated corpus: train, val or test")
    group.add_argument(
        "--corpus-size", type=int, default=DEFAULT_CORPUS_SIZE,
        help="size of the generated corpus (all splits; the default size ships with the package)",
    )  # fmt: skip
    group.add_argument("--corpus-seed", type=int, default=0, help="seed of the generated corpus")


def load_task_option(args: argparse.Namespace, split: str | None = None) -> list[Task]:
    """Tasks named by the flags; `split` overrides `--split` for the generated corpus.

    Raises ValueError naming the source when it holds no task (`TaskFileError` for a bad line,
    `FileNotFoundError` for a missing file).
    """
    if args.tasks == "generated":
        from progrefine_env.tasks.corpus import load_corpus

        split = split or args.split
        tasks = load_corpus(split, size=args.corpus_size, seed=args.corpus_seed, progress=True)
        if not tasks:
            raise ValueError(f"the generated corpus of {args.corpus_size} tasks has no task in split {split!r}")
        return tasks
    from progrefine_env.tasks.io import load_tasks

    tasks = load_tasks(args.tasks)
    if not tasks:
        raise ValueError(
            f"{args.tasks}: no tasks in the file (a task file holds one JSON object per line; see docs/tasks.md)"
        )
    return tasks
