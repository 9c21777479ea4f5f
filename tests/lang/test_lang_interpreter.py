"""LANGUAGE.md, "Semantics": every token's meaning, evaluation order, and the limits.

Constants in programs are -1..10, so other numbers are built from them (-7 is `(- 0 7)`) or passed
as inputs. Results are compared with their type: `True` is not `1`.
"""

import pytest

from progrefine_env.lang import (
    ERROR_KINDS,
    FUEL,
    INT_MAX,
    INT_MIN,
    MAX_LIST_LENGTH,
    Compiled,
    EvalError,
    compile_program,
    evaluate,
    parse,
    values_equal,
)


class Err:
    """An expected error kind in a table of cases."""

    def __init__(self, kind):
        assert kind in ERROR_KINDS
        self.kind = kind

    def __repr__(self):
        return f"Err({self.kind!r})"


def run(text, **inputs):
    return evaluate(parse(text), inputs)


def same(value, expected):
    """Equal, and of the same language type (a bool is not an int, list elements are ints)."""
    if isinstance(expected, Err):
        return value == EvalError(expected.kind)
    if type(value) is not type(expected):
        return False
    if isinstance(expected, list):
        return all(type(v) is int for v in value) and value == expected
    return value == expected


def check_case(text, inputs, expected):
    value = evaluate(parse(text), inputs)
    assert same(value, expected), f"{text} on {inputs}: got {value!r}, expected {expected!r}"


# 1_000_000 built from constants
MILLION = "(* (* 10 (* 10 10)) (* 10 (* 10 10)))"
XS = [3, -1, 2]

