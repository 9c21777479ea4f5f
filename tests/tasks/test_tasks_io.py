"""Task files (LANGUAGE.md, "Tasks"): loading, refusing malformed files precisely, saving."""

from __future__ import annotations

import gzip
import json

import pytest

from progrefine_env.lang import evaluate, parse, unparse, values_equal
from progrefine_env.tasks import Task, TaskFileError, generate_tasks, load_tasks, passes, save_tasks
from progrefine_env.tasks import Test as Case  # not "Test": pytest would try to collect it

# The example of LANGUAGE.md, verbatim, plus tasks with an int input, a bool output and no name.
HAND_WRITTEN = """\
{"name": "double-positives",
 "inputs": {"x": "list"},
 "program": "(map (lam (* a 2)) (filter (lam (> a 0)) x))",
 "tests": [{"input": {"x": [3, -1, 2]}, "output": [6, 4]},
           {"input": {"x": []}, "output": []}],
 "held_out_tests": [{"input": {"x": [5]}, "output": [10]}]}
""".replace("\n ", " ").replace("\n           ", " ")

MORE = [
    {
        "name": "take-and-sum",
        "inputs": {"x": "list", "y": "int"},
        "program": "(fold (lam2 (+ a b)) 0 (take y x))  ; a comment",
        "tests": [
            {"input": {"x": [1, 2, 3], "y": 2}, "output": 3},
            {"input": {"x": [4, -5], "y": 0}, "output": 0},
        ],
    },
    {
        "name": "longer-than",
        "inputs": {"x": "list", "y": "int"},
        "program": "(> (len x) y)",
        "tests": [{"input": {"x": [1, 2, 3], "y": 2}, "output": True}, {"input": {"x": [], "y": 0}, "output": False}],
        "held_out_tests": [{"input": {"x": [7], "y": 1}, "output": False}],
    },
    {  # no name, no held-out tests
        "inputs": {"x": "list", "y": "list"},
        "program": "(zipwith (lam2 (max a b)) x (reverse y))",
        "tests": [{"input": {"x": [1, 9], "y": [5, 2, 0]}, "output": [1, 9]}],
    },
]


def _write(path, lines: list[str]) -> str:
    path.write_text("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return str(path)


def test_hand_written_file_loads_and_its_tests_pass(tmp_path):
    assert HAND_WRITTEN.count("\n") == 1  # one task a line
    path = _write(tmp_path / "tasks.jsonl", ["# a comment line", HAND_WRITTEN, "", *map(json.dumps, MORE)])
    tasks = load_tasks(path)
    assert [t.name for t in tasks] == ["double-positives", "take-and-sum", "longer-than", ""]
    first = tasks[0]
    assert first.input_types == {"x": "list"}
    assert unparse(first.program) == "(map (lam (* a 2)) (filter (lam (> a 0)) x))"
    assert first.tests == (Case({"x": [3, -1, 2]}, [6, 4]), Case({"x": []}, []))
    assert first.held_out_tests == (Case({"x": [5]}, [10]),)
    assert unparse(tasks[1].program) == "(fold (lam2 (+ a b)) 0 (take y x))"  # comment dropped
    assert tasks[3].held_out_tests == ()
    for task in tasks:
        for test in task.tests + task.held_out_tests:
            assert values_equal(evaluate(task.program, test.inputs), test.output)
    assert evaluate(tasks[2].program, {"x": [1, 2, 3], "y": 2}) is True


def _good() -> dict:
    return {
        "name": "rev",
        "inputs": {"x": "list"},
        "program": "(reverse x)",
        "tests": [{"input": {"x": [1, 2]}, "output": [2, 1]}],
    }


def _bad(**changes) -> dict:
    record = _good()
    record["name"] = "broken"
    for key, value in changes.items():
        if value is None:
            del record[key]
        else:
            record[key] = value
    return record


@pytest.mark.parametrize(
    "line, reason, named",
    [
        ('{"name": "broken", "inputs": {"x": "list"}, "program": "(reverse x)"', "not valid JSON", False),
        (json.dumps(_bad(program="(map (lam (* a 2)) x")), "does not parse", True),
        (json.dumps(_bad(program="(+ x 1)")), "type-check", True),
        (json.dumps(_bad(program="(sort x)")), "fails its test 0", True),
        (json.dumps(_bad(tests=[{"input": {"x": [1, 2]}, "output": 1}])), "fails its test 0", True),
        (json.dumps(_bad(tests=None)), "missing field 'tests'", True),
        (json.dumps(_bad(program=None)), "missing field 'program'", True),
        (json.dumps(_bad(tests=[{"input": {"x": 3}, "output": 3}])), "not of declared type list", True),
        (json.dumps(_bad(inputs={"x": "string"})), "'string'", True),
        (json.dumps(_bad(held_out_tests=[{"input": {"x": [1]}, "output": [2]}])), "held-out test 0", True),
        (json.dumps(_bad(program="(head x)", tests=[{"input": {"x": [1, 2]}, "output": True}])), "fails", True),
    ],
)
def test_malformed_files_are_refused_with_file_line_task_and_reason(tmp_path, line, reason, named):
    path = _write(tmp_path / "bad.jsonl", [json.dumps(_good()), "# comment", line, json.dumps(_good())])
    with pytest.raises(TaskFileError) as caught:
        load_tasks(path)
    err = caught.value
    message = str(err)
    assert path in message and ":3" in message and reason in message
    assert err.path == path and err.line == 3 and reason in err.reason
    if named:
        assert err.task == "broken" and "'broken'" in message
    else:
        assert err.task is None


def _refusal(path: str, line: int, reason: str) -> TaskFileError:
    with pytest.raises(TaskFileError) as caught:
        load_tasks(path)
    err = caught.value
    assert err.path == path and err.line == line and reason in err.reason, str(err)
    assert str(err).startswith(f"{path}:{line}") and len(str(err)) < len(path) + 400
    return err


def test_undecodable_lines_are_refused_with_file_line_and_reason(tmp_path):
    """Issue 13, item 2: these escaped as RecursionError, UnicodeDecodeError or ValueError."""
    good = json.dumps(_good()).encode()
    cases = {
        "deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        "latin1": (good.replace(b'"rev"', b'"r\xe9v"'), "byte 0xe9 (byte 12 of the line)"),  # Latin-1
        "digits": (json.dumps(_bad(tests=[{"input": {"x": [1]}, "output": 7}])).replace("7", "7" * 5001).encode(),
                   "5,001 digits"),
    }  # fmt: skip
    for name, (line, reason) in cases.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(good + b"\n" + line + b"\n")
        _refusal(str(path), 2, reason)
    gz = tmp_path / "tasks.jsonl.gz"
    gz.write_bytes(gzip.compress(good + b"\n"))
    _refusal(str(gz), 1, "gzip")
    with pytest.raises(IsADirectoryError, match="folder"):
        load_tasks(tmp_path)
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + good + b"\n")
    assert [t.name for t in load_tasks(bom)] == ["rev"]


