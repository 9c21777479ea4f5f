"""Property tests of the language on generated programs (hypothesis).

Programs are generated from hand-written, well-typed seed programs that together use every token,
by random same-arity token substitutions. Two oracles written from LANGUAGE.md alone, a type
checker for complete programs (lang_reference.py) and an interpreter that counts steps (here), are
compared with the implementation; grammar masks are compared with `check().well_typed` of every
one-token edit. test_lang_masks.py checks masks with holes against a brute-force oracle.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lang_reference import CONSTANTS, INPUTS, ref_program_type, tree

from progrefine_env.lang import (
    MASK,
    PAD,
    TOKENS_BY_ARITY,
    VOCAB,
    EvalError,
    check,
    evaluate,
    grammar_masks,
    parse,
    type_of,
    unparse,
)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (program, declared input types): well-typed, and together they use every real token.
SEEDS = [
    ("(map (lam (* a 2)) (filter (lam (> a 0)) x))", {"x": "list"}),
    ("(fold (lam2 (+ a b)) 0 x)", {"x": "list"}),
    ("(if (> (len x) y) (take y x) (reverse x))", {"x": "list", "y": "int"}),
    ("(zipwith (lam2 (- a b)) x (sort z))", {"x": "list", "z": "list"}),
    ("(scanl1 (lam2 (max a b)) (drop 1 x))", {"x": "list"}),
    ("(count (lam (and (< a y) (not (= a 0)))) x)", {"x": "list", "y": "int"}),
    ("(concat (cons (head x) nil) (range (min y 10)))", {"x": "list", "y": "int"}),
    ("(index (% y 3) (scanl1 (lam2 (min a b)) x))", {"x": "list", "y": "int"}),
    ("(or (= (sum x) (last x)) (< (maximum x) (minimum x)))", {"x": "list"}),
    ("(/ (- (sum x) -1) (+ (len x) 1))", {"x": "list"}),
    ("(fold (lam2 (+ a (count (lam (> a b)) x))) 0 x)", {"x": "list"}),
    ("(map (lam (fold (lam2 (* a b)) 1 (take a z))) x)", {"x": "list", "z": "list"}),
    ("(if (not (< y z)) (+ y 4) (* z 5))", {"y": "int", "z": "int"}),
    ("(+ (* 3 6) (- 7 (max 8 (min 9 10))))", {}),
    ("(filter (lam (or (= (% a 2) 0) (> a 5))) (concat x nil))", {"x": "list"}),
    ("(and (> (len y) 0) (= (head y) x))", {"x": "int", "y": "list"}),
    ("(map (lam (if (< a x) (/ x (- a 1)) (index a z))) (range x))", {"x": "int", "z": "list"}),
]
SEED_PROGRAMS = [(parse(text), types) for text, types in SEEDS]


# --- a reference interpreter (LANGUAGE.md, "Semantics") ----------------------------------------


class Fail(Exception):
    def __init__(self, kind):
        self.kind = kind


def ref_run(program, inputs):
    """The value of a complete, well-typed program, or EvalError; also the number of steps."""
    steps = 0

    def ev(node, a, b):
        nonlocal steps
        name, kids = node
        assert name not in ("lam", "lam2"), "a lambda is applied, never evaluated by itself"
        steps += 1
        if steps > 10_000:
            raise Fail("fuel")
        value = compute(name, kids, a, b)
        if type(value) is int and not -1_000_000 <= value <= 1_000_000:
            raise Fail("overflow")
        if type(value) is list and len(value) > 100:
            raise Fail("length")
        return value

    def apply1(lam, e, b):  # lam rebinds only a
        return ev(lam[1][0], e, b)

    def apply2(lam, p, q):  # lam2 rebinds both
        return ev(lam[1][0], p, q)

    def compute(name, kids, a, b):
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name == "nil":
            return []
        if name in INPUTS:
            return inputs[name]
        if name == "a":
            return a
        if name == "b":
            return b
        if name == "if":
            return ev(kids[1], a, b) if ev(kids[0], a, b) else ev(kids[2], a, b)
        if name in ("map", "filter", "count"):
            xs = ev(kids[1], a, b)
            results = [apply1(kids[0], e, b) for e in xs]
            if name == "map":
                return results
            kept = [e for e, keep in zip(xs, results, strict=True) if keep]
            return kept if name == "filter" else len(kept)
        if name == "scanl1":
            xs = ev(kids[1], a, b)
            out = xs[:1]
            for e in xs[1:]:
                out.append(apply2(kids[0], out[-1], e))
            return out
        if name == "fold":
            acc = ev(kids[1], a, b)
            for e in ev(kids[2], a, b):
                acc = apply2(kids[0], acc, e)
            return acc
        if name == "zipwith":
            xs, ys = ev(kids[1], a, b), ev(kids[2], a, b)
            return [apply2(kids[0], p, q) for p, q in zip(xs, ys, strict=False)]
        args = [ev(k, a, b) for k in kids]  # strict, left to right
        if name in ("/", "%") and args[1] == 0:
            raise Fail("zero_division")
        if name in ("head", "last", "maximum", "minimum") and not args[0]:
            raise Fail("empty_list")
        if name == "index" and not 0 <= args[0] < len(args[1]):
            raise Fail("index")
        if name == "range" and args[0] > 100:
            raise Fail("length")
        return {
            "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
            "/": lambda x, y: x // y, "%": lambda x, y: x % y, "min": min, "max": max,
            "<": lambda x, y: x < y, ">": lambda x, y: x > y, "=": lambda x, y: x == y,
            "and": lambda x, y: x and y, "or": lambda x, y: x or y, "not": lambda x: not x,
            "len": len, "sum": sum, "head": lambda xs: xs[0], "last": lambda xs: xs[-1],
            "maximum": max, "minimum": min, "reverse": lambda xs: xs[::-1], "sort": sorted,
            "take": lambda n, xs: xs[: max(n, 0)], "drop": lambda n, xs: xs[max(n, 0) :],
            "index": lambda i, xs: xs[i], "cons": lambda e, xs: [e, *xs],
            "concat": lambda xs, ys: xs + ys, "range": lambda n: list(range(n)),
        }[name](*args)  # fmt: skip

    try:
        return ev(tree(program), 0, 0), steps
    except Fail as fail:
        return EvalError(fail.kind), steps


def same(value, expected):
    if isinstance(expected, EvalError):
        return value == expected
    if type(value) is not type(expected):
        return False
    return value == expected and (type(value) is not list or all(type(e) is int for e in value))


# --- strategies ----------------------------------------------------------------------------------


def well_typed(program, types):
    return check(program, types).well_typed


@st.composite
def well_typed_programs(draw, max_edits=12):
    """A seed program after random same-arity substitutions that keep it well-typed."""
    program, types = draw(st.sampled_from(SEED_PROGRAMS))
    for _ in range(draw(st.integers(0, max_edits))):
        node = draw(st.integers(0, len(program) - 1))
        token = draw(st.sampled_from(TOKENS_BY_ARITY[program.arities[node]]))
        candidate = program.replace({node: token})
        if well_typed(candidate, types):
            program = candidate
    return program, types


@st.composite
def mutated_programs(draw, masks=True):
    """A seed program (or a well-typed variant) after any same-arity substitutions, well-typed or
    not, some of them `<mask>` when `masks`."""
    program, types = draw(well_typed_programs(max_edits=6))
    for _ in range(draw(st.integers(1, 4))):
        node = draw(st.integers(0, len(program) - 1))
        choices = TOKENS_BY_ARITY[program.arities[node]] + ((MASK,) if masks else ())
        program = program.replace({node: draw(st.sampled_from(choices))})
    return program, types


def values_of(kind, wide=False):
    """Small ints and short lists; with `wide`, sometimes ints up to the limits and long lists."""
    ints = st.integers(-20, 20)
    if wide:
        ints = st.one_of(ints, st.integers(-1_000_000, 1_000_000), st.sampled_from([-1_000_000, 1_000_000]))
    lists = st.lists(ints, max_size=10)
    if wide:
        lists = st.one_of(lists, st.lists(ints, min_size=90, max_size=100))
    return ints if kind == "int" else lists


@st.composite
def inputs_for(draw, types, wide=False):
    return {name: draw(values_of(kind, wide)) for name, kind in types.items()}


@st.composite
def any_inputs(draw, types):
    """Inputs of the declared types, or of random types (some inputs missing) half the time."""
    if draw(st.booleans()):
        return draw(inputs_for(types))
    kinds = {n: draw(st.sampled_from([None, "int", "list"])) for n in INPUTS}
    return draw(inputs_for({n: k for n, k in kinds.items() if k}))


# --- the seeds themselves --------------------------------------------------------------------------


def test_seeds_are_well_typed_and_cover_every_token():
    used = set()
    for program, types in SEED_PROGRAMS:
        assert program.complete and well_typed(program, types), unparse(program)
        assert ref_program_type(program, types) == type_of(program, types) is not None
        used.update(program.tokens)
    assert used == {t for toks in TOKENS_BY_ARITY.values() for t in toks}


# --- syntax ----------------------------------------------------------------------------------------


@PROPERTY
@given(mutated_programs())
def test_print_parse_round_trip(case):
    program, _ = case
    text = unparse(program)
    assert parse(text) == program
    assert unparse(parse(text)) == text
    assert "  " not in text and "<pad>" not in text


# --- types -----------------------------------------------------------------------------------------


@PROPERTY
@given(mutated_programs(masks=False))
def test_type_checker_agrees_with_the_reference(case):
    program, types = case
    expected = ref_program_type(program, types)
    assert check(program, types).well_typed == (expected is not None)
    assert type_of(program, types) == expected


@PROPERTY
@given(well_typed_programs())
def test_grammar_masks_are_exact_for_well_typed_programs(case):
    """Token t of node i's arity is in mask[i] iff substituting it keeps the program well-typed."""
    program, types = case
    masks = grammar_masks(program, types)
    for node, arity in enumerate(program.arities):
        for token in TOKENS_BY_ARITY[arity]:
            edited = program.replace({node: token})
            assert masks[node, token] == well_typed(edited, types), (unparse(program), node, VOCAB[token])
        others = np.ones(masks.shape[1], bool)
        others[list(TOKENS_BY_ARITY[arity])] = False
        assert not masks[node, others].any()
        assert masks[node, program.tokens[node]]  # the current token keeps it well-typed


