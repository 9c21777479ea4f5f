"""progrefine_env.graph: the padded edge arrays of the observation, on hand-built programs."""

import numpy as np
import pytest

from progrefine_env.graph import BINDER, CHILD, PARENT, SIBLING, encode_edges
from progrefine_env.lang import parse


def test_edges_of_a_small_program():
    program = parse("(map (lam (+ a 1)) x)")  # nodes: map 0, lam 1, + 2, a 3, 1 4, x 5
    index, kinds, mask = encode_edges(program, 16)
    count = int(mask.sum())
    edges = {(int(s), int(d), int(k)) for s, d, k in zip(index[0, :count], index[1, :count], kinds[:count])}
    assert (0, 1, CHILD) in edges and (1, 0, PARENT) in edges and (1, 5, SIBLING) in edges
    assert (3, 1, BINDER) in edges  # `a` -> the `lam` that binds it
    assert count == 2 * 5 + 2 + 1  # tree edges both ways, two sibling pairs, one binder
    assert not mask[count:].any() and not index[:, count:].any()


def test_edges_are_fresh_writable_arrays_each_call():
    """The arrays are cached per shape and binders: callers must get copies they may change."""
    program = parse("(map (lam (+ a 1)) x)")
    first = encode_edges(program, 16)
    for array in first:
        assert array.flags.writeable
        array[...] = 7
    second = encode_edges(program, 16)
    assert int(second[2].sum()) == 13 and not np.array_equal(first[0], second[0])


def test_binder_edges_follow_the_tokens_of_one_shape():
    with_binder = encode_edges(parse("(map (lam (+ a 1)) x)"), 16)
    without = encode_edges(parse("(map (lam (+ 1 1)) x)"), 16)  # same shape, no `a`
    assert int(with_binder[2].sum()) == int(without[2].sum()) + 1


def test_too_many_edges_is_an_error():
    with pytest.raises(ValueError, match="more than max_edges"):
        encode_edges(parse("(map (lam (+ a 1)) x)"), 4)
