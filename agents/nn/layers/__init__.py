"""Message-passing layers, one per file."""

from .global_context import GlobalContext
from .typed_gine import TypedGINELayer

__all__ = ["GlobalContext", "TypedGINELayer"]