CASES = [
    # constants, nil, inputs
    ("-1", {}, -1),
    ("0", {}, 0),
    ("10", {}, 10),
    ("nil", {}, []),
    ("x", {"x": 5}, 5),
    ("y", {"y": [1, 2]}, [1, 2]),
    ("z", {"x": 1, "z": -4}, -4),
    # arithmetic
    ("(+ 2 3)", {}, 5),
    ("(- 2 3)", {}, -1),
    ("(* -1 7)", {}, -7),
    ("(min 3 -1)", {}, -1),
    ("(max 3 -1)", {}, 3),
    ("(min x y)", {"x": -5, "y": -5}, -5),
    # floor division and modulo as in Python
    ("(/ 7 2)", {}, 3),
    ("(% 7 2)", {}, 1),
    ("(/ (- 0 7) 2)", {}, -4),
    ("(% (- 0 7) 2)", {}, 1),
    ("(/ 7 (- 0 2))", {}, -4),
    ("(% 7 (- 0 2))", {}, -1),
    ("(/ (- 0 7) (- 0 2))", {}, 3),
    ("(% (- 0 7) (- 0 2))", {}, -1),
    ("(/ 6 3)", {}, 2),
    ("(% 6 3)", {}, 0),
    ("(/ (- 0 6) 3)", {}, -2),
    ("(% 0 5)", {}, 0),
    ("(/ x y)", {"x": -7, "y": 2}, -4),
    ("(% x y)", {"x": -7, "y": 2}, 1),
    ("(/ x y)", {"x": 7, "y": -2}, -4),
    ("(% x y)", {"x": 7, "y": -2}, -1),
    ("(/ x -1)", {"x": -1_000_000}, 1_000_000),
    # zero divisors
    ("(/ 1 0)", {}, Err("zero_division")),
    ("(% 1 0)", {}, Err("zero_division")),
    ("(/ 0 0)", {}, Err("zero_division")),
    ("(% x (- 2 2))", {"x": -3}, Err("zero_division")),
    ("(/ x y)", {"x": 5, "y": 0}, Err("zero_division")),
    # comparisons give bools
    ("(< 1 2)", {}, True),
    ("(< 2 2)", {}, False),
    ("(> 2 1)", {}, True),
    ("(> 2 2)", {}, False),
    ("(= 2 2)", {}, True),
    ("(= 2 3)", {}, False),
    ("(< x y)", {"x": -3, "y": -2}, True),
    # logic
    ("(and (< 1 2) (< 1 2))", {}, True),
    ("(and (< 1 2) (< 2 1))", {}, False),
    ("(and (< 2 1) (< 1 2))", {}, False),
    ("(and (< 2 1) (< 2 1))", {}, False),
    ("(or (< 1 2) (< 1 2))", {}, True),
    ("(or (< 1 2) (< 2 1))", {}, True),
    ("(or (< 2 1) (< 1 2))", {}, True),
    ("(or (< 2 1) (< 2 1))", {}, False),
    ("(not (< 1 2))", {}, False),
    ("(not (< 2 1))", {}, True),
    # and/or evaluate both sides: an error on the right still ends the run
    ("(or (< 0 1) (< (head nil) 1))", {}, Err("empty_list")),
    ("(and (< 1 0) (< (head nil) 1))", {}, Err("empty_list")),
    ("(or (< 0 1) (= (/ 1 0) 1))", {}, Err("zero_division")),
    ("(and (= 1 1) (< (index 3 nil) 1))", {}, Err("index")),
    # if evaluates the condition, then only the chosen branch
    ("(if (< 0 1) 5 (head nil))", {}, 5),
    ("(if (< 1 0) (head nil) 5)", {}, 5),
    ("(if (< 0 1) (head nil) 5)", {}, Err("empty_list")),
    ("(if (< 1 0) 5 (/ 1 0))", {}, Err("zero_division")),
    ("(if (< (head nil) 0) 1 (/ 1 0))", {}, Err("empty_list")),
    ("(if (= x 0) nil (range x))", {"x": 3}, [0, 1, 2]),
    ("(if (< 1 2) (< 2 1) (< 1 2))", {}, False),
    # strict, left to right: the first error in evaluation order is the one reported
    ("(+ (head nil) (/ 1 0))", {}, Err("empty_list")),
    ("(+ (/ 1 0) (head nil))", {}, Err("zero_division")),
    ("(fold (lam2 (+ a b)) (/ 1 0) (cons (head nil) nil))", {}, Err("zero_division")),
    ("(fold (lam2 (/ a b)) (head nil) (cons 0 nil))", {}, Err("empty_list")),
    ("(zipwith (lam2 (/ a b)) (cons (index 9 nil) nil) (cons (last nil) nil))", {}, Err("index")),
    ("(map (lam (/ 1 a)) (cons 0 (cons (head nil) nil)))", {}, Err("empty_list")),  # list first
    ("(map (lam (/ 1 a)) (cons 1 (cons 0 (cons (last nil) nil))))", {}, Err("empty_list")),
    ("(map (lam (if (= a 0) (head nil) (/ 1 (- a 1)))) x)", {"x": [2, 1, 0]}, Err("zero_division")),
    ("(map (lam (if (= a 0) (head nil) (/ 1 (- a 1)))) x)", {"x": [2, 0, 1]}, Err("empty_list")),
    # map, filter, count
    ("(map (lam (* a 2)) x)", {"x": XS}, [6, -2, 4]),
    ("(map (lam (* a 2)) x)", {"x": []}, []),
    ("(map (lam (< a 1)) x)", {"x": XS}, Err("type")),
    ("(filter (lam (> a 0)) x)", {"x": XS}, [3, 2]),
    ("(filter (lam (> a 9)) x)", {"x": XS}, []),
    ("(count (lam (> a 0)) x)", {"x": XS}, 2),
    ("(count (lam (> a 0)) x)", {"x": []}, 0),
    ("(map (lam (* a 2)) (filter (lam (> a 0)) x))", {"x": [3, -1, 2]}, [6, 4]),
    # fold: acc = i, then acc = f(acc, e) with a = acc, b = e
    ("(fold (lam2 (- a b)) 0 x)", {"x": [1, 2, 3]}, -6),
    ("(fold (lam2 (- b a)) 10 x)", {"x": [1, 2, 3]}, -8),
    ("(fold (lam2 (+ (* a 10) b)) 0 x)", {"x": [1, 2, 3]}, 123),
    ("(fold (lam2 (+ (* a 10) b)) 7 x)", {"x": []}, 7),
    ("(fold (lam2 b) 7 x)", {"x": [4, 5]}, 5),
    ("(fold (lam2 a) 7 x)", {"x": [4, 5]}, 7),
    # scanl1: r[0] = xs[0], r[k] = f(r[k-1], xs[k]) with a = r[k-1], b = xs[k]
    ("(scanl1 (lam2 (- a b)) x)", {"x": [10, 1, 2]}, [10, 9, 7]),
    ("(scanl1 (lam2 (+ (* a 10) b)) x)", {"x": [1, 2, 3]}, [1, 12, 123]),
    ("(scanl1 (lam2 b) x)", {"x": [1, 2, 3]}, [1, 2, 3]),
    ("(scanl1 (lam2 (+ a b)) x)", {"x": []}, []),
    ("(scanl1 (lam2 (/ a 0)) x)", {"x": [5]}, [5]),  # f is never applied to one element
    ("(scanl1 (lam2 (/ a 0)) x)", {"x": [5, 1]}, Err("zero_division")),
    # zipwith: a = p, b = q, as long as the shorter list
    ("(zipwith (lam2 (- a b)) x y)", {"x": [10, 20, 30], "y": [1, 2]}, [9, 18]),
    ("(zipwith (lam2 (- a b)) x y)", {"x": [1], "y": [5, 6, 7]}, [-4]),
    ("(zipwith (lam2 (- a b)) x y)", {"x": [], "y": [5, 6, 7]}, []),
    ("(zipwith (lam2 (- a b)) x y)", {"x": [1, 2], "y": []}, []),
    ("(zipwith (lam2 b) x y)", {"x": [1, 2], "y": [3, 4]}, [3, 4]),
    # list to integer
    ("(len x)", {"x": XS}, 3),
    ("(len x)", {"x": []}, 0),
    ("(sum x)", {"x": XS}, 4),
    ("(sum x)", {"x": []}, 0),
    ("(head x)", {"x": XS}, 3),
    ("(last x)", {"x": XS}, 2),
    ("(maximum x)", {"x": XS}, 3),
    ("(minimum x)", {"x": XS}, -1),
    ("(head x)", {"x": []}, Err("empty_list")),
    ("(last x)", {"x": []}, Err("empty_list")),
    ("(maximum x)", {"x": []}, Err("empty_list")),
    ("(minimum x)", {"x": []}, Err("empty_list")),
    ("(maximum nil)", {}, Err("empty_list")),
    # list to list
    ("(reverse x)", {"x": XS}, [2, -1, 3]),
    ("(reverse x)", {"x": []}, []),
    ("(sort x)", {"x": [2, 1, 2, -5]}, [-5, 1, 2, 2]),
    ("(sort x)", {"x": []}, []),
    # index: xs[i] for 0 <= i < len(xs), else an error
    ("(index 0 x)", {"x": [5, 6, 7]}, 5),
    ("(index 2 x)", {"x": [5, 6, 7]}, 7),
    ("(index 3 x)", {"x": [5, 6, 7]}, Err("index")),
    ("(index -1 x)", {"x": [5, 6, 7]}, Err("index")),
    ("(index y x)", {"x": [5, 6, 7], "y": -3}, Err("index")),
    ("(index 0 nil)", {}, Err("index")),
    # cons, concat
    ("(cons 4 x)", {"x": [1, 2]}, [4, 1, 2]),
    ("(cons -1 nil)", {}, [-1]),
    ("(concat x y)", {"x": [1, 2], "y": [3]}, [1, 2, 3]),
    ("(concat x nil)", {"x": [1, 2]}, [1, 2]),
    ("(concat nil x)", {"x": [1, 2]}, [1, 2]),
    # range
    ("(range 4)", {}, [0, 1, 2, 3]),
    ("(range 1)", {}, [0]),
    ("(range 0)", {}, []),
    ("(range -1)", {}, []),
    ("(range x)", {"x": -20}, []),
    # an inner lam rebinds only a: b is still the enclosing lam2's b
    ("(fold (lam2 (+ a (count (lam (> a b)) x))) 0 x)", {"x": [1, 2, 3]}, 3),
    ("(zipwith (lam2 (count (lam (< a b)) x)) x y)", {"x": [1, 2, 3], "y": [2, 3]}, [1, 2]),
    ("(scanl1 (lam2 (sum (map (lam (* a b)) (range 3)))) x)", {"x": [1, 2, 5]}, [1, 6, 15]),
    # ... and the inner lam's a shadows the outer one
    ("(map (lam (sum (map (lam (* a 10)) (range a)))) x)", {"x": [3, 0]}, [30, 0]),
    # an inner lam2 rebinds both
    ("(fold (lam2 (+ a (fold (lam2 (* a b)) 1 (take b x)))) 0 x)", {"x": [1, 2, 3]}, 9),
    ("(map (lam (fold (lam2 (- a b)) a x)) y)", {"x": [1, 2], "y": [10, 20]}, [7, 17]),
    ("(zipwith (lam2 (scanl1 (lam2 (- b a)) (cons a (cons b nil)))) x y)", {"x": [1], "y": [5]}, Err("type")),
    ("(zipwith (lam2 (last (scanl1 (lam2 (- b a)) (cons a (cons b nil))))) x y)",
     {"x": [1, 10], "y": [5, 3]}, [4, -7]),
    # the program's own parameters are not visible outside its lambdas
    ("(+ (fold (lam2 (+ a b)) 0 x) a)", {"x": [1]}, Err("type")),
]  # fmt: skip


