"""The vocabulary of LANGUAGE.md: token ids, their order, arities and the per-arity token sets.

Token ids are public (task files, checkpoints and observations hold them), so the expected table is
written out here by hand from LANGUAGE.md rather than derived from the implementation.
"""

from progrefine_env.lang import ARITY, MASK, PAD, TOKEN_ID, TOKENS_BY_ARITY, VOCAB, VOCAB_SIZE, vocab

# (token, arity) in LANGUAGE.md's order; the id of a token is its index in this list.
EXPECTED = [
    # special
    ("<pad>", 0), ("<mask>", 0),
    # inputs
    ("x", 0), ("y", 0), ("z", 0),
    # lambda parameters
    ("a", 0), ("b", 0),
    # integer constants
    ("-1", 0), ("0", 0), ("1", 0), ("2", 0), ("3", 0), ("4", 0), ("5", 0), ("6", 0), ("7", 0),
    ("8", 0), ("9", 0), ("10", 0),
    # empty list
    ("nil", 0),
    # integer arithmetic
    ("+", 2), ("-", 2), ("*", 2), ("/", 2), ("%", 2), ("min", 2), ("max", 2),
    # comparison
    ("<", 2), (">", 2), ("=", 2),
    # logic
    ("and", 2), ("or", 2), ("not", 1),
    # choice
    ("if", 3),
    # lambdas
    ("lam", 1), ("lam2", 1),
    # higher-order on lists
    ("map", 2), ("filter", 2), ("count", 2), ("scanl1", 2), ("fold", 3), ("zipwith", 3),
    # list to integer
    ("len", 1), ("sum", 1), ("head", 1), ("last", 1), ("maximum", 1), ("minimum", 1),
    # list to list
    ("reverse", 1), ("sort", 1),
    # list and integer
    ("take", 2), ("drop", 2), ("index", 2), ("cons", 2),
    # list and list
    ("concat", 2),
    # integer to list
    ("range", 1),
]  # fmt: skip

SPECIAL = {"<pad>", "<mask>"}


def test_vocab_is_exactly_the_table_in_order():
    assert list(VOCAB) == [tok for tok, _ in EXPECTED]


def test_vocab_size():
    assert VOCAB_SIZE == len(EXPECTED) == 56
    assert len(VOCAB) == VOCAB_SIZE


def test_token_ids_follow_the_table():
    for expected_id, (tok, _) in enumerate(EXPECTED):
        assert TOKEN_ID[tok] == expected_id, tok
        assert VOCAB[expected_id] == tok
    assert len(TOKEN_ID) == VOCAB_SIZE  # every token is distinct


def test_selected_ids_spelled_out():
    # A few ids written as numbers, so that a shift anywhere in the table shows up plainly.
    assert (PAD, MASK) == (0, 1)
    assert (TOKEN_ID["x"], TOKEN_ID["a"], TOKEN_ID["-1"], TOKEN_ID["10"], TOKEN_ID["nil"]) == (2, 5, 7, 18, 19)
    assert (TOKEN_ID["+"], TOKEN_ID["not"], TOKEN_ID["if"], TOKEN_ID["lam"]) == (20, 32, 33, 34)
    assert (TOKEN_ID["map"], TOKEN_ID["fold"], TOKEN_ID["len"], TOKEN_ID["range"]) == (36, 40, 42, 55)


def test_arities_follow_the_table():
    for tok, arity in EXPECTED:
        assert ARITY[TOKEN_ID[tok]] == arity, tok
    assert len(ARITY) == VOCAB_SIZE


def test_arities_per_group():
    def arities(*toks):
        return {ARITY[TOKEN_ID[t]] for t in toks}

    assert arities("<pad>", "<mask>", "x", "y", "z", "a", "b", "nil") == {0}
    assert arities(*(str(c) for c in range(-1, 11))) == {0}
    assert arities("+", "-", "*", "/", "%", "min", "max", "<", ">", "=", "and", "or") == {2}
    assert arities("not", "lam", "lam2", "len", "sum", "head", "last", "maximum", "minimum") == {1}
    assert arities("reverse", "sort", "range") == {1}
    assert arities("map", "filter", "count", "scanl1", "take", "drop", "index", "cons", "concat") == {2}
    assert arities("if", "fold", "zipwith") == {3}


def test_constants_are_minus_one_to_ten():
    consts = [t for t in VOCAB if t.lstrip("-").isdigit()]
    assert consts == [str(c) for c in range(-1, 11)]
    assert vocab.CONSTANTS == {TOKEN_ID[str(c)]: c for c in range(-1, 11)}


def test_tokens_by_arity():
    assert set(TOKENS_BY_ARITY) == {0, 1, 2, 3}
    for arity, toks in TOKENS_BY_ARITY.items():
        expected = [TOKEN_ID[t] for t, a in EXPECTED if a == arity and t not in SPECIAL]
        assert list(toks) == expected, arity  # in id order
        assert PAD not in toks and MASK not in toks
    every = sorted(t for toks in TOKENS_BY_ARITY.values() for t in toks)
    assert every == list(range(2, VOCAB_SIZE))  # every real token exactly once


def test_tokens_by_arity_sizes():
    # 3 inputs + 2 parameters + 12 constants + nil; the rest counted from the table.
    assert [len(TOKENS_BY_ARITY[n]) for n in range(4)] == [18, 12, 21, 3]
