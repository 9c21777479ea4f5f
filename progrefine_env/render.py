"""What `ProgramRefineEnv.render()` shows of the episode's state: the text of the "ansi" and
"human" modes, and the `picture.State` that "rgb_array" draws (`picture` draws it)."""

from __future__ import annotations

import numpy as np

from . import picture
from .feedback import Feedback
from .lang import VOCAB, Program, unparse
from .observation import OUTCOME_NAMES


def state_picture(
    program: Program, start: Program, feedback: Feedback, changed: list[int], steps: int, max_steps: int, num_tests: int
) -> picture.State:
    """The picture of `program` (`start`: the episode's first; `changed`: the last step's nodes)."""
    outcomes = " ".join("ok" if c == 0 else _outcome_name(c) for c in feedback.outcomes.tolist())
    edited = frozenset(i for i, (a, b) in enumerate(zip(program.tokens, start.tokens)) if a != b)
    return picture.State(
        program=program,
        suspicion=(np.zeros(len(program)) if feedback.passed.all() else None if not feedback.reached_failing.any()
                   else np.asarray(feedback.ochiai)),  # fmt: skip
        changed=frozenset(changed),
        edited=edited,
        title=f"step {steps}/{max_steps}   tests {feedback.num_passed}/{num_tests}: " + outcomes,
    )


def state_text(
    program: Program, feedback: Feedback, last_changed: list[int], invalid: int, steps: int, max_steps: int,
    num_tests: int,
) -> str:  # fmt: skip
    """Program with changed nodes in [brackets] and suspicious nodes suffixed '?', then tests."""
    suspicion, changed = feedback.ochiai, set(last_changed)
    names = []
    for i, tok in enumerate(program.tokens):
        name = VOCAB[tok]
        if i in changed:
            name = f"[{name}]"
        if suspicion[i] >= 0.7 and not feedback.passed.all():
            name += "?"
        names.append(name)
    outcomes = " ".join("ok" if c == 0 else _outcome_name(c) for c in feedback.outcomes.tolist())
    return (
        f"step {steps}/{max_steps}  tests {feedback.num_passed}/{num_tests}"
        f"  changed {len(changed)}  invalid {invalid}\n"
        f"  {unparse(program, names)}\n  tests: {outcomes}"
    )


def _outcome_name(code: int) -> str | None:
    return None if code == 0 else OUTCOME_NAMES[code]
