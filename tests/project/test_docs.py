"""The documentation runs as written: README's and docs/'s Python blocks execute, every token of
the language is documented with an example whose stated value is what it evaluates to, and the
task-file example loads. Nothing in README points outside the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from repo_root import ROOT

from progrefine_env.lang import VOCAB, EvalError, evaluate, parse
from progrefine_env.tasks.check import main as check_main

DOCS = [ROOT / "README.md", *(ROOT / "docs" / f"{name}.md" for name in ("language", "tasks", "search", "architecture"))]
INPUTS = {"x": [3, -1, 2], "y": 4, "z": 0}
"""The inputs docs/language.md states for its examples."""


def blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_python_blocks_run_as_written(path, monkeypatch, capsys):
    code = blocks(path, "python")
    if path.name == "README.md":
        assert code, "README has a tour in Python"
    monkeypatch.chdir(ROOT)  # relative paths in the docs are relative to the repository
    namespace: dict = {"__name__": "__docs__"}
    for block in code:
        exec(compile(block, str(path), "exec"), namespace)  # noqa: S102 - our own documentation


def test_links_stay_inside_the_repository():
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "LANGUAGE.md" not in text, path.name
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if not target.startswith("http"):
                assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def table_rows(text: str, header: str) -> list[list[str]]:
    """The rows of the markdown table whose header line starts with `header`."""
    lines = text[text.index(header) :].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows


def code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_every_token_is_documented_with_an_example_that_evaluates_as_stated():
    rows = table_rows((ROOT / "docs" / "language.md").read_text(encoding="utf-8"), "| token | arity |")
    documented, checked = set(), 0
    for token_cell, _arity, _type, example, value in rows:
        tokens = code(token_cell)
        if tokens == ["-1", "0", "1", "10"]:  # the constants row: `-1` `0` `1` ... `10`
            tokens = [str(k) for k in range(-1, 11)]
        documented.update(tokens)
        if not example:
            continue
        result = evaluate(parse(code(example)[0]), INPUTS)
        if value.startswith("error"):
            assert result == EvalError(code(value)[0]), example
        else:
            assert not isinstance(result, EvalError) and result == json.loads(code(value)[0]), example
        checked += 1
    assert documented == set(VOCAB)
    assert checked >= len(rows) - 1  # only <pad> has no example


def test_every_error_kind_is_documented_with_an_example_that_raises_it():
    from progrefine_env.lang import ERROR_KINDS

    rows = table_rows((ROOT / "docs" / "language.md").read_text(encoding="utf-8"), "| kind | when |")
    kinds = [code(row[0])[0] for row in rows]
    assert sorted(kinds) == sorted(ERROR_KINDS)
    for kind, row in zip(kinds, rows):
        assert evaluate(parse(code(row[2])[0]), INPUTS) == EvalError(kind), row


def test_task_file_example_is_one_task_a_line_and_checks(tmp_path, capsys):
    example = blocks(ROOT / "docs" / "tasks.md", "")[0]
    path = tmp_path / "my_tasks.jsonl"
    path.write_text(example, encoding="utf-8")
    assert check_main([str(path)]) == 0
    out = capsys.readouterr().out
    task_lines = [line for line in example.splitlines() if line.startswith("{")]
    assert f"{len(task_lines)} tasks OK" in out
    assert all(isinstance(json.loads(line), dict) for line in task_lines)


def test_check_refuses_a_multi_line_task_in_one_line(tmp_path, capsys):
    path = tmp_path / "pretty.jsonl"
    path.write_text('{\n  "inputs": {"x": "list"},\n  "program": "x"\n}\n', encoding="utf-8")
    assert check_main([str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {path}:1") and "one line" in err


PACKAGES = ("progrefine_env", "agents", "train")
ALL_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _resolve(dotted: str) -> None:
    """The module or module attribute a dotted name shown in the docs names must exist (a module
    whose optional dependency is not installed here, such as RLlib's, is checked to exist only)."""
    import importlib
    import importlib.util

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        try:  # find_spec imports the parents of a dotted name
            if importlib.util.find_spec(module) is None:
                continue
            target = importlib.import_module(module)
        except ModuleNotFoundError as missing:
            if missing.name == module:
                continue  # `module.attribute` where module is not a package: try the shorter name
            if (missing.name or "").split(".")[0] in PACKAGES:
                raise
            return  # an optional third-party dependency is absent: the file exists, that is all we can check
        for name in parts[cut:]:
            target = getattr(target, name)
        return
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize("path", ALL_DOCS, ids=lambda p: p.name)
def test_every_import_path_shown_in_the_docs_works(path):
    """Issue 28: files move, the paths users read must not break. `from X import a, b` lines,
    backticked dotted names of our packages, `python -m` modules and backticked file paths."""
    import importlib.util

    text = path.read_text(encoding="utf-8")
    pattern = rf"from ((?:{'|'.join(PACKAGES)})[\w.]*) import ([\w, ]+)"
    for module, names in re.findall(pattern, text):
        for name in (n.strip() for n in names.split(",") if n.strip()):
            _resolve(f"{module}.{name}")
    for dotted in re.findall(rf"`((?:{'|'.join(PACKAGES)})(?:\.\w+)+)`", text):
        _resolve(dotted)
    for module in re.findall(r"python -m ((?:progrefine_env|agents|train)(?:\.[a-z_]+)+)", text):
        assert importlib.util.find_spec(module) is not None, f"{path.name}: python -m {module}"
    for file in re.findall(r"`((?:progrefine_env|agents|train|benchmarks|examples|tests|docs)/[\w/.-]+)`", text):
        assert (ROOT / file.rstrip("/")).exists(), f"{path.name} names {file}, which is not in the repository"