@pytest.mark.parametrize("text, inputs, expected", CASES)
def test_semantics(text, inputs, expected):
    check_case(text, inputs, expected)


@pytest.mark.parametrize("n", [-5, -1, 0, 1, 2, 3, 4, 10])
def test_take_and_drop(n):
    xs = [4, 5, 6]
    check_case("(take y x)", {"x": xs, "y": n}, xs[: max(n, 0)])
    check_case("(drop y x)", {"x": xs, "y": n}, xs[max(n, 0) :])
    check_case("(take y nil)", {"y": n}, [])
    check_case("(drop y nil)", {"y": n}, [])


def test_bool_results_are_bools():
    assert run("(< 1 2)") is True
    assert run("(and (< 2 1) (< 1 2))") is False
    assert run("(if (= 1 1) (not (< 1 2)) (< 1 2))") is False


def test_inputs_are_not_changed():
    xs = [3, 1, 2]
    assert run("(sort x)", x=xs) == [1, 2, 3]
    assert run("(reverse x)", x=xs) == [2, 1, 3]
    assert run("(cons 0 x)", x=xs) == [0, 3, 1, 2]
    assert xs == [3, 1, 2]


# --- limits --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, inputs, expected",
    [
        (f"(+ {MILLION} 0)", {}, 1_000_000),
        (f"(+ {MILLION} 1)", {}, Err("overflow")),
        (f"(- (- 0 {MILLION}) 0)", {}, -1_000_000),
        (f"(- (- 0 {MILLION}) 1)", {}, Err("overflow")),
        (f"(* {MILLION} -1)", {}, -1_000_000),
        (f"(* {MILLION} 2)", {}, Err("overflow")),
        (f"(* (- 0 {MILLION}) 2)", {}, Err("overflow")),
        ("(+ x y)", {"x": 999_999, "y": 1}, 1_000_000),
        ("(+ x y)", {"x": 1_000_000, "y": 1}, Err("overflow")),
        ("(- x y)", {"x": -999_999, "y": 1}, -1_000_000),
        ("(- x y)", {"x": -1_000_000, "y": 1}, Err("overflow")),
        ("(- x y)", {"x": 1_000_000, "y": -1_000_000}, Err("overflow")),
        ("(* x y)", {"x": 1000, "y": 1000}, 1_000_000),
        ("(* x y)", {"x": -1000, "y": 1001}, Err("overflow")),
        ("(sum x)", {"x": [1_000_000, 0]}, 1_000_000),
        ("(sum x)", {"x": [1_000_000, 1]}, Err("overflow")),
        ("(sum x)", {"x": [-1_000_000, -1]}, Err("overflow")),
        ("(fold (lam2 (* a b)) 1 x)", {"x": [1000, 1000]}, 1_000_000),
        ("(fold (lam2 (* a b)) 1 x)", {"x": [1000, 1001]}, Err("overflow")),
        ("(scanl1 (lam2 (+ a b)) x)", {"x": [999_999, 1, 1]}, Err("overflow")),
        ("(map (lam (- a 1)) x)", {"x": [-1_000_000]}, Err("overflow")),
        ("(map (lam (- a 1)) x)", {"x": [-999_999]}, [-1_000_000]),
        ("(/ x -1)", {"x": -1_000_000}, 1_000_000),
        ("x", {"x": -1_000_000}, -1_000_000),
    ],
)
def test_integer_overflow(text, inputs, expected):
    assert (INT_MIN, INT_MAX) == (-1_000_000, 1_000_000)
    check_case(text, inputs, expected)


