"""LANGUAGE.md, "Types": output types, type errors, type checking with holes and grammar masks.

The property tests on generated programs (exactness of the masks, holes) are in
test_lang_properties.py; this file holds the hand-written cases.
"""

import numpy as np
import pytest

from progrefine_env.lang import (
    MASK,
    PAD,
    TOKENS_BY_ARITY,
    VOCAB,
    VOCAB_SIZE,
    check,
    grammar_masks,
    input_signature,
    masks_to_array,
    parse,
    type_of,
)

L = {"x": "list"}
LI = {"x": "list", "y": "int"}
LL = {"x": "list", "y": "list"}
CONSTS = {str(c) for c in range(-1, 11)}


def mask_set(text, types, node):
    """The grammar mask of one node, as a set of token names."""
    row = grammar_masks(parse(text), types)[node]
    return {VOCAB[t] for t in np.flatnonzero(row)}


@pytest.mark.parametrize(
    "text, types, expected",
    [
        ("(fold (lam2 (+ a b)) 0 x)", L, "int"),
        ("(count (lam (> a 0)) x)", L, "int"),
        ("(index 0 x)", L, "int"),
        ("7", {}, "int"),
        ("-1", {}, "int"),
        ("y", LI, "int"),
        ("(< (len x) 3)", L, "bool"),
        ("(not (and (< 1 2) (or (= y 1) (> y 2))))", LI, "bool"),
        ("(if (< 1 2) (< 2 3) (= 1 1))", {}, "bool"),
        ("(map (lam (* a 2)) (filter (lam (> a 0)) x))", L, "list"),
        ("(if (> (len x) y) (take y x) (reverse x))", LI, "list"),
        ("(scanl1 (lam2 (max a b)) (sort x))", L, "list"),
        ("(zipwith (lam2 (- a b)) x y)", LL, "list"),
        ("(concat (cons 1 nil) (range 3))", {}, "list"),
        ("(drop 1 x)", L, "list"),
        ("nil", {}, "list"),
        ("x", L, "list"),
        ("x", {"x": "int"}, "int"),
        ("(map (lam (+ a y)) x)", LI, "list"),  # an input inside a lambda
        # an inner lam rebinds only a: b still names the enclosing lam2's second parameter
        ("(fold (lam2 (+ a (count (lam (> a b)) x))) 0 x)", L, "int"),
        # an inner lam2 rebinds both
        ("(map (lam (fold (lam2 (- a b)) a x)) x)", L, "list"),
        ("(zipwith (lam2 (fold (lam2 (* a b)) b (take a x))) x x)", L, "list"),
    ],
)  # fmt: skip
def test_type_of_well_typed_programs(text, types, expected):
    program = parse(text)
    assert type_of(program, types) == expected
    info = check(program, types)
    assert info.well_typed
    assert info.conflicts(program.tokens) == []


ILL_TYPED = [
    # a and b outside a binding lambda
    ("a", {}),
    ("(+ a 1)", {}),
    ("(map (lam a) (cons a nil))", {}),  # the list argument lies outside the lambda
    ("(fold (lam2 (+ a b)) b x)", L),
    # b inside a lam that is not inside a lam2
    ("(map (lam (+ a b)) x)", L),
    ("(map (lam (count (lam (> a b)) x)) x)", L),
    ("(filter (lam (< b 0)) x)", L),
    # an input the task does not declare, or declares with another type
    ("(+ y 1)", {"x": "int"}),
    ("z", {}),
    ("(map (lam (+ a z)) x)", L),
    ("(len x)", {"x": "int"}),
    ("(+ x 1)", L),
    # a lambda anywhere but as the first argument of a higher-order token
    ("(lam (+ a 1))", {}),  # the root is a function
    ("(lam2 (+ a b))", {}),
    ("(lam (< a 1))", {}),
    ("(+ (lam 1) 2)", {}),
    ("(map x (lam a))", L),
    ("(fold 0 (lam2 (+ a b)) x)", L),
    ("(len (lam a))", {}),
    ("(if (< 1 2) (lam 1) (lam 2))", {}),
    ("(map (lam (lam a)) x)", L),
    # the wrong kind of function for the higher-order token
    ("(map (lam (< a 1)) x)", L),
    ("(filter (lam (+ a 1)) x)", L),
    ("(count (lam a) x)", L),
    ("(map (lam2 (+ a b)) x)", L),
    ("(fold (lam (+ a 1)) 0 x)", L),
    ("(scanl1 (lam (+ a 1)) x)", L),
    ("(zipwith (lam (+ a 1)) x x)", L),
    ("(fold (lam2 (< a b)) 0 x)", L),  # lam2's body must be int
    ("(map (lam nil) x)", L),  # lam's body must be int or bool
    # if: a bool condition and branches of one type
    ("(if (< 1 2) 1 nil)", {}),
    ("(if (< 1 2) (< 1 2) 1)", {}),
    ("(if (< 1 2) x 0)", L),
    ("(if 1 2 3)", {}),
    ("(if nil 2 3)", {}),
    # argument types of the fixed signatures
    ("(+ 1 (< 1 2))", {}),
    ("(< nil 1)", {}),
    ("(= (< 1 2) (< 1 2))", {}),
    ("(and 1 (< 1 2))", {}),
    ("(not 1)", {}),
    ("(len 1)", {}),
    ("(reverse 1)", {}),
    ("(range nil)", {}),
    ("(take x 1)", L),
    ("(index nil 1)", {}),
    ("(cons nil nil)", {}),
    ("(concat 1 nil)", {}),
    ("(fold (lam2 (+ a b)) nil x)", L),
    ("(zipwith (lam2 (+ a b)) x 1)", L),
]


