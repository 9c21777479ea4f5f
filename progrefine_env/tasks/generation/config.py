"""`GeneratorConfig`, the generator's settings (hashable: the corpus is keyed by them), their
defaults, and `GENERATOR_VERSION`, which keys the corpus with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...lang import input_signature
from .grammar import _CONST_TOKENS, _PRODUCED

GENERATOR_VERSION = 4
"""Bump whenever the tasks generated for a given seed and config change (it keys the corpus cache)."""

DEFAULT_SIGNATURES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("x", "list"),),
    (("x", "list"), ("y", "int")),
    (("x", "list"), ("y", "list")),
    (("x", "list"), ("y", "int"), ("z", "int")),
    (("x", "list"), ("y", "list"), ("z", "int")),
    (("x", "int"),),
    (("x", "int"), ("y", "int")),
    (("x", "int"), ("y", "int"), ("z", "int")),
)
"""The input signatures of the built-in corpus, in `GeneratorConfig.signatures`'s hashable form."""
DEFAULT_SIGNATURE_WEIGHTS: tuple[float, ...] = (3.0, 3.0, 2.0, 1.2, 0.9, 1.0, 1.0, 0.8)
"""How often each of `DEFAULT_SIGNATURES` is drawn (list inputs first: most tasks are about lists)."""

DEFAULT_TOKEN_WEIGHTS: tuple[tuple[str, float], ...] = (
    # list -> list
    ("map", 2.5), ("filter", 2.5), ("scanl1", 1.5), ("zipwith", 1.5), ("reverse", 0.6), ("sort", 0.6),
    ("take", 0.9), ("drop", 0.9), ("cons", 0.6), ("concat", 0.6), ("range", 0.5),
    # -> int
    ("+", 1.2), ("-", 1.2), ("*", 1.0), ("/", 0.5), ("%", 0.8), ("min", 0.8), ("max", 0.9),
    ("count", 4.0), ("fold", 3.0), ("len", 0.9), ("sum", 0.6), ("head", 0.5), ("last", 0.5),
    ("maximum", 0.7), ("minimum", 0.7), ("index", 0.5),
    # -> bool
    ("<", 2.0), (">", 2.0), ("=", 2.5), ("and", 4.0), ("or", 5.0), ("not", 1.0),
    # any type
    ("if", 2.5),
)  # fmt: skip
"""The default `GeneratorConfig.token_weights`: how likely each inner token is, against the other
tokens that could stand at a node (those of the type and size needed there)."""

DEFAULT_CONSTANT_WEIGHTS: tuple[tuple[int, float], ...] = (
    (-1, 0.5), (0, 2.0), (1, 1.5), (2, 1.5), (3, 1.0), (4, 0.7), (5, 0.6), (6, 0.3), (7, 0.3), (8, 0.3),
    (9, 0.3), (10, 0.4),
)  # fmt: skip
"""The default `GeneratorConfig.constant_weights`: small constants are likelier, as in hand-written
programs."""


