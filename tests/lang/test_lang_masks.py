"""Grammar masks with holes against an independent brute-force oracle (LANGUAGE.md, "Types").

A program with `<mask>` holes is well-typed when *some* filling of its holes type-checks, and a
node's grammar mask is the set of tokens of its arity that keep the program so. The oracle
(lang_reference.py) tries every filling with a reference type checker written from LANGUAGE.md;
`check` itself is never the oracle here. Programs are small (brute force is exponential in the
holes): random trees of up to 9 nodes, and small well-typed programs with holes punched in.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lang_reference import completable, fitting_tokens, hole_fillings

from progrefine_env.lang import MASK, TOKEN_ID, TOKENS_BY_ARITY, VOCAB, Program, check, grammar_masks, parse, unparse

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_FILLINGS = 150  # fillings of the holes the oracle tries per program (brute force is slow)

# Small well-typed programs, with lambdas nested so that holes above parameters matter.
SMALL = [
    ("(count (lam (< a 1)) x)", {"x": "list"}),
    ("(fold (lam2 (+ a b)) 0 x)", {"x": "list"}),
    ("(map (lam (* a y)) x)", {"x": "list", "y": "int"}),
    ("(zipwith (lam2 (- b a)) x z)", {"x": "list", "z": "list"}),
    ("(fold (lam2 (count (lam (< a b)) x)) 0 x)", {"x": "list"}),
    ("(map (lam (fold (lam2 b) a x)) x)", {"x": "list"}),
    ("(if (not (< y 1)) (range y) nil)", {"y": "int"}),
    ("(filter (lam (= (% a 2) 0)) (sort x))", {"x": "list"}),
]
TYPES = st.fixed_dictionaries({}, optional={n: st.sampled_from(["int", "list"]) for n in ("x", "y", "z")})


@st.composite
def random_trees(draw, max_nodes=9):
    """A random tree of real tokens and holes (mostly ill-typed), with random input types."""
    budget = draw(st.integers(1, max_nodes))
    tokens, arities, open_slots, fillings = [], [], 1, 1
    while open_slots:
        left = budget - len(tokens) - open_slots  # nodes left beyond one leaf per open slot
        arity = draw(st.sampled_from([a for a in range(4) if a <= left]))
        choices = len(TOKENS_BY_ARITY[arity])
        hole = draw(st.integers(0, 4)) == 0 and fillings * choices <= MAX_FILLINGS
        fillings *= choices if hole else 1
        tokens.append(MASK if hole else draw(st.sampled_from(TOKENS_BY_ARITY[arity])))
        arities.append(arity)
        open_slots += arity - 1
    return Program(tuple(tokens), tuple(arities)), draw(TYPES)


@st.composite
def holed_programs(draw):
    """A small well-typed program after a few substitutions and with one to three holes."""
    text, types = draw(st.sampled_from(SMALL))
    program = parse(text)
    n = len(program)
    for _ in range(draw(st.integers(0, 2))):
        node = draw(st.integers(0, n - 1))
        program = program.replace({node: draw(st.sampled_from(TOKENS_BY_ARITY[program.arities[node]]))})
    holes = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
    while hole_fillings(program.replace({node: MASK for node in holes})) > MAX_FILLINGS:
        holes.pop()
    return program.replace({node: MASK for node in holes}), types


def assert_matches_oracle(program, types):
    info = check(program, types)
    masks = grammar_masks(program, types)
    where = (unparse(program), types)
    assert info.well_typed == completable(program, types), where
    for node, arity in enumerate(program.arities):
        row = {int(t) for t in np.flatnonzero(masks[node])}
        fitting = fitting_tokens(program, types, node)
        assert row and row <= set(TOKENS_BY_ARITY[arity]), (*where, node)
        if fitting:  # exact; otherwise the documented non-empty local fallback
            assert row == fitting, (*where, node, sorted(VOCAB[t] for t in row ^ fitting))
    if info.well_typed:
        assert info.conflicts(program.tokens) == [], where


@FAST
@given(st.one_of(random_trees(), holed_programs()))
def test_masks_and_well_typed_match_the_brute_force_oracle(case):
    assert_matches_oracle(*case)


@pytest.mark.slow
@LONG
@given(st.one_of(random_trees(), holed_programs()))
def test_masks_and_well_typed_match_the_brute_force_oracle_long(case):
    assert_matches_oracle(*case)


@pytest.mark.parametrize(
    "text, types, well_typed",
    [
        ("(count (<mask> (< b 1)) x)", {"x": "list"}, False),  # lam binds only a; lam2 gives fn2
        ("(count (<mask> (< a 1)) x)", {"x": "list"}, True),
        ("(map (<mask> (+ a b)) x)", {"x": "list"}, False),
        ("(fold (<mask> (+ a b)) 0 x)", {"x": "list"}, True),
        ("(<mask> (<mask> b))", {}, False),  # b needs a lam2 and a higher-order token to take it
        ("(<mask> (<mask> b) x)", {"x": "list"}, True),  # (scanl1 (lam2 b) x)
        ("(map (<mask> b) x)", {"x": "list"}, False),
        ("(fold (lam2 (count (<mask> (< a b)) x)) 0 x)", {"x": "list"}, True),
        ("(fold (lam2 (count (<mask> (+ a b)) x)) 0 x)", {"x": "list"}, False),
    ],
)  # fmt: skip
def test_holes_above_parameters(text, types, well_typed):
    """Issue 13: a parameter below a masked node of arity 1 that no lambda token can fill."""
    program = parse(text)
    assert completable(program, types) == well_typed  # the oracle agrees with the expectation
    assert_matches_oracle(program, types)


def test_masked_edits_from_an_empty_program_stay_well_typed():
    """Every walk of in-mask edits from a fully masked program keeps it well-typed (issue 13's
    reproducer: 0 -> count, 3 -> b, 1 -> lam each lay inside the mask and ended ill-typed)."""
    target, types = parse("(count (lam (< a 1)) x)"), {"x": "list"}
    start = Program((MASK,) * len(target), target.arities)
    rng = np.random.default_rng(0)
    for _ in range(300):
        program = start
        for node in rng.permutation(len(program)):
            allowed = np.flatnonzero(grammar_masks(program, types)[node])
            program = program.replace({int(node): int(rng.choice(allowed))})
            assert check(program, types).well_typed, unparse(program)
    below_a_hole = grammar_masks(parse("(count (<mask> (< <mask> 1)) x)"), types)[3]
    assert not below_a_hole[TOKEN_ID["b"]] and below_a_hole[TOKEN_ID["a"]]
