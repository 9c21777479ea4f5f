"""Searching a sketch: the classical bottom-up synthesizer over a program's fixed tree with holes.

`SketchSearch` is an agent with no learning (and no torch): the yardstick every learned decoding is
measured against at equal CPU time, and, ordered by a policy's log-probabilities
(`guided_choices`), the search the agent's own decoding runs (`agents.acting.sketch`). It lives beside the
language it searches because it needs nothing else: the visible tests come from the environment's
public `visible_tests()`. `FastSketchSearch` is the same search with int and bool classes composed
by numpy (`fast`); `SketchSearch` stays the reference it is tested against.
"""

from .cells import context_cells, probe_values
from .fast import FastSketchSearch
from .sketch import (
    MAX_CLASSES,
    SearchResult,
    Sketch,
    SketchSearch,
    guided_choices,
    mask_choices,
    noise_choices,
)

__all__ = [
    "MAX_CLASSES", "FastSketchSearch", "SearchResult", "Sketch", "SketchSearch", "context_cells", "guided_choices",
    "mask_choices", "noise_choices", "probe_values",
]  # fmt: skip
