"""Reference oracles for the language tests, written from LANGUAGE.md alone (never from the
implementation): a type checker for complete programs, and a brute-force one for incomplete
programs that tries every filling of the holes.

Not a test module (no `test_` prefix); imported by name, pytest puts this folder on sys.path.
"""

from __future__ import annotations

from itertools import product

from progrefine_env.lang import MASK, TOKENS_BY_ARITY, VOCAB

INPUTS = ("x", "y", "z")

# --- complete programs (LANGUAGE.md, "Types") -------------------------------------------------

FIXED = {
    **{op: (("int", "int"), "int") for op in ("+", "-", "*", "/", "%", "min", "max")},
    **{op: (("int", "int"), "bool") for op in ("<", ">", "=")},
    "and": (("bool", "bool"), "bool"), "or": (("bool", "bool"), "bool"), "not": (("bool",), "bool"),
    "map": (("fn1", "list"), "list"), "filter": (("pred", "list"), "list"),
    "count": (("pred", "list"), "int"), "scanl1": (("fn2", "list"), "list"),
    "fold": (("fn2", "int", "list"), "int"), "zipwith": (("fn2", "list", "list"), "list"),
    **{op: (("list",), "int") for op in ("len", "sum", "head", "last", "maximum", "minimum")},
    "reverse": (("list",), "list"), "sort": (("list",), "list"),
    "take": (("int", "list"), "list"), "drop": (("int", "list"), "list"),
    "index": (("int", "list"), "int"), "cons": (("int", "list"), "list"),
    "concat": (("list", "list"), "list"), "range": (("int",), "list"),
}  # fmt: skip
CONSTANTS = {str(c): c for c in range(-1, 11)}
VALUE_TYPES = ("int", "bool", "list")


def tree(program):
    """(name, children) of a complete program, built from its pre-order tokens."""
    names = [VOCAB[t] for t in program.tokens]
    pos = 0

    def build():
        nonlocal pos
        node, arity = names[pos], program.arities[pos]
        pos += 1
        return (node, [build() for _ in range(arity)])

    root = build()
    assert pos == len(names)
    return root


def ref_type(node, types, a=False, b=False):
    """The type of a subtree with `a`/`b` bound or not; None when ill-typed."""
    name, kids = node
    if name in CONSTANTS:
        return "int"
    if name == "nil":
        return "list"
    if name in INPUTS:
        return types.get(name)
    if name == "a":
        return "int" if a else None
    if name == "b":
        return "int" if b else None
    if name == "lam":
        body = ref_type(kids[0], types, True, b)
        return {"int": "fn1", "bool": "pred"}.get(body)
    if name == "lam2":
        return "fn2" if ref_type(kids[0], types, True, True) == "int" else None
    kid_types = [ref_type(k, types, a, b) for k in kids]
    if name == "if":
        cond, then, other = kid_types
        return then if cond == "bool" and then == other and then in VALUE_TYPES else None
    params, result = FIXED[name]
    return result if list(params) == kid_types else None


def ref_program_type(program, types):
    t = ref_type(tree(program), types)
    return t if t in VALUE_TYPES else None


# --- incomplete programs: brute force over the holes ----------------------------------------------


def fillings(program):
    """Every complete program that fills `program`'s holes with tokens of their arities."""
    holes = [i for i, t in enumerate(program.tokens) if t == MASK]
    choices = [TOKENS_BY_ARITY[program.arities[i]] for i in holes]
    for tokens in product(*choices):
        yield program.replace(dict(zip(holes, tokens, strict=True)))


def completable(program, types):
    """Whether some filling of the holes gives a well-typed program (LANGUAGE.md: a `<mask>`
    node has an unknown type; the grammar mask is defined from this)."""
    return any(ref_program_type(filled, types) is not None for filled in fillings(program))


def fitting_tokens(program, types, node):
    """The tokens of `node`'s arity that, put at `node`, leave the program completable: what
    its grammar mask must be whenever it is not empty."""
    arity = program.arities[node]
    return {t for t in TOKENS_BY_ARITY[arity] if completable(program.replace({node: t}), types)}


def hole_fillings(program):
    """How many fillings `fillings(program)` tries."""
    count = 1
    for i, t in enumerate(program.tokens):
        if t == MASK:
            count *= len(TOKENS_BY_ARITY[program.arities[i]])
    return count