@pytest.mark.parametrize("text, types", ILL_TYPED)
def test_type_errors(text, types):
    program = parse(text)
    assert type_of(program, types) is None
    assert not check(program, types).well_typed


def test_declared_types_must_be_known():
    with pytest.raises(ValueError):
        check(parse("1"), {"w": "int"})
    with pytest.raises(ValueError):
        check(parse("x"), {"x": "bool"})
    assert input_signature({"x": "list", "z": "int"}) == (4, 0, 1)  # bit sets: int 1, list 4


# --- holes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, types",
    [
        ("<mask>", {}),
        ("(map (lam (* a 2)) <mask>)", L),
        ("(+ <mask> 1)", {}),
        ("(if (<mask> <mask> <mask>) <mask> <mask>)", {}),
        ("(<mask> <mask> <mask>)", {}),
        ("(<mask> (lam (* a 2)) x)", L),
        ("(map (<mask> (* a 2)) x)", L),  # the masked node can be `lam`
        ("(fold (<mask> (+ a b)) 0 x)", L),  # ... or `lam2`
        ("(fold (lam2 (+ a (count (lam (> a <mask>)) x))) 0 x)", L),
        ("(if (< (len x) y) (take y <mask>) (<mask> x))", LI),
    ],
)
def test_incomplete_programs_type_check_with_holes(text, types):
    program = parse(text)
    assert not program.complete
    assert check(program, types).well_typed
    assert type_of(program, types) is None  # no output type until the program is complete


@pytest.mark.parametrize(
    "text, types",
    [
        ("(+ nil <mask>)", {}),  # the error is not at the hole
        ("(if (< 1 2) <mask> nil)", {}),  # fine ...
        ("(if (< 1 2) (< <mask> 1) nil)", {}),  # ... but a bool branch cannot meet a list branch
        ("(map (lam (+ a b)) <mask>)", L),  # b is unbound whatever the hole is
        ("(lam <mask>)", {}),  # the root is a function whatever the body is
        ("(if <mask> <mask> <mask>)", {}),  # a hole stands for a token of its arity: no atom is a bool
        ("(and <mask> (< 1 2))", {}),
    ],
)
def test_incomplete_programs_can_still_be_ill_typed(text, types):
    program = parse(text)
    expected_well_typed = text == "(if (< 1 2) <mask> nil)"
    assert check(program, types).well_typed == expected_well_typed


# --- grammar masks -----------------------------------------------------------------------------


def test_grammar_masks_shape_and_dtype():
    program = parse("(if (> (len x) y) (take y x) (reverse x))")
    masks = grammar_masks(program, LI)
    assert masks.shape == (len(program), VOCAB_SIZE)
    assert masks.dtype == np.bool_
    assert np.array_equal(masks, masks_to_array(check(program, LI).masks))


def test_mask_of_a_hole_for_a_list():
    # node 5 is the <mask>: it must be a list, and only x and nil are lists here
    assert mask_set("(map (lam (* a 2)) <mask>)", L, 5) == {"x", "nil"}
    assert mask_set("(map (lam (* a 2)) <mask>)", {"x": "list", "y": "list", "z": "int"}, 5) == {"x", "y", "nil"}