def test_json_errors_at_the_end_of_a_line_give_that_column(tmp_path):
    line = '{"name": "broken", "inputs": {"x": "list"}'
    err = _refusal(_write(tmp_path / "cut.jsonl", [line]), 1, "not valid JSON")
    assert f"column {len(line) + 1}" in err.reason


def test_error_messages_quote_bad_values_briefly(tmp_path):
    """A 100 MB list in a task gave a 100 MB message; quoted values are now cut short."""
    huge = list(range(200_000))
    records = [
        _bad(tests=[{"input": {"x": [1]}, "output": huge}]),
        _bad(tests=[{"input": {"x": huge}, "output": [1]}]),
        {**_good(), "x" * 100_000: 1},
        _bad(inputs={"x": "l" * 100_000}),
        _bad(program="(reverse " + "q" * 100_000 + ")"),
        {**_good(), "name": "n" * 100_000, "program": "(sort x)"},
    ]
    for k, record in enumerate(records):
        _refusal(_write(tmp_path / f"big{k}.jsonl", [json.dumps(record)]), 1, "")


def test_bool_is_not_int(tmp_path):
    record = {
        "name": "b",
        "inputs": {"x": "list"},
        "program": "(> (len x) 1)",
        "tests": [{"input": {"x": [1, 2]}, "output": 1}],
    }
    with pytest.raises(TaskFileError, match="fails its test 0"):
        load_tasks(_write(tmp_path / "b.jsonl", [json.dumps(record)]))
    record["tests"][0]["output"] = True
    assert load_tasks(_write(tmp_path / "b.jsonl", [json.dumps(record)]))[0].tests[0].output is True


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_tasks(tmp_path / "nope.jsonl")


def test_save_and_load_round_trip(tmp_path):
    hand = load_tasks(_write(tmp_path / "hand.jsonl", [HAND_WRITTEN, *map(json.dumps, MORE)]))
    generated = generate_tasks(10, seed=4)
    made = Task("made", {"x": "list"}, parse("(sort x)"), (Case({"x": [2, 1]}, [1, 2]),))
    tasks = [*hand, *generated, made]
    path = tmp_path / "out" / "round.jsonl"
    path.parent.mkdir()
    save_tasks(tasks, path)
    assert not list(path.parent.glob("*.tmp"))  # written atomically, nothing left behind
    loaded = load_tasks(path)
    assert loaded == tasks
    assert [t.to_json() for t in loaded] == [t.to_json() for t in tasks]
    assert all(all(passes(t.program, t.input_types, t.tests + t.held_out_tests)) for t in loaded)
    first_line = json.loads(path.read_text().splitlines()[0])
    assert set(first_line) == {"name", "inputs", "program", "tests", "held_out_tests"}
    assert "name" not in json.loads(path.read_text().splitlines()[3])  # the unnamed task stays unnamed
