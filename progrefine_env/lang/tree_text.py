"""The text of a tree: node names in pre-order, with parentheses around each inner node and its
children, single spaces between them (LANGUAGE.md's canonical form).

It needs only the shape's arities and the names, not a `Program`, so that both `Program.__str__`
(program.py) and `unparse` (syntax.py, which parses into programs) print with it and neither
module imports the other back.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache


def tree_text(arities: tuple[int, ...], names: Sequence[str]) -> str:
    """The canonical text of the tree with these pre-order `arities`, node `i` written `names[i]`."""
    return _layout(arities).format(*names)


@lru_cache(maxsize=2048)
def _layout(arities: tuple[int, ...]) -> str:
    """The text of a tree shape with `{}` in place of each node's name (shapes repeat: cached)."""
    parts: list[str] = []
    open_counts: list[int] = []  # arguments still expected by each open expression
    for arity in arities:
        if arity:
            parts.append("({}")
            open_counts.append(arity)
            continue
        parts.append("{}")
        while open_counts:
            open_counts[-1] -= 1
            if open_counts[-1]:
                break
            open_counts.pop()
            parts[-1] += ")"
    return " ".join(parts)
