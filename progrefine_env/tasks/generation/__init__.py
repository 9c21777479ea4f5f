"""Random tasks: well-typed random programs with DeepCoder-style random tests.

A candidate program is grown top-down from its output type with an exact node budget (lambdas
only as the first argument of a higher-order token, `a`/`b` only where a lambda binds them),
then run on random inputs and screened; most candidates are thrown away. A task's program

- uses every declared input; has no constant subtree of more than one node (`(+ 2 3)` is better
  written as one constant, `(range 5)` as nothing at all); no lambda ignores its parameters;
- runs without error on `num_tests + num_held_out` distinct random inputs (inputs on which it
  errors are dropped and others drawn, within `max_input_draws` tries, so `head` and `index`
  survive); inputs are chosen to give as many different outputs as they can, the visible tests
  never all share one output, nor do all the tests;
- has no dead or redundant code *on those inputs*: no node whose value can be perturbed without
  changing any output (`insensitive_nodes`), no node whose values always equal those of a
  descendant of its type (`identity_nodes`), and, with `reject_bypass`, no node that can be
  replaced by one of its own children of its type without changing any output (`bypass_nodes`:
  `(sum (sort x))`, `(len (map f x))`).

The last rule makes the tests pin the program down: every part of it shows in some output. While
generating, a candidate with an identity or bypass redundancy is not thrown away but repaired:
the redundant node is replaced by the descendant it equals (the outputs on the tests stay the
same) and the result is screened again; this turns big candidates into medium-sized programs.
`rejection_reason` applies the same rules to any program, without repairs.

`generate_tasks` keeps one program per behaviour, where a behaviour is the `fingerprint`: the
program's outputs on a fixed set of probe inputs per signature.

One concept a file, in the order a candidate meets them:

- `config.py`: `GeneratorConfig`, documented field by field, its defaults, `GENERATOR_VERSION`;
- `grammar.py`: type codes, which token makes which type, what is avoided under a parent;
- `grow.py`: growing a candidate program within the grammar and a node budget;
- `draw_tests.py`: drawing a candidate's test inputs and outputs;
- `redundant.py` (with `perturb.py`, running a program with one node's value replaced): nodes
  that do nothing; `screen.py`: the rules in order, and the repair of redundant nodes;
- `fingerprint.py`: behaviours, on fixed probe inputs;
- `candidate.py`: one candidate task, start to end;
- `parallel.py`: candidates in seeded blocks, in worker processes;
- `generate.py`: `generate_tasks`, one task per behaviour.
"""

from .candidate import generate_task
from .config import DEFAULT_SIGNATURES, GENERATOR_VERSION, GeneratorConfig
from .fingerprint import fingerprint, probe_inputs
from .generate import generate_tasks, generate_tasks_with_fingerprints
from .parallel import BLOCK_SIZE
from .redundant import bypass_nodes, constant_subtrees, identity_nodes, idle_lambdas, insensitive_nodes
from .screen import rejection_reason

__all__ = [
    "BLOCK_SIZE", "DEFAULT_SIGNATURES", "GENERATOR_VERSION", "GeneratorConfig", "bypass_nodes",
    "constant_subtrees", "fingerprint", "generate_task", "generate_tasks",
    "generate_tasks_with_fingerprints", "identity_nodes", "idle_lambdas", "insensitive_nodes",
    "probe_inputs", "rejection_reason",
]  # fmt: skip
