"""LANGUAGE.md, "Syntax": parsing, the canonical printer, and every kind of parse error with its
position; also the `(<mask> ...)` extension for masked inner nodes and the Program container."""

import numpy as np
import pytest

from progrefine_env.lang import (
    ARITY,
    MASK,
    TOKEN_ID,
    ParseError,
    Program,
    ShapeError,
    parse,
    unparse,
)

# The examples of LANGUAGE.md (Syntax section and the task example).
DOC_EXAMPLES = [
    "(map (lam (* a 2)) (filter (lam (> a 0)) x))",
    "(fold (lam2 (+ a b)) 0 x)",
    "(if (> (len x) y) (take y x) (reverse x))",
]

CANONICAL = DOC_EXAMPLES + [
    "x",
    "nil",
    "-1",
    "10",
    "(range 5)",
    "(not (< a b))",
    "(zipwith (lam2 (- a b)) x (sort z))",
    "(fold (lam2 (+ a (count (lam (> a b)) x))) 0 x)",
    "(concat (cons (head x) nil) (range (min y 10)))",
    "(if (and (< 1 2) (or (= 3 4) (not (> 5 6)))) (index 7 (drop 8 x)) (/ (% 9 -1) (max 0 10)))",
    "<mask>",
    "(+ <mask> 1)",
    "(<mask> 1 2)",
    "(<mask> (lam (* a 2)) x)",
    "(<mask> (<mask> <mask> (<mask> 1)) <mask> (<mask> x x x))",
]


def ids(*names):
    return tuple(TOKEN_ID[n] for n in names)


@pytest.mark.parametrize("text", CANONICAL)
def test_canonical_text_prints_back_identically(text):
    program = parse(text)
    assert unparse(program) == text
    assert str(program) == text


@pytest.mark.parametrize("text", CANONICAL)
def test_parse_print_parse_is_identity(text):
    program = parse(text)
    assert parse(unparse(program)) == program


def test_parse_builds_the_preorder_tree():
    program = parse(DOC_EXAMPLES[0])
    assert program.tokens == ids("map", "lam", "*", "a", "2", "filter", "lam", ">", "a", "0", "x")
    assert program.arities == (2, 1, 2, 0, 0, 2, 1, 2, 0, 0, 0)
    assert program.complete
    shape = program.shape
    assert shape.parent == (-1, 0, 1, 2, 2, 0, 5, 6, 7, 7, 5)
    assert shape.children[0] == (1, 5)
    assert shape.children[5] == (6, 10)
    assert shape.depth == (0, 1, 2, 3, 3, 1, 2, 3, 4, 4, 2)
    assert shape.position == (0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1)
    assert shape.end == (11, 5, 5, 4, 5, 11, 10, 10, 9, 10, 11)


def test_programs_are_values():
    assert parse("(+ 1 2)") == parse("(+ 1   2)")
    assert hash(parse("(+ 1 2)")) == hash(parse("(+ 1 2)"))
    assert parse("(+ 1 2)") != parse("(+ 2 1)")


@pytest.mark.parametrize("number", range(-1, 11))
def test_every_constant_is_a_token(number):
    assert parse(str(number)).tokens == (TOKEN_ID[str(number)],)


@pytest.mark.parametrize(
    "messy, canonical",
    [
        ("  (map\n\t(lam   (* a 2)) ; doubles\n   (filter (lam (> a 0)) x)  )\n; trailing comment\n",
         "(map (lam (* a 2)) (filter (lam (> a 0)) x))"),
        ("; a header comment\n(fold (lam2 (+ a b)) ;; init next\n 0\n x)", "(fold (lam2 (+ a b)) 0 x)"),
        ("(if\r\n  (> (len x) y)\r\n  (take y x)\r\n  (reverse x))\r\n",
         "(if (> (len x) y) (take y x) (reverse x))"),
        ("x;comment right after a token", "x"),
        ("\n\n   nil   \n", "nil"),
        ("( +  1\t\t2 )", "(+ 1 2)"),
        ("(<mask>   1 ; masked head\n 2)", "(<mask> 1 2)"),
    ],
)  # fmt: skip
def test_comments_and_whitespace_parse_to_the_canonical_form(messy, canonical):
    assert unparse(parse(messy)) == canonical
    assert parse(messy) == parse(canonical)


