"""The language's types and each token's typing rule (LANGUAGE.md, "Types").

A type is one bit (`INT`, `BOOL`, `LIST`, and the function types `FN1`, `PRED`, `FN2` a lambda
has), so that a set of types is an int. Most tokens have a fixed signature (`SIGNATURES`); `if`,
`lam`, `lam2`, the parameters and the inputs type by their own rule. `out_type` and
`accepted_child` apply those rules to type sets, one real token at a time; the checker
(`lang.types`) runs them over a program with holes.
"""

from __future__ import annotations

from collections.abc import Mapping

from .brief import brief
from .vocab import GROUP, IF, INPUT_IDS, INPUT_NAMES, LAM, LAM2, PARAM_A, PARAM_B, TOKEN_ID, VOCAB_SIZE

INT, BOOL, LIST, FN1, PRED, FN2 = 1, 2, 4, 8, 16, 32
ANY = INT | BOOL | LIST | FN1 | PRED | FN2
VALUE = INT | BOOL | LIST
"""Types a program's root, an `if` branch and an input may have."""
TYPE_NAMES = {INT: "int", BOOL: "bool", LIST: "list", FN1: "fn1", PRED: "pred", FN2: "fn2"}
TYPE_BITS = {name: bit for bit, name in TYPE_NAMES.items()}
NUM_TYPES = len(TYPE_NAMES)


def _signatures() -> dict[int, tuple[tuple[int, ...], int]]:
    """(parameter types, result type) of every token with a fixed signature."""
    by_group = {
        "const": ((), INT),
        "nil": ((), LIST),
        "arith": ((INT, INT), INT),
        "compare": ((INT, INT), BOOL),
        "list_to_int": ((LIST,), INT),
        "list_to_list": ((LIST,), LIST),
        "list_and_list": ((LIST, LIST), LIST),
        "int_to_list": ((INT,), LIST),
    }
    sigs = {t: by_group[GROUP[t]] for t in range(VOCAB_SIZE) if GROUP[t] in by_group}
    named = {
        "and": ((BOOL, BOOL), BOOL), "or": ((BOOL, BOOL), BOOL), "not": ((BOOL,), BOOL),
        "map": ((FN1, LIST), LIST), "filter": ((PRED, LIST), LIST), "count": ((PRED, LIST), INT),
        "scanl1": ((FN2, LIST), LIST), "fold": ((FN2, INT, LIST), INT),
        "zipwith": ((FN2, LIST, LIST), LIST),
        "take": ((INT, LIST), LIST), "drop": ((INT, LIST), LIST),
        "index": ((INT, LIST), INT), "cons": ((INT, LIST), LIST),
    }  # fmt: skip
    sigs.update({TOKEN_ID[name]: sig for name, sig in named.items()})
    return sigs


SIGNATURES = _signatures()


def input_signature(input_types: Mapping[str, str]) -> tuple[int, int, int]:
    """The type bit of each of `x`, `y`, `z` (0 where the task does not declare it)."""
    bits = []
    for name in input_types:
        if name not in INPUT_NAMES:
            raise ValueError(f"unknown input {brief(name)}: inputs are named {', '.join(INPUT_NAMES)}")
    for name in INPUT_NAMES:
        kind = input_types.get(name)
        if kind is not None and kind not in ("int", "list"):
            raise ValueError(f"input {name!r} has type {brief(kind)}: inputs are 'int' or 'list'")
        bits.append(TYPE_BITS[kind] if kind else 0)
    return tuple(bits)  # type: ignore[return-value]


def out_type(tok: int, children: tuple[int, ...], sig: tuple[int, int, int]) -> int:
    """Type set of the real token `tok` over children of the given type sets (parameters count
    as bound)."""
    if any(c == 0 for c in children):
        return 0
    fixed = SIGNATURES.get(tok)
    if fixed is not None:
        params, result = fixed
        return result if all(c & p for c, p in zip(children, params)) else 0
    if tok == IF:
        return VALUE & children[1] & children[2] if children[0] & BOOL else 0
    if tok == LAM:
        return (FN1 if children[0] & INT else 0) | (PRED if children[0] & BOOL else 0)
    if tok == LAM2:
        return FN2 if children[0] & INT else 0
    if tok in (PARAM_A, PARAM_B):
        return INT
    return sig[INPUT_IDS.index(tok)]


def accepted_child(tok: int, slot: int, children: tuple[int, ...], expected: int) -> int:
    """Types that child `slot` of the real token `tok` may have so that `tok`'s type meets
    `expected`, the other children keeping their type sets."""
    others_ok = all(c for k, c in enumerate(children) if k != slot)
    if not others_ok or not expected:
        return 0
    fixed = SIGNATURES.get(tok)
    if fixed is not None:
        params, result = fixed
        if not result & expected:
            return 0
        return params[slot] if all(c & p for k, (c, p) in enumerate(zip(children, params)) if k != slot) else 0
    if tok == IF:
        if slot == 0:
            return BOOL if VALUE & children[1] & children[2] & expected else 0
        other = children[3 - slot]
        return VALUE & other & expected if children[0] & BOOL else 0
    if tok == LAM:
        return (INT if expected & FN1 else 0) | (BOOL if expected & PRED else 0)
    return INT if tok == LAM2 and expected & FN2 else 0