@PROPERTY
@given(mutated_programs())
def test_grammar_masks_are_exact_or_a_nonempty_fallback(case):
    """For any program (ill-typed or incomplete too): when some token of the node's arity makes
    the program well-typed (with holes), the mask is exactly those tokens; when none does, the
    mask is the documented local fallback, which is never empty."""
    program, types = case
    masks = grammar_masks(program, types)
    for node, arity in enumerate(program.arities):
        fitting = {t for t in TOKENS_BY_ARITY[arity] if well_typed(program.replace({node: t}), types)}
        row = set(np.flatnonzero(masks[node]).tolist())
        assert row, (unparse(program), node)
        assert PAD not in row and MASK not in row
        assert row <= set(TOKENS_BY_ARITY[arity])
        if fitting:
            assert row == fitting, (unparse(program), node)


@PROPERTY
@given(well_typed_programs(), st.data())
def test_holes_keep_a_completable_program_well_typed(case, data):
    """Masking nodes of a well-typed program: it still type-checks with holes, every node's mask
    holds the token of the known completion, and (that token fitting) is exact."""
    program, types = case
    hidden = data.draw(st.sets(st.integers(0, len(program) - 1), min_size=1))
    incomplete = program.replace({node: MASK for node in hidden})
    assert not incomplete.complete
    info = check(incomplete, types)
    assert info.well_typed
    masks = grammar_masks(incomplete, types)
    for node, token in enumerate(program.tokens):
        assert masks[node, token], (unparse(incomplete), node, VOCAB[token])
        arity = program.arities[node]
        fitting = {t for t in TOKENS_BY_ARITY[arity] if well_typed(incomplete.replace({node: t}), types)}
        assert set(np.flatnonzero(masks[node]).tolist()) == fitting, (unparse(incomplete), node)
    assert info.conflicts(incomplete.tokens) == []


