"""One way for the command lines and examples to refuse a bad file, checkpoint or option: a
single `error: ...` line on stderr naming the file and the reason, and exit status 2 (argparse's
status for a usage error), never a traceback.

    with user_errors():                       # around what reads the user's files and options
        model, _ = load_checkpoint(args.checkpoint)
        tasks = load_task_option(args)

    @reports_user_errors                      # or around a whole `main(argv) -> int`
    def main(argv=None) -> int: ...

Only errors that describe the user's input are caught: `ValueError` (which `TaskFileError`,
`CheckpointError`, `RunFolderError` and the environment's option errors are), `TypeError` from
an option of the wrong kind, and the file errors (`FileNotFoundError`, `IsADirectoryError`,
`PermissionError`, `NotADirectoryError`). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

USAGE_EXIT = 2
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, TypeError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError,
)  # fmt: skip

F = TypeVar("F", bound=Callable[..., object])


def describe(err: BaseException) -> str:
    """The one-line reason: the file and the OS's words for file errors, else the message."""
    if isinstance(err, OSError) and err.filename is not None:
        reason = (err.strerror or type(err).__name__).lower()
        return f"{err.filename}: {reason}"
    text = " ".join(str(err).split()) or type(err).__name__
    return text


@contextmanager
def library_imports(install: str, libraries: tuple[str, ...]) -> Iterator[None]:
    """Around an example's imports of optional libraries: if one of `libraries` (top-level module
    names) is missing, one line `error: <module> is not installed: <install>` on stderr and exit 2,
    instead of a traceback. Any other missing module keeps its traceback (it is a bug)."""
    try:
        yield
    except ModuleNotFoundError as err:
        library = (err.name or "").split(".")[0]
        if library not in libraries:
            raise
        print(f"error: {library} is not installed: {install}", file=sys.stderr)
        raise SystemExit(USAGE_EXIT) from None


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a bad input into `error: <reason>` on stderr and `SystemExit(2)`."""
    try:
        yield
    except USER_ERRORS as err:
        print(f"error: {describe(err)}", file=sys.stderr)
        raise SystemExit(USAGE_EXIT) from None


def reports_user_errors(main: F) -> F:
    """Decorate a `main` so that a bad input anywhere in it ends as one `error:` line, exit 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        with user_errors():
            return main(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
