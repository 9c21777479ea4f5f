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