def test_mask_of_a_hole_inside_lambdas():
    # inside a lam: a and the int inputs and constants; b is unbound
    assert mask_set("(map (lam (* <mask> 2)) x)", LI, 3) == {"a", "y"} | CONSTS
    # inside a lam inside a lam2: b too
    assert mask_set("(fold (lam2 (+ a (count (lam (> a <mask>)) x))) 0 x)", L, 8) == {"a", "b"} | CONSTS
    # outside any lambda: neither
    assert mask_set("(+ <mask> 1)", {"z": "int"}, 1) == {"z"} | CONSTS


def test_mask_of_a_masked_head_follows_its_arguments():
    assert mask_set("(<mask> (lam (* a 2)) x)", L, 0) == {"map"}
    assert mask_set("(<mask> (lam (> a 0)) x)", L, 0) == {"filter", "count"}
    assert mask_set("(<mask> (lam2 (+ a b)) x)", L, 0) == {"scanl1"}
    assert mask_set("(<mask> (lam2 (+ a b)) 0 x)", L, 0) == {"fold"}
    assert mask_set("(<mask> (lam2 (+ a b)) x x)", L, 0) == {"zipwith"}
    assert mask_set("(<mask> (< 1 2) 1 2)", {}, 0) == {"if"}
    assert mask_set("(<mask> 1 x)", L, 0) == {"take", "drop", "index", "cons"}
    assert mask_set("(<mask> x x)", L, 0) == {"concat"}
    assert mask_set("(<mask> (< 1 2) (< 2 3))", {}, 0) == {"and", "or"}
    assert mask_set("(<mask> 1 2)", {}, 0) == {"+", "-", "*", "/", "%", "min", "max", "<", ">", "="}
    assert mask_set("(<mask> x)", L, 0) == {"len", "sum", "head", "last", "maximum", "minimum", "reverse", "sort"}
    assert mask_set("(<mask> 3)", {}, 0) == {"range"}
    assert mask_set("(<mask> (< 1 2))", {}, 0) == {"not"}
    assert mask_set("(map (<mask> (* a 2)) x)", L, 1) == {"lam"}
    assert mask_set("(filter (<mask> (> a 0)) x)", L, 1) == {"lam"}
    assert mask_set("(fold (<mask> (+ a b)) 0 x)", L, 1) == {"lam2"}


def test_mask_of_an_if_branch_meets_the_other_branch_and_the_context():
    # the other branch is a hole, so this branch must be what `+` takes: an int, not a list
    assert mask_set("(+ (if (< 1 2) <mask> 3) 1)", L, 6) == CONSTS
    assert mask_set("(+ (if (< 1 2) <mask> (len x)) 1)", L, 6) == {"len", "sum", "head", "last", "maximum", "minimum"}
    assert mask_set("(if (< 1 2) <mask> nil)", L, 4) == {"x", "nil"}


def test_masks_of_a_complete_program():
    text = "(if (> (len x) y) (take y x) (reverse x))"
    assert mask_set(text, LI, 0) == {"if"}
    assert mask_set(text, LI, 1) == {"<", ">", "="}
    assert mask_set(text, LI, 2) == {"len", "sum", "head", "last", "maximum", "minimum"}
    assert mask_set(text, LI, 3) == {"x", "nil"}
    assert mask_set(text, LI, 4) == {"y"} | CONSTS
    assert mask_set(text, LI, 5) == {"take", "drop", "cons"}
    assert mask_set(text, LI, 8) == {"reverse", "sort"}


