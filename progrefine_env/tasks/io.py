"""JSON Lines task files: loading with precise errors, and saving."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..lang import EvalError, ParseError, check, input_error, parse, value_type
from ..lang.brief import brief
from ..lang.types import input_signature
from .task import Task, Test, passes


class TaskFileError(ValueError):
    """A task file that cannot be loaded: names the file, the line, the task and the reason."""

    def __init__(self, path: str | os.PathLike, line: int, task: str | None, reason: str) -> None:
        self.path, self.line, self.task, self.reason = str(path), line, task, reason
        where = f"{path}:{line}" + (f" (task {brief(task)})" if task else "")
        super().__init__(f"{where}: {reason}")


_ONE_LINE_HINT = " (a task is one JSON object on one line; see docs/tasks.md)"
_KEYS = {"name", "description", "inputs", "program", "tests", "held_out_tests"}


def task_from_json(record: object) -> Task:
    """Build and validate a task from one decoded JSON record. Raises ValueError with the reason."""
    if not isinstance(record, dict):
        raise ValueError(f"a task is a JSON object, not {type(record).__name__}")
    unknown = set(record) - _KEYS
    if unknown:
        raise ValueError(f"unknown field(s) {brief(sorted(unknown))}; a task has {sorted(_KEYS)}")
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
                raise ValueError(f"program fails its {kind} {k}: expected {brief(group[k].output)}, got {brief(got)}")
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
    """Load a JSON Lines task file (UTF-8); blank lines and lines starting with '#' are skipped.

    Raises `TaskFileError` (file, line, task name, reason) for the first bad line, whatever is
    wrong with it (not UTF-8, not JSON, nested too deep, a number too long, not a valid task),
    `FileNotFoundError` if there is no such file and `IsADirectoryError` for a folder.
    """
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "a folder, not a task file (JSON Lines)", os.fspath(path))
    tasks = []
    for line_no, line in _lines(path):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        record = _decode(path, line_no, line)
        name = record.get("name") if isinstance(record, dict) else None
        try:
            tasks.append(task_from_json(record))
        except ValueError as err:
            raise TaskFileError(path, line_no, name if isinstance(name, str) else None, str(err)) from None
    return tasks


_GZIP_MAGIC = b"\x1f\x8b"
_MAX_DIGITS = 30
"""Longest integer literal read (program values lie within a million)."""


def _lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line, decoded as UTF-8 line by line so that a bad byte is
    reported at its line; a byte-order mark at the start is skipped."""
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            if line_no == 1 and raw.startswith(_GZIP_MAGIC):
                raise TaskFileError(path, 1, None, "a gzip-compressed file: decompress it first (gunzip)")
            try:
                yield line_no, raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as err:
                reason = f"not UTF-8 text: byte 0x{raw[err.start]:02x} (byte {err.start + 1} of the line)"
                raise TaskFileError(path, line_no, None, reason) from None


class _LongNumber(ValueError):
    pass


def _parse_int(literal: str) -> int:
    if len(literal.lstrip("-")) > _MAX_DIGITS:
        raise _LongNumber(f"an integer of {len(literal.lstrip('-')):,} digits (values lie within a million)")
    return int(literal)


def _decode(path: str | os.PathLike, line_no: int, line: str) -> object:
    """The JSON value of one line, or a `TaskFileError` saying where and why it is not one."""
    text = line.rstrip("\r\n")  # so that an error at the end of the line has its column
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as err:
        reason = f"not valid JSON: {err.msg} at column {err.colno}" + _ONE_LINE_HINT
    except _LongNumber as err:
        reason = f"not a valid task: {err}"
    except RecursionError:
        reason = "not a valid task: JSON nested too deeply"
    raise TaskFileError(path, line_no, None, reason)


def save_tasks(tasks: Iterable[Task], path: str | os.PathLike) -> None:
    """Write tasks as JSON Lines (atomically: a crash never leaves half a file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        for task in tasks:
            handle.write(json.dumps(task.to_json(), separators=(", ", ": ")) + "\n")
    os.replace(tmp, path)
