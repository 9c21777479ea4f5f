"""The repository's root folder, for tests at any depth under tests/ (a test's own `__file__` is
one, two or more folders below the root depending on where it sits; this file's is fixed)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