def test_masks_respect_the_binding_structure():
    text = "(fold (lam2 (+ a (count (lam (> a b)) x))) 0 x)"
    assert mask_set(text, L, 1) == {"lam2"}
    assert mask_set(text, L, 5) == {"lam"}  # a lam2 here would make the count's function fn2
    assert mask_set(text, L, 8) == {"a", "b"} | CONSTS
    assert mask_set(text, L, 10) == {"-1", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
    assert mask_set(text, L, 11) == {"x", "nil"}
    # replacing the inner lam's body's b by a parameter is fine, but in a plain lam b is unbound
    assert "b" not in mask_set("(map (lam (> a 0)) x)", L, 4)


def test_masks_only_hold_tokens_of_the_node_arity():
    for text, types in [
        ("(if (> (len x) y) (take y x) (reverse x))", LI),
        ("(<mask> (<mask> x) <mask> (<mask> 1 2 3))", L),
        ("(+ nil (< 1 2))", {}),
    ]:
        program = parse(text)
        masks = grammar_masks(program, types)
        for node, arity in enumerate(program.arities):
            allowed = np.zeros(VOCAB_SIZE, bool)
            allowed[list(TOKENS_BY_ARITY[arity])] = True
            assert not (masks[node] & ~allowed).any(), (text, node)
            assert not masks[node, PAD] and not masks[node, MASK]


@pytest.mark.parametrize(
    "text, types",
    [
        ("(+ nil (< 1 2))", {}),
        ("(if 1 nil (< 1 2))", {}),
        ("(map (lam (+ a b)) 3)", {}),
        ("(lam (+ a 1))", {}),
        ("(and a b)", {}),
        ("(+ z (head z))", {}),
        ("(fold (lam (lam a)) (lam2 b) (lam nil))", {}),
        ("(map <mask> x)", L),  # no atom is a function
        ("(and <mask> <mask>)", {}),  # no atom is a bool
        ("(<mask> (lam a) (lam a) (lam a))", {}),  # no token takes three functions
        ("(<mask> (lam2 (<mask> a b)))", {}),
    ],
)
def test_every_node_has_a_nonempty_mask_even_when_ill_typed(text, types):
    program = parse(text)
    masks = grammar_masks(program, types)
    for node, arity in enumerate(program.arities):
        assert masks[node].any(), node
        assert set(np.flatnonzero(masks[node])) <= set(TOKENS_BY_ARITY[arity])


def test_conflicts_name_the_nodes_outside_their_masks():
    program = parse("(+ nil 1)")
    assert check(program, {}).conflicts(program.tokens) == [1]
    program = parse("(map (lam (+ a b)) x)")
    assert check(program, L).conflicts(program.tokens) == [4]
    # only node 2: `and`/`or` at node 0 would need a bool atom, and none exists; holes never conflict
    program = parse("(+ <mask> (< 1 2))")
    assert check(program, {}).conflicts(program.tokens) == [2]


def test_the_checkers_caches_stay_within_their_bound(monkeypatch):
    """Issue 13: the mask cache grew without bound (49,147 entries after 400,000 random checks)."""
    from progrefine_env.lang import types as types_module

    monkeypatch.setattr(types_module, "CACHE_LIMIT", 40)
    for name in ("_UP", "_DOWN", "_MASKS", "_RELAXED"):  # fresh caches: earlier tests filled the real ones
        monkeypatch.setattr(types_module, name, {})
    rng = np.random.default_rng(0)
    program = parse("(fold (lam2 (+ a (count (lam (> a b)) x))) 0 (map (lam (* a y)) x))")
    seen_over = set()
    for _ in range(400):
        node = int(rng.integers(len(program)))
        choices = (*TOKENS_BY_ARITY[program.arities[node]], MASK)
        program = program.replace({node: int(rng.choice(choices))})
        info = check(program, {"x": "list", "y": rng.choice(["int", "list"])})
        assert len(info.masks) == len(program)
        seen_over |= {name for name, size in types_module.cache_sizes().items() if size > 40}
    assert not seen_over


def test_tokens_of_one_type_class_type_alike():
    """The passes loop over one token of each class (`types._CLASSES`, issue 12): every member
    of a class must give the same type set and accepted sets as its representative."""
    from progrefine_env.lang import types

    rng = np.random.default_rng(0)
    for arity, classes in types._CLASSES.items():
        members = [t for _, bits in classes for t in range(VOCAB_SIZE) if bits >> t & 1]
        assert sorted(members) == sorted(TOKENS_BY_ARITY[arity])  # each token in exactly one class
        for rep, bits in classes:
            for tok in (t for t in range(VOCAB_SIZE) if bits >> t & 1):
                for _ in range(200):
                    kids = tuple(int(k) for k in rng.integers(0, 1 << (types._WIDTH * types.CONTEXTS), arity))
                    context, sig = int(rng.integers(types.CONTEXTS)), tuple(int(b) for b in rng.choice([0, 1, 4], 3))
                    assert types._type_in(tok, kids, context, sig) == types._type_in(rep, kids, context, sig)
                    plain = tuple(types._at(k, context) for k in kids)
                    expected = int(rng.integers(1, types.ANY + 1))
                    for slot in range(arity):
                        assert types.accepted_child(tok, slot, plain, expected) == types.accepted_child(
                            rep, slot, plain, expected
                        )