# --- semantics -------------------------------------------------------------------------------------


@PROPERTY
@given(well_typed_programs(), st.data())
def test_interpreter_agrees_with_the_reference(case, data):
    program, types = case
    inputs = data.draw(inputs_for(types, wide=data.draw(st.booleans())))
    value = evaluate(program, inputs)
    expected, _ = ref_run(program, inputs)
    assert same(value, expected), (unparse(program), inputs, value, expected)
    if not isinstance(value, EvalError):
        assert {bool: "bool", int: "int", list: "list"}[type(value)] == type_of(program, types)


@PROPERTY
@given(mutated_programs(), st.data())
def test_evaluate_never_raises(case, data):
    """Any mutation (ill-typed, incomplete) on any inputs: a value or an EvalError, never an
    exception; the error kind is `incomplete`, `type`, or what the reference interpreter says."""
    program, seed_types = case
    inputs = data.draw(any_inputs(seed_types))
    value = evaluate(program, inputs)
    assert isinstance(value, (EvalError, bool, int, list))
    types = {name: "int" if type(v) is int else "list" for name, v in inputs.items()}
    if not program.complete:
        assert value == EvalError("incomplete")
    elif ref_program_type(program, types) is None:
        assert value == EvalError("type")
    else:
        expected, _ = ref_run(program, inputs)
        assert same(value, expected), (unparse(program), inputs, value, expected)


# Seeds that run many steps on long lists, to meet the fuel limit often.
HEAVY = [
    ("(map (lam (count (lam (< a 3)) (range a))) x)", {"x": "list"}),
    ("(fold (lam2 (+ a (sum (scanl1 (lam2 (+ a b)) (range b))))) 0 x)", {"x": "list"}),
    ("(zipwith (lam2 (len (filter (lam (> a b)) (range a)))) x (reverse x))", {"x": "list"}),
]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(HEAVY), st.data())
def test_step_counts_agree_near_the_fuel_limit(seed, data):
    text, types = seed
    program = parse(text)
    xs = data.draw(st.lists(st.integers(0, 100), min_size=60, max_size=100))
    value = evaluate(program, {"x": xs})
    if not well_typed(program, types):
        assert value == EvalError("type")
        return
    expected, steps = ref_run(program, {"x": xs})
    assert same(value, expected), (text, xs, value, expected, steps)
