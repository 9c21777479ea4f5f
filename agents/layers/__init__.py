"""Message-passing layers, one per file."""

from .typed_gine import TypedGINELayer

__all__ = ["TypedGINELayer"]
