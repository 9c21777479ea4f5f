"""The `--tasks` flag shared by the entry points: the generated corpus or a JSON Lines file."""

from __future__ import annotations

import argparse

from progrefine_env.tasks.task import Task


def add_task_flags(parser: argparse.ArgumentParser, default_split: str) -> None:
    group = parser.add_argument_group("tasks")
    group.add_argument("--tasks", default="generated", help="'generated' (the built-in corpus) or a .jsonl file")
    group.add_argument("--split", default=default_split, help="split of the generated corpus: train, val or test")
    group.add_argument("--corpus-size", type=int, default=20_000, help="size of the generated corpus (all splits)")
    group.add_argument("--corpus-seed", type=int, default=0, help="seed of the generated corpus")


def load_task_option(args: argparse.Namespace, split: str | None = None) -> list[Task]:
    """Tasks named by the flags; `split` overrides `--split` for the generated corpus."""
    if args.tasks == "generated":
        from progrefine_env.tasks.corpus import load_corpus

        return load_corpus(split or args.split, size=args.corpus_size, seed=args.corpus_seed)
    from progrefine_env.tasks.io import load_tasks

    return load_tasks(args.tasks)