# (text, line, column, a word the reason must contain); lines and columns are 1-based.
ERRORS = [
    # unknown tokens
    ("(+ 1 foo)", 1, 6, "unknown"),
    ("11", 1, 1, "unknown"),
    ("-7", 1, 1, "unknown"),
    ("(map (lam (* a 2))\n     (filter (lam (> a 0)) w))", 2, 28, "unknown"),
    ("(+ 1\n  ; a comment with ( and )\n  (- 2 Z))", 3, 8, "unknown"),
    # empty programs: the position is the end of the text
    ("", 1, 1, "empty"),
    ("   ", 1, 4, "empty"),
    ("; only a comment\n  ", 2, 3, "empty"),
    # unbalanced parentheses
    ("(+ 1 2", 1, 1, "missing"),
    ("(+ 1\n   (- 2 3)", 1, 1, "missing"),
    ("(map (lam (* a 2))\n  (filter (lam (> a 0)) x", 2, 3, "missing"),
    ("(map (lam (* a 2))\n  (filter (lam (> a 0) x)", 2, 24, "more"),
    ("(", 1, 1, "("),
    (")", 1, 1, "unexpected"),
    ("  )x", 1, 3, "unexpected"),
    ("(+ 1 2))", 1, 8, "after"),
    # too few arguments: reported at the ')' that closes too early
    ("(+ 1)", 1, 5, "got 1"),
    ("(if (< x 1)\n    x\n)", 3, 1, "got 2"),
    ("(fold (lam2 (+ a b)) x)", 1, 23, "got 2"),
    # too many arguments: reported at the first argument too many
    ("(+ 1 2 3)", 1, 8, "more"),
    ("(not\n  (< 1 2)\n  (< 2 3))", 3, 3, "more"),
    ("(lam a b)", 1, 8, "more"),
    # an atom used as a head
    ("(x 1)", 1, 2, "atom"),
    ("( 1 2)", 1, 3, "atom"),
    ("(+ 1\n  (nil))", 2, 4, "atom"),
    ("(<pad> 1)", 1, 2, "<pad>"),
    # a head used as an atom
    ("(len +)", 1, 6, "arguments"),
    ("map", 1, 1, "arguments"),
    ("(map lam x)", 1, 6, "arguments"),
    ("(cons 1\n\n   reverse)", 3, 4, "arguments"),
    # text after the program
    ("x y", 1, 3, "after"),
    ("(+ 1 2)\n\n  (+ 3 4)", 3, 3, "after"),
    ("(+ 1 2) )", 1, 9, "after"),
    # <pad> never appears in a program
    ("<pad>", 1, 1, "<pad>"),
    ("(cons <pad> nil)", 1, 7, "<pad>"),
    ("(cons 1\n <pad>)", 2, 2, "<pad>"),
    # a masked head needs an argument, and cannot take more than any token
    ("(<mask>)", 1, 8, "<mask>"),
    ("(<mask> 1 2 3 4)", 1, 15, "<mask>"),
    ("(+ (<mask> x\n x x\n x) 1)", 3, 2, "<mask>"),
]


@pytest.mark.parametrize("text, line, column, word", ERRORS)
def test_parse_errors_name_line_and_column(text, line, column, word):
    with pytest.raises(ParseError) as info:
        parse(text)
    error = info.value
    assert (error.line, error.column) == (line, column)
    assert f"line {line}, column {column}" in str(error)
    assert word in error.reason
    assert isinstance(error, ValueError)


def test_parse_error_offset_matches_line_and_column():
    text = "(map (lam (* a 2))\n     (filter (lam (> a 0)) w))"
    with pytest.raises(ParseError) as info:
        parse(text)
    assert text[info.value.offset] == "w"


def test_parse_rejects_non_text():
    with pytest.raises(TypeError):
        parse(b"(+ 1 2)")  # type: ignore[arg-type]


def test_masked_heads_keep_their_arity():
    program = parse("(<mask> (<mask> x) <mask> (<mask> 1 2 3))")
    assert program.tokens == (MASK, MASK, TOKEN_ID["x"], MASK, MASK, TOKEN_ID["1"], TOKEN_ID["2"], TOKEN_ID["3"])
    assert program.arities == (3, 1, 0, 0, 3, 0, 0, 0)
    assert not program.complete
    assert unparse(program) == "(<mask> (<mask> x) <mask> (<mask> 1 2 3))"
    # Filling a masked node with a token of its arity gives back a complete program.
    filled = program.replace({0: TOKEN_ID["if"], 1: TOKEN_ID["not"], 3: TOKEN_ID["7"], 4: TOKEN_ID["if"]})
    assert unparse(filled) == "(if (not x) 7 (if 1 2 3))"
    assert filled.complete