@pytest.mark.parametrize(
    "text, inputs, expected_length",
    [
        ("(cons 0 x)", {"x": [1] * 99}, 100),
        ("(cons 0 x)", {"x": [1] * 100}, None),
        ("(concat x y)", {"x": [1] * 50, "y": [2] * 50}, 100),
        ("(concat x y)", {"x": [1] * 50, "y": [2] * 51}, None),
        ("(concat x nil)", {"x": [1] * 100}, 100),
        ("(range (* 10 10))", {}, 100),
        ("(range (+ (* 10 10) 1))", {}, None),
        ("(range x)", {"x": 1_000_000}, None),
        ("(len (concat (range (* 10 10)) (range 1)))", {}, None),  # the error ends the run
        ("(concat (range (* 10 5)) (range (* 10 5)))", {}, 100),
        ("(concat (range (* 10 5)) (range (+ (* 10 5) 1)))", {}, None),
        ("(map (lam a) x)", {"x": [0] * 100}, 100),
    ],
)
def test_list_length_limit(text, inputs, expected_length):
    assert MAX_LIST_LENGTH == 100
    value = evaluate(parse(text), inputs)
    if expected_length is None:
        assert value == EvalError("length")
    else:
        assert isinstance(value, list) and len(value) == expected_length


# Step counts, following LANGUAGE.md: one step per node evaluation, none for lam/lam2 themselves,
# and a lambda's body costs its nodes each time the lambda is applied.
#
# (+ (len (map (lam (len (map (lam a) y))) x)) (len (map (lam a) z))), with |x| = m, |y| = k, |z| = p:
#   +, len, map, x: 4;  per element of x: len, map, y (3) + k applications of `a`: m * (3 + k);
#   len, map, z: 3;  p applications of `a`: p.  Total 7 + m * (3 + k) + p.
NESTED_MAPS = "(+ (len (map (lam (len (map (lam a) y))) x)) (len (map (lam a) z)))"
# (+ (sum (zipwith (lam2 (count (lam (< a b)) y)) x x)) (len (map (lam a) z))):
#   +, sum, zipwith, x, x: 5;  per pair (m = |x|): count, y (2) + per element of y (k): <, a, b (3);
#   len, map, z: 3;  p applications of `a`.  Total 8 + m * (2 + 3k) + p.
ZIP_COUNT = "(+ (sum (zipwith (lam2 (count (lam (< a b)) y)) x x)) (len (map (lam a) z)))"
# (if (< 0 1) NESTED_MAPS' (len (map (lam (len (map (lam a) x))) x))): if, <, 0, 1: 4 steps, then the
# chosen branch only (the other one would cost thousands of steps).
# With NESTED_MAPS' on |x| = 97, |y| = 99: 4 + 7 + 97 * 102 + p = 9905 + p.
IF_BRANCH = f"(if (< 0 1) {NESTED_MAPS} (len (map (lam (len (map (lam a) x))) x)))"


