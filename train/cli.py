"""Command-line flags generated from frozen config dataclasses, with help from their docstrings."""

from __future__ import annotations

import argparse
import dataclasses
import re
from typing import Any


def field_docs(cls: type) -> dict[str, str]:
    """Attribute descriptions from a Google-style `Attributes:` docstring section."""
    docs: dict[str, str] = {}
    names: list[str] = []
    for line in (cls.__doc__ or "").splitlines():
        match = re.match(r"\s{8}([\w, ]+):\s*(.*)", line)
        if match:
            names = [n.strip() for n in match.group(1).split(",")]
            for name in names:
                docs[name] = match.group(2)
        elif names and line.strip() and line.startswith(" " * 12):
            for name in names:
                docs[name] += " " + line.strip()
    return docs


def add_dataclass_flags(parser: argparse.ArgumentParser, cls: type, title: str) -> None:
    """One `--flag-name` per field of `cls`, typed and defaulted from the field."""
    group = parser.add_argument_group(title)
    docs = field_docs(cls)
    for field in dataclasses.fields(cls):
        default = field.default
        flag = "--" + field.name.replace("_", "-")
        kind = type(default) if default is not None else str
        help_text = docs.get(field.name) or " "  # the formatter appends the default
        if kind is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=help_text)
        else:
            group.add_argument(flag, type=kind, default=default, help=help_text, dest=field.name)


def build_dataclass(cls: type, args: argparse.Namespace) -> Any:
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})


def add_trainer_flags(parser: argparse.ArgumentParser, init_help: str | None = None, eval_tasks: int = 128) -> None:
    """The `run` flags every trainer CLI shares: `--init` (when `init_help` is given), `--resume`,
    `--checkpoint-every`, `--device`, `--threads`, `--eval-tasks`, `--no-progress`."""
    run = parser.add_argument_group("run")
    if init_help is not None:
        run.add_argument("--init", default=None, help=init_help)
    run.add_argument("--resume", default=None, help="continue this run exactly (its configs win, but --iterations)")
    run.add_argument("--checkpoint-every", type=int, default=25, help="iterations between checkpoints")
    run.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    run.add_argument("--threads", type=int, default=1, help="torch threads (one is fastest on a busy machine)")
    run.add_argument("--eval-tasks", type=int, default=eval_tasks, help="val tasks for the final report (0: skip)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
