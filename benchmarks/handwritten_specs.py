"""The hand-written benchmark's programs: what people ask of lists and numbers, written one by one.

Each `Spec` is one task as a person would pose it: a name, a one-line description, the inputs, a
program in the language of LANGUAGE.md, and, where the default inputs would not do, the ranges its
inputs are drawn from. `benchmarks/make_handwritten.py` turns them into tasks with tests.

These are our own ideas, not translations of a published benchmark. No spec's program passes all the
tests of another (`make_handwritten.py` chooses the tests so, and checks), and no generated training
task does either (the generator holds these behaviours back; `tests/project/test_benchmark_tasks.py`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Spec:
    """One hand-written task before its tests are drawn.

    Attributes:
        name: a unique, readable name.
        description: what the program computes, in one line.
        inputs: the declared inputs, e.g. "x:list y:int".
        program: the program's canonical text.
        lengths: (low, high) length of a list input.
        values: (low, high) of the elements of a list input.
        ints: (low, high) of an int input.
    """

    name: str
    description: str
    inputs: str
    program: str
    lengths: tuple[int, int] = (0, 10)
    values: tuple[int, int] = (-10, 10)
    ints: tuple[int, int] = (-3, 10)

    @property
    def input_types(self) -> dict[str, str]:
        return dict(part.split(":") for part in self.inputs.split())


L, LI, LL, LII, LLI = "x:list", "x:list y:int", "x:list y:list", "x:list y:int z:int", "x:list y:list z:int"
N1, N2, N3 = "x:int", "x:int y:int", "x:int y:int z:int"
SMALL = (-3, 3)  # element values for products and powers, which overflow quickly
SHORT = (0, 6)

SPECS: tuple[Spec, ...] = (
    # --- filters and counts
    Spec("sum-of-positives", "the sum of the elements greater than zero", L, "(sum (filter (lam (> a 0)) x))"),
    Spec("count-negatives", "how many elements are below zero", L, "(count (lam (< a 0)) x)"),
    Spec("count-evens", "how many elements are even", L, "(count (lam (= (% a 2) 0)) x)"),
    Spec("count-nonzero", "how many elements are not zero", L, "(count (lam (not (= a 0))) x)"),
    Spec("sum-of-evens", "the sum of the even elements", L, "(sum (filter (lam (= (% a 2) 0)) x))"),
    Spec("negatives-magnitude", "the sum of the negative elements, as a positive number", L,
         "(- 0 (sum (filter (lam (< a 0)) x)))"),
    Spec("keep-above-y", "the elements greater than y, in order", LI, "(filter (lam (> a y)) x)"),
    Spec("drop-equal-y", "the list without any element equal to y", LI, "(filter (lam (not (= a y))) x)"),
    Spec("count-equal-y", "how many times y occurs in the list", LI, "(count (lam (= a y)) x)"),
    Spec("contains-y", "whether y occurs in the list", LI, "(> (count (lam (= a y)) x) 0)"),
    Spec("not-multiples-of-y", "the elements that y does not divide", LI, "(filter (lam (not (= (% a y) 0))) x)",
         ints=(1, 5)),
    Spec("count-outside-0-y", "how many elements are negative or above y", LI,
         "(count (lam (or (< a 0) (> a y))) x)"),
    Spec("count-strictly-between", "how many elements lie strictly between y and z", LII,
         "(count (lam (and (> a y) (< a z))) x)"),
    Spec("count-outside-y-z", "how many elements are below y or above z", LII,
         "(count (lam (or (< a y) (> a z))) x)"),
    Spec("count-small-magnitude", "how many elements are at most y away from zero", LI,
         "(count (lam (< (max a (- 0 a)) (+ y 1))) x)"),
    Spec("count-equal-max", "how many elements equal the largest one", L, "(count (lam (= a (maximum x))) x)"),
    Spec("drop-the-maxima", "the list without its largest value(s)", L, "(filter (lam (< a (maximum x))) x)"),
    Spec("below-last", "the elements smaller than the last element", L, "(filter (lam (< a (last x))) x)"),
    Spec("count-above-mean", "how many elements are above the mean", L,
         "(count (lam (> (* a (len x)) (sum x))) x)"),
    Spec("positive-positions", "the positions (from 0) of the positive elements", L,
         "(filter (lam (> (index a x) 0)) (range (len x)))"),
    Spec("count-odd-positive", "how many elements are both odd and positive", L,
         "(count (lam (and (= (% a 2) 1) (> a 0))) x)"),
    Spec("evens-then-odds", "the even elements then the odd ones, each in order", L,
         "(concat (filter (lam (= (% a 2) 0)) x) (filter (lam (= (% a 2) 1)) x))"),
    Spec("partition-around-y", "the elements below y, then the others, each in order", LI,
         "(concat (filter (lam (< a y)) x) (filter (lam (not (< a y))) x))"),
    Spec("count-x-above-max-y", "how many elements of x exceed every element of y", LL,
         "(count (lam (> a (maximum y))) x)"),
    # --- maps and conditional maps
    Spec("relu", "negative elements replaced by zero", L, "(map (lam (max a 0)) x)"),
    Spec("absolute-values", "the absolute value of each element", L, "(map (lam (if (< a 0) (- 0 a) a)) x)"),
    Spec("clamp-0-5", "each element clamped into 0..5", L, "(map (lam (max 0 (min a 5))) x)"),
    Spec("cap-at-y", "each element, but no more than y", LI, "(map (lam (min a y)) x)"),
    Spec("clamp-y-z", "each element clamped into y..z", LII, "(map (lam (max y (min a z))) x)"),
    Spec("add-y", "y added to each element", LI, "(map (lam (+ a y)) x)"),
    Spec("negate-reversed", "the list reversed, every element negated", L, "(map (lam (- 0 a)) (reverse x))"),
    Spec("double-the-odds", "odd elements doubled, even ones kept", L,
         "(map (lam (if (= (% a 2) 1) (* a 2) a)) x)"),
    Spec("halve-the-evens", "even elements halved, odd ones kept", L,
         "(map (lam (if (= (% a 2) 0) (/ a 2) a)) x)"),
    Spec("negatives-to-y", "negative elements replaced by y", LI, "(map (lam (if (< a 0) y a)) x)"),
    Spec("y-to-zero", "every occurrence of y replaced by 0", LI, "(map (lam (if (= a y) 0 a)) x)"),
    Spec("sign-of-each", "the sign (-1, 0 or 1) of each element", L,
         "(map (lam (if (> a 0) 1 (if (< a 0) -1 0))) x)"),
    Spec("squares-of-evens", "the squares of the even elements", L,
         "(map (lam (* a a)) (filter (lam (= (% a 2) 0)) x))"),
    Spec("shift-by-min", "each element minus the smallest element", L, "(map (lam (- a (minimum x))) x)"),
    Spec("relative-to-first", "each element minus the first element", L, "(map (lam (- a (head x))) x)"),
    Spec("parity-flags", "1 for each odd element, 0 for each even one", L, "(map (lam (% a 2)) x)"),
    Spec("distance-to-y", "how far each element is from y", LI, "(map (lam (max (- a y) (- y a))) x)"),
    # --- folds and reductions
    Spec("product", "the product of the elements", L, "(fold (lam2 (* a b)) 1 x)", values=SMALL),
    Spec("sum-of-squares", "the sum of the squares of the elements", L, "(fold (lam2 (+ a (* b b))) 0 x)"),
    Spec("sum-of-abs", "the sum of the absolute values", L, "(fold (lam2 (+ a (max b (- 0 b)))) 0 x)"),
    Spec("max-abs", "the largest absolute value", L, "(maximum (map (lam (max a (- 0 a))) x))"),
    Spec("spread", "the largest element minus the smallest", L, "(- (maximum x) (minimum x))"),
    Spec("last-minus-first", "the last element minus the first", L, "(- (last x) (head x))"),
    Spec("mean-floor", "the mean of the elements, rounded down", L, "(/ (sum x) (len x))"),
    Spec("trimmed-sum", "the sum without one largest and one smallest element", L,
         "(- (- (sum x) (maximum x)) (minimum x))"),
    Spec("max-with-floor-zero", "the largest element, or 0 if all are negative or there are none", L,
         "(fold (lam2 (max a b)) 0 x)"),
    Spec("min-with-y", "the smallest of y and the elements", LI, "(fold (lam2 (min a b)) y x)"),
    Spec("last-positive-or-zero", "the last positive element, or 0 if there is none", L,
         "(fold (lam2 (if (> b 0) b a)) 0 x)"),
    Spec("first-positive-or-zero", "the first positive element, or 0 if there is none", L,
         "(fold (lam2 (if (= a 0) (max b 0) a)) 0 x)"),
    Spec("alternating-sum", "last element minus the one before plus the one before that, ...", L,
         "(fold (lam2 (- b a)) 0 x)"),
    Spec("horner-at-y", "the digits in x read as a polynomial evaluated at y", LI,
         "(fold (lam2 (+ (* a y) b)) 0 x)", lengths=SHORT, values=(0, 9), ints=(-3, 3)),
    Spec("binary-to-int", "the list of bits read as a binary number", L, "(fold (lam2 (+ (* a 2) b)) 0 x)",
         values=(0, 1)),
    Spec("digits-to-int", "the list of digits read as a decimal number", L, "(fold (lam2 (+ (* a 10) b)) 0 x)",
         lengths=SHORT, values=(0, 9)),
    Spec("dot-product", "the sum of the products of x and y position by position", LL,
         "(sum (zipwith (lam2 (* a b)) x y))"),
    Spec("manhattan-distance", "the sum of |x[i] - y[i]| over the common positions", LL,
         "(sum (map (lam (max a (- 0 a))) (zipwith (lam2 (- a b)) x y)))"),
    Spec("sum-difference", "the sum of x minus the sum of y", LL, "(- (sum x) (sum y))"),
    Spec("max-of-both", "the largest element of either list", LL, "(max (maximum x) (maximum y))"),
    # --- running values (scans)
    Spec("running-max", "the largest element so far, at each position", L, "(scanl1 (lam2 (max a b)) x)"),
    Spec("running-min", "the smallest element so far, at each position", L, "(scanl1 (lam2 (min a b)) x)"),
    Spec("prefix-sums", "the sum of the elements so far, at each position", L, "(scanl1 (lam2 (+ a b)) x)"),
    Spec("running-product", "the product of the elements so far", L, "(scanl1 (lam2 (* a b)) x)", values=SMALL),
    Spec("running-sum-floored", "prefix sums that restart from zero whenever they would go negative", L,
         "(scanl1 (lam2 (max 0 (+ a b))) x)"),
    Spec("best-subarray-sum", "the largest sum of a non-empty run of consecutive elements", L,
         "(maximum (scanl1 (lam2 (max b (+ a b))) x))"),
    Spec("running-count-positive", "how many positive elements so far, at each position", L,
         "(scanl1 (lam2 (+ a b)) (map (lam (if (> a 0) 1 0)) x))"),
    Spec("drawdowns", "how far each element is below the largest element so far", L,
         "(zipwith (lam2 (- a b)) (scanl1 (lam2 (max a b)) x) x)"),
    Spec("max-drawdown", "the largest drop from an earlier maximum", L,
         "(maximum (zipwith (lam2 (- a b)) (scanl1 (lam2 (max a b)) x) x))"),
    Spec("count-records", "how many elements are greater than every element before them", L,
         "(count (lam (> a 0)) (zipwith (lam2 (- b a)) (scanl1 (lam2 (max a b)) x) (drop 1 x)))"),
    Spec("take-while-positive", "the leading elements up to the first one that is not positive", L,
         "(take (count (lam (> a 0)) (scanl1 (lam2 (min a b)) x)) x)"),
    Spec("drop-while-negative", "the list from its first element that is not negative", L,
         "(drop (count (lam (< a 0)) (scanl1 (lam2 (max a b)) x)) x)"),
    Spec("running-sum-from-end", "at each position, the sum of the elements from there to the end", L,
         "(reverse (scanl1 (lam2 (+ a b)) (reverse x)))"),
    # --- pairwise (adjacent) operations
    Spec("adjacent-differences", "each element minus the one before it", L,
         "(zipwith (lam2 (- b a)) x (drop 1 x))"),
    Spec("adjacent-sums", "the sum of each element and the next", L, "(zipwith (lam2 (+ a b)) x (drop 1 x))"),
    Spec("count-rises", "how many times an element is greater than the one before", L,
         "(count (lam (> a 0)) (zipwith (lam2 (- b a)) x (drop 1 x)))"),
    Spec("count-adjacent-equal", "how many elements equal the one before", L,
         "(count (lam (= a 0)) (zipwith (lam2 (- a b)) x (drop 1 x)))", values=(0, 3)),
    Spec("count-sign-changes", "how many adjacent pairs have a negative product", L,
         "(count (lam (< a 0)) (zipwith (lam2 (* a b)) x (drop 1 x)))"),
    Spec("is-nondecreasing", "whether no element is smaller than the one before", L,
         "(= 0 (count (lam (< a 0)) (zipwith (lam2 (- b a)) x (drop 1 x))))", values=(0, 4)),
    Spec("max-adjacent-sum", "the largest sum of two neighbouring elements", L,
         "(maximum (zipwith (lam2 (+ a b)) x (drop 1 x)))"),
    Spec("largest-gap-sorted", "the largest difference between neighbours once sorted", L,
         "(maximum (zipwith (lam2 (- b a)) (sort x) (drop 1 (sort x))))"),
    Spec("window-sums-3", "the sums of every three consecutive elements", L,
         "(zipwith (lam2 (+ a b)) (zipwith (lam2 (+ a b)) x (drop 1 x)) (drop 2 x))"),
    Spec("is-palindrome", "whether the list reads the same backwards", L,
         "(= (count (lam (= a 0)) (zipwith (lam2 (- a b)) x (reverse x))) (len x))", values=(0, 2), lengths=(0, 5)),
    # --- two lists, position by position
    Spec("elementwise-max", "the larger of x and y at each common position", LL, "(zipwith (lam2 (max a b)) x y)"),
    Spec("elementwise-difference", "x minus y at each common position", LL, "(zipwith (lam2 (- a b)) x y)"),
    Spec("count-equal-positions", "how many positions hold the same value in both lists", LL,
         "(count (lam (= a 0)) (zipwith (lam2 (- a b)) x y))", values=(0, 3)),
    Spec("count-x-wins", "at how many positions x is greater than y", LL,
         "(count (lam (> a 0)) (zipwith (lam2 (- a b)) x y))"),
    Spec("mask-by-y", "x where y is positive, 0 elsewhere", LL, "(zipwith (lam2 (if (> b 0) a 0)) x y)"),
    Spec("add-reversed", "x plus y reversed, position by position", LL, "(zipwith (lam2 (+ a b)) x (reverse y))"),
    Spec("weighted-by-position", "each element times its position", L,
         "(zipwith (lam2 (* a b)) x (range (len x)))"),
    Spec("zero-odd-positions", "the elements at odd positions replaced by zero", L,
         "(zipwith (lam2 (if (= (% b 2) 0) a 0)) x (range 10))"),
    Spec("sum-at-even-positions", "the sum of the elements at positions 0, 2, 4, ...", L,
         "(sum (zipwith (lam2 (if (= (% b 2) 0) a 0)) x (range 10)))"),
    # --- index arithmetic, slicing
    Spec("second-smallest", "the element at position 1 once sorted", L, "(index 1 (sort x))"),
    Spec("second-largest", "the second element of the list sorted from largest", L, "(index 1 (reverse (sort x)))"),
    Spec("median-upper", "the middle element of the sorted list (the upper one for even lengths)", L,
         "(index (/ (len x) 2) (sort x))"),
    Spec("middle-element", "the element in the middle of the list", L, "(index (/ (len x) 2) x)"),
    Spec("nth-from-end", "the element y places before the last", LI, "(index (- (len x) (+ y 1)) x)"),
    Spec("at-y-or-zero", "the element at position y, or 0 when there is none", LI,
         "(if (and (> y -1) (< y (len x))) (index y x) 0)"),
    Spec("at-y-wrapping", "the element at position y, counting round the list", LI, "(index (% y (len x)) x)"),
    Spec("last-y", "the last y elements", LI, "(drop (- (len x) y) x)"),
    Spec("rotate-left-y", "the list rotated left by y places", LI, "(concat (drop y x) (take y x))"),
    Spec("rotate-right-1", "the list rotated right by one place", L, "(cons (last x) (take (- (len x) 1) x))"),
    Spec("drop-last", "the list without its last element", L, "(take (- (len x) 1) x)"),
    Spec("first-half", "the first half of the list (the shorter half for odd lengths)", L,
         "(take (/ (len x) 2) x)"),
    Spec("swap-halves", "the second half of the list, then the first", L,
         "(concat (drop (/ (len x) 2) x) (take (/ (len x) 2) x))"),
    Spec("trim-ends-sorted", "the sorted list without its smallest and largest element", L,
         "(drop 1 (take (- (len x) 1) (sort x)))"),
    Spec("top-three", "the three largest elements, largest first", L, "(take 3 (reverse (sort x)))"),
    Spec("sum-smallest-three", "the sum of the three smallest elements", L, "(sum (take 3 (sort x)))"),
    Spec("max-of-first-y", "the largest of the first y elements", LI, "(maximum (take y x))"),
    Spec("sum-of-last-y", "the sum of the last y elements", LI, "(sum (drop (- (len x) y) x))"),
    # --- building lists
    Spec("append-y", "the list with y added at the end", LI, "(concat x (cons y nil))"),
    Spec("sum-as-singleton", "a one-element list holding the sum", L, "(cons (sum x) nil)"),
    Spec("insert-sorted", "y inserted into the list, all sorted", LI, "(sort (cons y x))"),
    Spec("mirror", "the list followed by itself reversed", L, "(concat x (reverse x))"),
    Spec("merge-sorted", "both lists together, sorted", LL, "(sort (concat x y))"),
    Spec("x-then-reversed-y", "x followed by y reversed", LL, "(concat x (reverse y))"),
    Spec("squares-below-x", "the squares of 0, 1, ..., x-1", N1, "(map (lam (* a a)) (range x))", ints=(-3, 15)),
    Spec("countdown", "x-1 down to 0", N1, "(reverse (range x))", ints=(-3, 15)),
    Spec("from-y-below-x", "the integers from y up to x-1", N2, "(drop y (range x))"),
    Spec("triangular-numbers", "the running sums of 0, 1, ..., x-1", N1, "(scanl1 (lam2 (+ a b)) (range x))",
         ints=(-3, 15)),
    Spec("powers-of-two", "1, 2, 4, ... (x+1 of them)", N1, "(scanl1 (lam2 (* a 2)) (cons 1 (range x)))",
         ints=(-3, 15)),
    Spec("arithmetic-sequence", "x numbers starting at y, each z more than the one before", N3,
         "(map (lam (+ y (* a z))) (range x))"),
    Spec("multiples-of-y-below-x", "the non-negative multiples of y below x", N2,
         "(filter (lam (= (% a y) 0)) (range x))", ints=(1, 10)),
    Spec("singleton-if-empty", "the list, or [y] if it is empty", LI, "(if (= (len x) 0) (cons y nil) x)"),
    # --- numbers
    Spec("sum-to-x", "0 + 1 + ... + x", N1, "(sum (range (+ x 1)))", ints=(-3, 30)),
    Spec("sign", "the sign of x: -1, 0 or 1", N1, "(if (> x 0) 1 (if (< x 0) -1 0))", ints=(-10, 10)),
    Spec("absolute-difference", "how far apart x and y are", N2, "(max (- x y) (- y x))"),
    Spec("max-of-three", "the largest of x, y and z", N3, "(max x (max y z))"),
    Spec("median-of-three", "the middle one of x, y and z", N3, "(max (min x y) (min (max x y) z))"),
    Spec("is-even", "whether x is even", N1, "(= (% x 2) 0)", ints=(-10, 20)),
    Spec("clamp-0-10", "x clamped into 0..10", N1, "(max 0 (min x 10))", ints=(-10, 20)),
    Spec("strictly-between", "whether x lies strictly between y and z", N3, "(and (< y x) (< x z))"),
    Spec("count-divisors", "how many of 1..x divide x", N1, "(count (lam (= (% x (+ a 1)) 0)) (range x))",
         ints=(1, 30)),
    Spec("is-prime", "whether x has exactly two divisors", N1, "(= (count (lam (= (% x (+ a 1)) 0)) (range x)) 2)",
         ints=(1, 30)),
    Spec("length-parity", "1 if the list has odd length, else 0", L, "(% (len x) 2)"),
    # --- conditionals on length and on whole lists
    Spec("head-or-zero", "the first element, or 0 for an empty list", L, "(if (= (len x) 0) 0 (head x))"),
    Spec("last-or-y", "the last element, or y for an empty list", LI, "(if (> (len x) 0) (last x) y)"),
    Spec("longer-list", "whichever list is longer (y on a tie)", LL, "(if (> (len x) (len y)) x y)"),
    Spec("sum-of-shorter", "the sum of the shorter list (y on a tie)", LL, "(sum (if (< (len x) (len y)) x y))"),
    Spec("larger-sum-list", "the list with the larger sum (x on a tie)", LL, "(if (< (sum x) (sum y)) y x)"),
    Spec("take-5-or-reverse", "the first five elements of a long list, a short list reversed", L,
         "(if (> (len x) 5) (take 5 x) (reverse x))"),
    Spec("is-empty", "whether the list is empty", L, "(= (len x) 0)"),
    Spec("both-nonempty", "whether neither list is empty", LL, "(and (> (len x) 0) (> (len y) 0))"),
    Spec("has-negative", "whether some element is negative", L, "(> (count (lam (< a 0)) x) 0)"),
    Spec("all-positive", "whether every element is positive", L, "(= (count (lam (> a 0)) x) (len x))"),
    Spec("sum-exceeds-y", "whether the sum is greater than y", LI, "(> (sum x) y)"),
    Spec("sort-if-long", "the list sorted if it has more than y elements, else as it is", LI,
         "(if (> (len x) y) (sort x) x)"),
    Spec("first-y-of-longer", "the first z elements of the longer list", LLI,
         "(take z (if (> (len x) (len y)) x y))"),
)
