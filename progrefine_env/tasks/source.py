"""The environment's `tasks` argument: the generated corpus, a JSON Lines task file or a sequence of
`Task`s, loaded into a task list that fits the observation's arrays."""

from __future__ import annotations

import os
from collections.abc import Sequence

from .task import Task


def load_task_source(tasks, split, corpus_size, corpus_seed, max_nodes, max_tests) -> list[Task]:
    """The task list from the `tasks` option, refusing tasks that do not fit the arrays; every
    refusal says why and names the source."""
    if isinstance(tasks, str) and tasks == "generated":
        from .corpus import load_corpus

        corpus = load_corpus(split, size=corpus_size, seed=corpus_seed, progress=True)
        loaded = [t for t in corpus if len(t.program) <= max_nodes]
        source = f"generated corpus split {split!r}"
        if corpus and not loaded:
            smallest = min(len(t.program) for t in corpus)
            raise ValueError(
                f"{source}: every one of its {len(corpus)} tasks has more than max_nodes={max_nodes} nodes "
                f"(the smallest has {smallest})"
            )
    elif isinstance(tasks, (str, os.PathLike)):
        from .io import load_tasks

        source = os.fspath(tasks)
        if os.path.isdir(source):
            raise IsADirectoryError(f"{source}: a folder, not a task file")
        if not os.path.isfile(source):
            raise FileNotFoundError(f"{source}: no such task file")
        loaded = load_tasks(source)
        if not loaded:
            raise ValueError(f"{source}: no tasks in the file (one JSON object per line; see docs/tasks.md)")
    elif isinstance(tasks, Sequence) or hasattr(tasks, "__iter__"):
        loaded, source = list(tasks), "task list"
        for k, task in enumerate(loaded):
            if not isinstance(task, Task):
                raise TypeError(f"tasks[{k}] is a {type(task).__name__}, not a progrefine_env Task")
    else:
        raise TypeError(
            f"tasks={tasks!r}: expected 'generated', the path of a JSON Lines task file, or a sequence of Tasks, "
            f"not {type(tasks).__name__}"
        )
    if not loaded:
        raise ValueError(f"{source}: no tasks")
    for k, task in enumerate(loaded):
        label = f"{source}: task {k}" + (f" ({task.name!r})" if task.name else "")
        if len(task.program) > max_nodes:
            raise ValueError(f"{label} has {len(task.program)} nodes, more than max_nodes={max_nodes}")
        if len(task.tests) > max_tests:
            raise ValueError(f"{label} has {len(task.tests)} visible tests, more than max_tests={max_tests}")
    return loaded