@pytest.mark.parametrize(
    "text, m, k, p_at_limit, value_at_limit",
    [
        (NESTED_MAPS, 97, 100, 2, 99),  # 7 + 97 * 103 + 2 = 10000
        (ZIP_COUNT, 98, 33, 94, 3328),  # 8 + 98 * 101 + 94 = 10000; each count is 33
        (IF_BRANCH, 97, 99, 95, 192),  # 9905 + 95 = 10000
    ],
)
def test_fuel_limit_is_exactly_ten_thousand_steps(text, m, k, p_at_limit, value_at_limit):
    assert FUEL == 10_000
    program = parse(text)
    x, y = [1] * m, [0] * k
    assert evaluate(program, {"x": x, "y": y, "z": [0] * p_at_limit}) == value_at_limit
    assert evaluate(program, {"x": x, "y": y, "z": [0] * (p_at_limit + 1)}) == EvalError("fuel")
    assert evaluate(program, {"x": x, "y": y, "z": [0] * (p_at_limit - 1)}) == value_at_limit - 1


def test_fuel_is_per_run():
    compiled = compile_program(parse(NESTED_MAPS), {"x": "list", "y": "list", "z": "list"})
    assert isinstance(compiled, Compiled)
    inputs = {"x": [1] * 97, "y": [0] * 100, "z": [0, 0]}  # exactly 10,000 steps
    for _ in range(3):
        assert compiled.run(inputs) == 99
    assert compiled.run({**inputs, "z": [0, 0, 0]}) == EvalError("fuel")
    assert compiled.run(inputs) == 99