@dataclass(frozen=True)
class GeneratorConfig:
    """Settings of the random task generator (hashable: the corpus cache is keyed by them).

    Each field's docstring says what it controls, its default and why. The defaults make the
    corpus that ships with the package: changing one changes the corpus key (`to_json`), so the
    shipped file no longer matches and must be rebuilt (`shipped.py`).
    """

    min_nodes: int = 3
    """Fewest nodes a program may have (`lam`/`lam2` count as nodes). Default 3, the size of
    `(op x c)`: small programs like hand-written ones are kept (benchmarks/README.md, "A corpus
    that covers the language")."""
    max_nodes: int = 64
    """Most nodes a program may have. Default 64: the environment's default observation holds 64
    nodes, so every generated task fits it."""
    budget: tuple[int, int] = (3, 22)
    """`(low, high)`: the node budget of most candidate programs is drawn uniformly from this
    range. Screening removes redundant parts, so accepted programs come out smaller than their
    budget, and big candidates rarely survive (and cost the most), so this range, more than
    `min_nodes`/`max_nodes`, sets the corpus's size distribution. Default 3..22 nodes: programs
    of about hand-written sizes (bigger budgets cost more per kept task)."""
    long_share: float = 0.1
    """The share of candidates whose budget is drawn uniformly from `(budget[1], max_nodes]`
    instead, for a tail of long programs. Default 10% of candidates: a tail, not the bulk."""
    num_tests: int = 5
    """Visible tests per task. Default 5, as DeepCoder's input-output examples; the environment
    shows up to 8 (`max_tests`), so they fit."""
    num_held_out: int = 5
    """Held-out tests per task (all tests of a task have distinct inputs). Default 5: as many as
    the visible ones, to tell a right program from one that only fits the visible tests."""
    max_list_length: int = 10
    """A list input has a length drawn uniformly from `0..max_list_length`. Default 10: the
    lengths of the fingerprint's probe inputs (`probe_inputs`), short enough to run fast."""
    value_low: int = -10
    """Smallest element of a list input. Default -10, the probe inputs' smallest element."""
    value_high: int = 10
    """Largest element of a list input. Default 10, the probe inputs' largest element."""
    int_low: int = -3
    """Smallest value of an int input. Default -3, the probe inputs' smallest int (one int input
    alone is probed on -10..30 instead)."""
    int_high: int = 10
    """Largest value of an int input. Default 10, the probe inputs' largest int, and the largest
    useful count for `take`/`drop`/`index` on lists of at most 10 elements."""
    signatures: tuple[tuple[tuple[str, str], ...], ...] = DEFAULT_SIGNATURES
    """The input signatures to draw from, each as `((name, type), ...)` in declaration order, e.g.
    `(("x", "list"), ("y", "int"))`. Default `DEFAULT_SIGNATURES`: 8 signatures, with `z` and with
    int inputs only, so that a model trained on the corpus meets every input name."""
    signature_weights: tuple[float, ...] = DEFAULT_SIGNATURE_WEIGHTS
    """How often each signature is drawn (one weight per signature; empty: uniformly). Left at its
    default with other `signatures`, it becomes empty. Default `DEFAULT_SIGNATURE_WEIGHTS`: list
    inputs first, as most tasks are about lists."""
    output_types: tuple[tuple[str, float], ...] = (("int", 0.4), ("list", 0.4), ("bool", 0.2))
    """`((type, weight), ...)`: how often each output type is drawn ("int", "list" and, if wanted,
    "bool"). Default int 0.4, list 0.4, bool 0.2: predicates show at the root in a fifth of the
    candidates."""
    max_input_draws: int = 30
    """Random inputs tried per program before it is rejected for erroring on too many of them.
    Default 30: room to replace the inputs on which `head` or `index` errors (so those tokens
    survive) while a program that errors on most inputs is given up soon."""
    reject_bypass: bool = True
    """Also reject programs in which some node can be replaced by one of its own children of the
    same type without changing any test output (see `bypass_nodes`). Default on: then every part
    of a program shows in some output, and the tests pin the program down."""
    hold_back: bool = True
    """Reject programs that pass every test of a benchmark task (`held_back.py`). Default on, so
    that the benchmarks stay unseen in training."""
    token_weights: tuple[tuple[str, float], ...] = DEFAULT_TOKEN_WEIGHTS
    """`((token, weight), ...)` for every inner token (arity >= 1 but lambdas): how likely it is to
    be drawn at a node, against the other tokens that fit there (by type and size). A token left
    out, or with weight 0, is never drawn. Default `DEFAULT_TOKEN_WEIGHTS`, which favours `if`,
    `fold`, `count`, `=`, `and`, `or` and `not`, tokens that rarely survive screening otherwise,
    so that a model meets every token often."""
    constant_weights: tuple[tuple[int, float], ...] = DEFAULT_CONSTANT_WEIGHTS
    """`((value, weight), ...)`: how likely each integer constant is as a leaf (against one
    another; leaves that are inputs or lambda parameters weigh 6 when not used yet, else 1
    (inputs) or 3 (`a`) / 2 (`b`)). Left out: never drawn. Default `DEFAULT_CONSTANT_WEIGHTS`:
    small constants likelier, as in hand-written programs."""
    nil_weight: float = 1.0
    """The weight of `nil` as a list leaf where it can matter: the list of a `cons` (`(cons e
    nil)`) or a branch of an `if` (list inputs weigh 6 when not used yet, else 1); elsewhere `nil`
    is never drawn (`(map f nil)` is dead code). Default 1, as much as a used list input."""
    lambda_loop_factor: float = 0.25
    """Higher-order tokens (and `range`) are this much rarer inside a lambda body. Default 0.25:
    nested loops are slow, and rare in hand-written programs."""
    lambda_logic_factor: float = 4.0
    """`and` and `or` are this much likelier inside a lambda body, where a predicate meets every
    element of a list, so that both sides matter on some test (outside one they rarely survive
    screening). Default 4."""

    def __post_init__(self) -> None:
        if not 1 <= self.min_nodes <= self.max_nodes:
            raise ValueError(f"need 1 <= min_nodes <= max_nodes, got {self.min_nodes}, {self.max_nodes}")
        if len(self.budget) != 2 or self.budget[0] > self.budget[1] or not 0 <= self.long_share <= 1:
            raise ValueError("need budget = (low, high) with low <= high, 0 <= long_share <= 1")
        if self.num_tests < 1 or self.num_held_out < 0:
            raise ValueError("need num_tests >= 1 and num_held_out >= 0")
        if self.value_low > self.value_high or self.int_low > self.int_high or self.max_list_length < 0:
            raise ValueError("empty input ranges")
        if not self.signatures:
            raise ValueError("at least one signature is needed")
        for signature in self.signatures:
            input_signature(dict(signature))  # raises for unknown names or types
            if not signature or len(dict(signature)) != len(signature):
                raise ValueError(f"signature {signature} declares no input, or one twice")
        for kind, weight in self.output_types:
            if kind not in ("int", "list", "bool") or weight < 0:
                raise ValueError(f"bad output type weight {(kind, weight)}")
        if not any(w > 0 for _, w in self.output_types):
            raise ValueError("some output type needs a positive weight")
        if self.signature_weights == DEFAULT_SIGNATURE_WEIGHTS and self.signatures != DEFAULT_SIGNATURES:
            object.__setattr__(self, "signature_weights", ())  # the defaults weigh the default signatures
        weights = self.signature_weights
        if weights and (len(weights) != len(self.signatures) or min(weights) < 0 or not any(weights)):
            raise ValueError("signature_weights: one weight >= 0 per signature, some positive (or none at all)")
        for token, weight in self.token_weights:
            if token not in _PRODUCED or weight < 0:
                raise ValueError(f"bad token weight {(token, weight)}: tokens are {sorted(_PRODUCED)}")
        for value, weight in self.constant_weights:
            if value not in _CONST_TOKENS or weight < 0:
                raise ValueError(f"bad constant weight {(value, weight)}")
        if min(self.nil_weight, self.lambda_loop_factor, self.lambda_logic_factor) < 0:
            raise ValueError("nil_weight, lambda_loop_factor and lambda_logic_factor must be >= 0")

    def to_json(self) -> dict:
        """Every field as JSON-friendly data (used for the corpus cache key)."""
        return {
            name: (json.loads(json.dumps(value)) if isinstance(value, tuple) else value)
            for name, value in self.__dict__.items()
        }
