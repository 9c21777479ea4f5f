"""JSON Lines task files: loading with precise errors, and saving."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..lang import EvalError, ParseError, check, input_error, parse, value_type
from ..lang.types import input_signature
from .task import Task, Test, passes


class TaskFileError(ValueError):
    """A task file that cannot be loaded: names the file, the line, the task and the reason."""

    def __init__(self, path: str | os.PathLike, line: int, task: str | None, reason: str) -> None:
        self.path, self.line, self.task, self.reason = str(path), line, task, reason
        where = f"{path}:{line}" + (f" (task {task!r})" if task else "")
        super().__init__(f"{where}: {reason}")


_ONE_LINE_HINT = " (a task is one JSON object on one line; see docs/tasks.md)"
_KEYS = {"name", "description", "inputs", "program", "tests", "held_out_tests"}


def task_from_json(record: object) -> Task:
    """Build and validate a task from one decoded JSON record. Raises ValueError with the reason."""
    if not isinstance(record, dict):
        raise ValueError(f"a task is a JSON object, not {type(record).__name__}")
    unknown = set(record) - _KEYS
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}; a task has {sorted(_KEYS)}")
    for key in ("inputs", "program", "tests"):
        if key not in record:
            raise ValueError(f"missing field {key!r}")
    name = record.get("name", "")
    if not isinstance(name, str):
        raise ValueError("'name' must be a string")
    description = record.get("description", "")
    if not isinstance(description, str):
        raise ValueError("'description' must be a string")
    input_types = record["inputs"]
    if not isinstance(input_types, dict):
        raise ValueError("'inputs' must map input names to 'int' or 'list'")
    input_signature(input_types)  # raises for unknown names or types
    if not isinstance(record["program"], str):
        raise ValueError("'program' must be a string")
    try:
        program = parse(record["program"])
    except ParseError as err:
        raise ValueError(f"program does not parse: {err}") from None
    if not program.complete:
        raise ValueError("program contains '<mask>'")
    if not check(program, input_types).well_typed:
        raise ValueError("program does not type-check against its inputs")
    tests = _tests(record["tests"], "tests", input_types)
    held_out = _tests(record.get("held_out_tests", []), "held_out_tests", input_types)
    if not tests:
        raise ValueError("a task needs at least one visible test")
    task = Task(name, dict(input_types), program, tests, held_out, description)
    for kind, group in (("test", tests), ("held-out test", held_out)):
        for k, ok in enumerate(passes(program, input_types, group)):
            if not ok:
                got = task.compiled()
                got = got if isinstance(got, EvalError) else got.run(group[k].inputs)
                raise ValueError(f"program fails its {kind} {k}: expected {group[k].output!r}, got {got!r}")
    return task


def _tests(raw: object, key: str, input_types: dict[str, str]) -> tuple[Test, ...]:
    if not isinstance(raw, list):
        raise ValueError(f"{key!r} must be a list")
    tests = []
    for k, test in enumerate(raw):
        if not isinstance(test, dict) or set(test) != {"input", "output"}:
            raise ValueError(f"{key}[{k}] must be an object with exactly 'input' and 'output'")
        inputs, output = test["input"], test["output"]
        if not isinstance(inputs, dict) or set(inputs) != set(input_types):
            raise ValueError(f"{key}[{k}]: 'input' must give exactly the inputs {sorted(input_types)}")
        problem = input_error(inputs)
        if problem:
            raise ValueError(f"{key}[{k}]: {problem}")
        for name, value in inputs.items():
            if value_type(value) != input_types[name]:
                raise ValueError(f"{key}[{k}]: input {name!r} is not of declared type {input_types[name]}")
        if value_type(output) is None:
            raise ValueError(f"{key}[{k}]: 'output' must be an int, a bool or a list of ints")
        tests.append(Test(dict(inputs), output))
    return tuple(tests)


def load_tasks(path: str | os.PathLike) -> list[Task]:
    """Load a JSON Lines task file; blank lines and lines starting with '#' are skipped.

    Raises `TaskFileError` (file, line, task name, reason) for the first bad task, and
    `FileNotFoundError` if there is no such file.
    """
    tasks = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                reason = f"not valid JSON: {err.msg} at column {err.colno}"
                raise TaskFileError(path, line_no, None, reason + _ONE_LINE_HINT) from None
            name = record.get("name") if isinstance(record, dict) else None
            try:
                tasks.append(task_from_json(record))
            except ValueError as err:
                raise TaskFileError(path, line_no, name if isinstance(name, str) else None, str(err)) from None
    return tasks


def save_tasks(tasks: Iterable[Task], path: str | os.PathLike) -> None:
    """Write tasks as JSON Lines (atomically: a crash never leaves half a file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        for task in tasks:
            handle.write(json.dumps(task.to_json(), separators=(", ", ": ")) + "\n")
    os.replace(tmp, path)
