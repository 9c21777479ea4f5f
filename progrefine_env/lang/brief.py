"""Short, safe reprs of user values for error messages.

A message that quotes a bad value must stay readable whatever the value is: a 100 MB list, a
string of a million characters, lists nested a thousand deep, an int too long for `repr`.
"""

from __future__ import annotations

import reprlib

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict = 3, 8, 8, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 60, 60, 40
MAX_CHARS = 160
"""Longest text `brief` returns."""


def brief(value: object) -> str:
    """`repr(value)`, shortened (with `...`) to at most `MAX_CHARS` characters."""
    try:
        text = _REPR.repr(value)
    except (ValueError, RecursionError):  # an int past Python's digit limit, a cyclic structure
        text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 3] + "..."
