"""The grammar a program is grown in: type codes, the tokens that make each type (from which
child types), and what is avoided under a parent while growing: children that would make it
redundant, constants that would make it an identity or a constant, `nil` where it cannot matter.

Screening (`redundant.py`, `screen.py`) would reject those programs anyway; avoiding them while
growing only makes generation cheaper.
"""

from __future__ import annotations

from ...lang.vocab import CONSTANTS, TOKEN_ID

INT, BOOL, LIST, FN1, PRED, FN2 = range(6)
_VALUE_TYPES = (INT, BOOL, LIST)
_TYPE_CODE = {"int": INT, "bool": BOOL, "list": LIST}
_KIND_NAME = {INT: "int", BOOL: "bool", LIST: "list"}
_MIN_SIZE = {INT: 1, BOOL: 3, LIST: 1, FN1: 4, PRED: 4, FN2: 4}
"""Fewest nodes of a subtree of each type; a lambda body is never a bare parameter (`(lam a)`)."""
_T = TOKEN_ID

# (token, child types) per result type. Lambdas are the only producers of function types.
_PRODUCTIONS: dict[int, tuple[tuple[str, tuple[int, ...]], ...]] = {
    LIST: (
        ("map", (FN1, LIST)), ("filter", (PRED, LIST)), ("scanl1", (FN2, LIST)), ("zipwith", (FN2, LIST, LIST)),
        ("reverse", (LIST,)), ("sort", (LIST,)), ("take", (INT, LIST)), ("drop", (INT, LIST)),
        ("cons", (INT, LIST)), ("concat", (LIST, LIST)), ("range", (INT,)), ("if", (BOOL, LIST, LIST)),
    ),
    INT: (
        ("+", (INT, INT)), ("-", (INT, INT)), ("*", (INT, INT)), ("/", (INT, INT)), ("%", (INT, INT)),
        ("min", (INT, INT)), ("max", (INT, INT)), ("count", (PRED, LIST)), ("fold", (FN2, INT, LIST)),
        ("len", (LIST,)), ("sum", (LIST,)), ("head", (LIST,)), ("last", (LIST,)), ("maximum", (LIST,)),
        ("minimum", (LIST,)), ("index", (INT, LIST)), ("if", (BOOL, INT, INT)),
    ),
    BOOL: (
        ("<", (INT, INT)), (">", (INT, INT)), ("=", (INT, INT)), ("and", (BOOL, BOOL)), ("or", (BOOL, BOOL)),
        ("not", (BOOL,)),
    ),
    FN1: (("lam", (INT,)),),
    PRED: (("lam", (BOOL,)),),
    FN2: (("lam2", (INT,)),),
}  # fmt: skip
_PRODUCED = frozenset(name for kind in (LIST, INT, BOOL) for name, _ in _PRODUCTIONS[kind])
"""The tokens `GeneratorConfig.token_weights` weighs."""
_HIGHER_ORDER = {_T[t] for t in ("map", "filter", "count", "scanl1", "fold", "zipwith", "range")}
_LOGIC = {_T["and"], _T["or"]}

# Children that would make their parent (or themselves) redundant, avoided while growing
# (the screening would reject them anyway; avoiding them is only cheaper).
_ORDER_FREE = ("len", "sum", "maximum", "minimum", "sort")
_AVOID_CHILD: dict[tuple[int, int], frozenset[int]] = {
    **{(_T[p], 0): frozenset({_T["sort"], _T["reverse"]}) for p in (*_ORDER_FREE, "head", "last")},
    (_T["count"], 1): frozenset({_T["sort"], _T["reverse"]}),
    (_T["reverse"], 0): frozenset({_T["reverse"]}),
    (_T["len"], 0): frozenset({_T[t] for t in ("sort", "reverse", "map", "scanl1")}),
    (_T["not"], 0): frozenset({_T["not"]}),
    # Equality is seldom true, so `(and (= a c) p)` nearly always hides `p`.
    (_T["and"], 0): frozenset({_T["="]}), (_T["and"], 1): frozenset({_T["="]}),
}  # fmt: skip
for _p in ("len", "head", "last", "minimum", "maximum", "sort"):  # (len (range n)) is (max n 0), ...
    _AVOID_CHILD[(_T[_p], 0)] = _AVOID_CHILD.get((_T[_p], 0), frozenset()) | {_T["range"]}
_AVOID_CHILD[(_T["head"], 0)] |= {_T["cons"]}  # (head (cons e xs)) is e

# Constants (weighted by `GeneratorConfig.constant_weights`); some are excluded where they would
# make the parent an identity or a constant (`(+ 0 e)`, `(* 1 e)`, `(take 0 e)`).
_CONST_VALUES = frozenset(range(-1, 11))
_CONST_TOKENS = {value: tok for tok, value in CONSTANTS.items()}
_CONST_ALLOWED: dict[tuple[int, int], frozenset[int]] = {
    (_T["+"], 0): _CONST_VALUES - {0}, (_T["+"], 1): _CONST_VALUES - {0},
    (_T["-"], 1): _CONST_VALUES - {0},
    (_T["*"], 0): _CONST_VALUES - {0, 1}, (_T["*"], 1): _CONST_VALUES - {0, 1},
    (_T["/"], 0): _CONST_VALUES - {0}, (_T["/"], 1): _CONST_VALUES - {-1, 0, 1},
    (_T["%"], 0): _CONST_VALUES - {0}, (_T["%"], 1): _CONST_VALUES - {-1, 0, 1},
    (_T["take"], 0): frozenset(range(1, 7)), (_T["drop"], 0): frozenset(range(1, 7)),
    (_T["index"], 0): frozenset(range(1, 6)),  # (index 0 e) is (head e)
    # A threshold far from the middle of the values (-10..10) is rarely crossed, so rarely live.
    **{(_T[op], slot): frozenset(range(-1, 7)) for op in ("<", ">", "=") for slot in (0, 1)},
}  # fmt: skip
_NIL = _T["nil"]
_NIL_SLOTS = {(_T["cons"], 1), (_T["if"], 1), (_T["if"], 2)}
_INDEX = _T["index"]
_COUNTS = (_T["take"], _T["drop"], _T["range"])