def test_errors_end_the_run_whatever_follows():
    # the error is reported even when a later step would have run out of fuel
    text = "(+ (head nil) (len (map (lam (len (map (lam a) x))) x)))"
    assert run(text, x=[0] * 100) == EvalError("empty_list")
    text = "(+ (len (map (lam (len (map (lam a) x))) x)) (head nil))"
    assert run(text, x=[0] * 100) == EvalError("fuel")


# --- programs that cannot run --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, inputs",
    [
        ("<mask>", {}),
        ("(+ <mask> 1)", {}),
        ("(<mask> 1 2)", {}),
        ("(map (lam (* a 2)) <mask>)", {"x": [1]}),
    ],
)
def test_incomplete_programs_do_not_run(text, inputs):
    assert evaluate(parse(text), inputs) == EvalError("incomplete")
    assert compile_program(parse(text), {k: "list" for k in inputs}) == EvalError("incomplete")


@pytest.mark.parametrize(
    "text, inputs",
    [
        ("(+ nil 1)", {}),
        ("(+ y 1)", {"x": 1}),  # undeclared input
        ("(len x)", {"x": 3}),  # an input of the wrong type
        ("(+ x 1)", {"x": [3]}),
        ("(lam (+ a 1))", {}),
        ("(map (lam (+ a b)) x)", {"x": [1]}),
        ("(if (< 1 2) 1 nil)", {}),
        ("a", {}),
    ],
)
def test_ill_typed_programs_do_not_run(text, inputs):
    assert evaluate(parse(text), inputs) == EvalError("type")


def test_invalid_inputs_are_refused():
    program = parse("(len x)")
    for inputs in ({"x": True}, {"x": [1, True]}, {"x": "abc"}, {"w": 1}, {"x": [0] * 101},
                   {"x": 1_000_001}, {"x": [-1_000_001]}, {"x": [1.5]}):  # fmt: skip
        with pytest.raises(ValueError):
            evaluate(program, inputs)
    assert evaluate(program, {"x": [0] * 100}) == 100