def test_masking_a_node_prints_a_masked_head():
    program = parse("(fold (lam2 (+ a b)) 0 x)")
    masked = program.replace({0: MASK, 2: MASK, 5: MASK})
    assert unparse(masked) == "(<mask> (lam2 (<mask> a b)) <mask> x)"
    assert parse(unparse(masked)) == masked
    assert masked.arities == program.arities


def test_replace_keeps_the_shape_and_checks_arity():
    program = parse("(+ 1 2)")
    assert unparse(program.replace({0: TOKEN_ID["max"]})) == "(max 1 2)"
    assert program == parse("(+ 1 2)")  # replace makes a copy
    with pytest.raises(ShapeError):
        program.replace({0: TOKEN_ID["not"]})  # arity 1 at an arity-2 node
    with pytest.raises(ShapeError):
        program.replace({1: TOKEN_ID["len"]})


def test_program_construction_is_validated():
    assert Program.from_tokens(ids("len", "x")) == parse("(len x)")
    with pytest.raises(ShapeError):
        Program.from_tokens(ids("+", "1"))  # a missing argument
    with pytest.raises(ShapeError):
        Program.from_tokens(ids("1", "2"))  # two roots
    with pytest.raises(ShapeError):
        Program.from_tokens([MASK])  # a mask has no implied arity
    with pytest.raises(ShapeError):
        Program.from_tokens([0])  # <pad>
    with pytest.raises(ShapeError):
        Program((), ())
    with pytest.raises(ShapeError):
        Program((MASK, 8, 8, 8, 8), (4, 0, 0, 0, 0))  # no token has arity 4


def test_subtree():
    program = parse(DOC_EXAMPLES[2])
    assert unparse(program.subtree(1)) == "(> (len x) y)"
    assert unparse(program.subtree(5)) == "(take y x)"
    assert program.subtree(0) == program
    assert len(program) == 10 and ARITY[program.tokens[0]] == 3


def test_program_construction_refuses_what_is_not_a_token_id():
    """Issue 13, item 7: `from_tokens([999])` raised IndexError, `Program((True,), (0,))` was
    accepted as `<mask>` (True == 1)."""
    for bad in ([999], [-1], [True], [1.0], ["x"]):
        with pytest.raises(ShapeError, match="node 0"):
            Program.from_tokens(bad)
    with pytest.raises(ShapeError, match="must be ints"):
        Program((True,), (0,))
    with pytest.raises(ShapeError, match="must be ints"):
        Program((TOKEN_ID["x"],), (False,))
    with pytest.raises(TypeError, match="tuples"):
        Program([TOKEN_ID["x"]], [0])
    assert Program.from_tokens(np.array(ids("len", "x"))) == parse("(len x)")  # numpy ids are ids


def test_replace_refuses_nodes_and_tokens_that_do_not_exist():
    program = parse("(+ 1 2)")
    for node in (3, -1, True, "0"):
        with pytest.raises(IndexError, match="not a node"):
            program.replace({node: TOKEN_ID["1"]})
    for token in (True, 999, 2.0):
        with pytest.raises(ShapeError):
            program.replace({1: token})


def chain(levels: int) -> list[int]:
    """`(not (not ... (< 1 2)))`: a program `levels` + 1 nodes deep."""
    return ids(*["not"] * levels, "<", "1", "2")


def test_programs_are_bounded_in_size_and_depth_wherever_they_enter():
    """Issue 13, item 3: a program of a million nodes built through the API took 11 s and 960 MB
    to check and compile before fuel could stop it."""
    from progrefine_env.lang import MAX_DEPTH, MAX_NODES

    assert Program.from_tokens(chain(MAX_DEPTH - 1))  # deepest node at depth MAX_DEPTH
    with pytest.raises(ShapeError, match="deeper than"):
        Program.from_tokens(chain(MAX_DEPTH))
    bushy = "1"
    while bushy.count("1") <= MAX_NODES // 2:  # a full binary tree: shallow, more than MAX_NODES nodes
        bushy = f"(+ {bushy} {bushy})"
    with pytest.raises(ParseError, match="at most"):
        parse(bushy)
    with pytest.raises(ShapeError, match="at most"):
        Program.from_tokens([TOKEN_ID["+"]] * 600_000 + [TOKEN_ID["1"]] * 600_001)
    with pytest.raises(ShapeError, match="at most"):
        Program((TOKEN_ID["1"],) * 1_000_000, (0,) * 1_000_000)
    assert parse("(not " * (MAX_DEPTH - 1) + "(< 1 2)" + ")" * (MAX_DEPTH - 1)) == Program.from_tokens(
        chain(MAX_DEPTH - 1)
    )
