"""The random task generator's public names, at the path they have always had.

The generator itself is the package `generation/` (one concept a file; its `__init__` tells which
file owns what). This module re-exports every public name of it (its `__all__`), for the code and
documentation that import `progrefine_env.tasks.generator`, the defaults and constants this
module has always had beside them, and the two private names the tests call.
"""

from .generation import *  # noqa: F403 - exactly generation's __all__, kept in one place
from .generation import __all__ as __all__

# Beside __all__, as before (`x as x` marks a re-export).
from .generation.config import DEFAULT_CONSTANT_WEIGHTS as DEFAULT_CONSTANT_WEIGHTS
from .generation.config import DEFAULT_SIGNATURE_WEIGHTS as DEFAULT_SIGNATURE_WEIGHTS
from .generation.config import DEFAULT_TOKEN_WEIGHTS as DEFAULT_TOKEN_WEIGHTS
from .generation.fingerprint import PROBE_COUNT as PROBE_COUNT

# The tests call these two.
from .generation.redundant import _node_kinds as _node_kinds
from .generation.screen import _screen as _screen