def test_error_kinds():
    assert set(ERROR_KINDS) == {
        "zero_division", "empty_list", "index", "overflow", "length", "fuel", "type", "incomplete",
    }  # fmt: skip
    assert len(ERROR_KINDS) == 8


def test_values_equal():
    assert not values_equal(True, 1)
    assert not values_equal(1, True)
    assert not values_equal(False, 0)
    assert not values_equal([1], 1)
    assert not values_equal([], False)
    assert not values_equal(EvalError("index"), 0)
    assert not values_equal(EvalError("type"), [])
    assert not values_equal(3, 4)
    assert not values_equal([1, 2], [2, 1])
    assert values_equal(3, 3)
    assert values_equal(True, True)
    assert values_equal([1, 2], [1, 2])
    assert values_equal([], [])


def test_traced_run_counts_every_evaluation():
    program = parse("(map (lam (* a 2)) (filter (lam (> a 0)) x))")
    compiled = Compiled(program, trace=True)
    assert compiled.run({"x": [3, -1, 2]}) == [6, 4]
    #            map lam *  a  2  filter lam >  a  0  x
    assert compiled.reached == [1, 0, 2, 2, 2, 1, 0, 3, 3, 3, 1]
    assert compiled.values[2] == [6, 4]
    assert compiled.values[7] == [True, False, True]


def at_stack_depth(frames: int, call):
    """`call()` made from `frames` Python frames deeper than here."""
    return call() if frames == 0 else at_stack_depth(frames - 1, call)


def test_evaluate_does_not_depend_on_the_callers_stack_depth():
    """Issue 13, item 4: a program worth 1 at top level gave EvalError('fuel') 700 frames deep."""
    import sys

    nested = "(len x)"
    for _ in range(40):  # 241 levels, higher-order tokens and lambdas all the way down
        nested = f"(len (filter (lam (> (count (lam (< a 5)) (range a)) -1)) (range {nested})))"
    program, inputs = parse(nested), {"x": [1, 2]}
    near_the_limit = sys.getrecursionlimit() - 60
    for compiled in (Compiled(program), Compiled(program, trace=True)):
        top = compiled.run(inputs)
        assert top == 2
        assert at_stack_depth(near_the_limit, lambda c=compiled: c.run(inputs)) == top
    assert at_stack_depth(near_the_limit, lambda: evaluate(program, inputs)) == 2
    assert evaluate(parse("(+ 1 " * 255 + "0" + ")" * 255), {}) == 255  # as deep as parse allows
    assert sys.getrecursionlimit() == near_the_limit + 60  # restored


def test_evaluate_refuses_what_is_not_a_program_or_inputs():
    """Issue 13, item 7: `evaluate(p, None)` raised AttributeError."""
    program = parse("(len x)")
    with pytest.raises(ValueError, match="mapping"):
        evaluate(program, None)
    with pytest.raises(ValueError, match="mapping"):
        evaluate(program, [("x", [1])])
    with pytest.raises(TypeError, match="Program"):
        evaluate("(len x)", {"x": [1]})


def test_large_programs_are_not_kept_compiled():
    """Issue 13, item 3: one huge program left 148 MB in the compiled-program cache."""
    from progrefine_env.lang import interpreter

    big = "(+ 1 2)"
    while len(parse(big)) <= 300:
        big = f"(+ {big} {big})"
    cache = interpreter._compile_cached
    before = cache.cache_info()
    for _ in range(2):
        assert evaluate(parse(big), {}) == 3 * big.count("(+ 1 2)")
    assert cache.cache_info()[:2] == before[:2]  # neither a hit nor a miss: not cached at all
    for _ in range(2):
        evaluate(parse("(- 9 (* 8 (+ 7 6)))"), {})  # a small one is kept
    assert cache.cache_info().hits >= before.hits + 1
