"""The vocabulary of LANGUAGE.md: token ids, arities and groups.

Token ids are part of the public interface (task files, checkpoints and observations hold them), so
their order follows LANGUAGE.md's table exactly and must never change within an environment version.
"""

from __future__ import annotations

# (group, tokens, arity) in the order of LANGUAGE.md's vocabulary table.
_TABLE: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("special", ("<pad>", "<mask>"), 0),
    ("input", ("x", "y", "z"), 0),
    ("param", ("a", "b"), 0),
    ("const", ("-1", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), 0),
    ("nil", ("nil",), 0),
    ("arith", ("+", "-", "*", "/", "%", "min", "max"), 2),
    ("compare", ("<", ">", "="), 2),
    ("logic", ("and", "or"), 2),
    ("logic", ("not",), 1),
    ("choice", ("if",), 3),
    ("lambda", ("lam", "lam2"), 1),
    ("higher_order", ("map", "filter", "count", "scanl1"), 2),
    ("higher_order", ("fold", "zipwith"), 3),
    ("list_to_int", ("len", "sum", "head", "last", "maximum", "minimum"), 1),
    ("list_to_list", ("reverse", "sort"), 1),
    ("list_and_int", ("take", "drop", "index", "cons"), 2),
    ("list_and_list", ("concat",), 2),
    ("int_to_list", ("range",), 1),
)

VOCAB: tuple[str, ...] = tuple(tok for _, toks, _ in _TABLE for tok in toks)
"""Every token, indexed by its id."""
VOCAB_SIZE: int = len(VOCAB)
TOKEN_ID: dict[str, int] = {tok: i for i, tok in enumerate(VOCAB)}
ARITY: tuple[int, ...] = tuple(arity for _, toks, arity in _TABLE for _ in toks)
GROUP: tuple[str, ...] = tuple(group for group, toks, _ in _TABLE for _ in toks)
MAX_ARITY: int = max(ARITY)

PAD: int = TOKEN_ID["<pad>"]
MASK: int = TOKEN_ID["<mask>"]
INPUT_NAMES: tuple[str, ...] = ("x", "y", "z")
INPUT_IDS: tuple[int, ...] = tuple(TOKEN_ID[n] for n in INPUT_NAMES)
PARAM_A: int = TOKEN_ID["a"]
PARAM_B: int = TOKEN_ID["b"]
LAM: int = TOKEN_ID["lam"]
LAM2: int = TOKEN_ID["lam2"]
IF: int = TOKEN_ID["if"]
NIL: int = TOKEN_ID["nil"]
CONSTANTS: dict[int, int] = {TOKEN_ID[t]: int(t) for t in VOCAB if GROUP[TOKEN_ID[t]] == "const"}

REAL_TOKENS: tuple[int, ...] = tuple(i for i in range(VOCAB_SIZE) if GROUP[i] != "special")
"""Tokens that may stand in a complete program (everything but `<pad>` and `<mask>`)."""
TOKENS_BY_ARITY: dict[int, tuple[int, ...]] = {
    n: tuple(t for t in REAL_TOKENS if ARITY[t] == n) for n in range(MAX_ARITY + 1)
}
