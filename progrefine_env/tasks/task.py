"""A task: a program, its typed inputs, visible tests and held-out tests (LANGUAGE.md, "Tasks")."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..lang import Compiled, EvalError, Program, compile_program, unparse, values_equal
from ..lang.interpreter import Value


@dataclass(frozen=True)
class Test:
    """One input/output example. `inputs` maps input names to values."""

    __test__ = False  # not a pytest test class, whatever its name

    inputs: dict[str, Value]
    output: Value

    def to_json(self) -> dict:
        return {"input": self.inputs, "output": self.output}


@dataclass(frozen=True)
class Task:
    """A program with its declared input types and its tests.

    Attributes:
        name: a label (may be empty).
        input_types: input name -> "int" or "list", e.g. {"x": "list", "y": "int"}.
        program: the target program.
        tests: visible tests: what an agent sees and is rewarded on.
        held_out_tests: for evaluation only, to tell a right program from one that fits the tests.
        description: what the program computes, in words (optional; for people, never shown to agents).
    """

    name: str
    input_types: dict[str, str]
    program: Program
    tests: tuple[Test, ...]
    held_out_tests: tuple[Test, ...] = field(default=())
    description: str = ""

    def to_json(self) -> dict:
        record: dict = {
            "inputs": self.input_types,
            "program": unparse(self.program),
            "tests": [t.to_json() for t in self.tests],
        }
        if self.description:
            record = {"description": self.description, **record}
        if self.name:
            record = {"name": self.name, **record}
        if self.held_out_tests:
            record["held_out_tests"] = [t.to_json() for t in self.held_out_tests]
        return record

    def compiled(self) -> Compiled | EvalError:
        return compile_program(self.program, self.input_types)


def passes(program: Program, input_types: dict[str, str], tests: tuple[Test, ...]) -> list[bool]:
    """Whether `program` passes each test (a program that cannot run fails them all)."""
    compiled = compile_program(program, input_types)
    if isinstance(compiled, EvalError):
        return [False] * len(tests)
    return [values_equal(compiled.run(t.inputs), t.output) for t in tests]
