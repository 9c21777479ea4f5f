"""The built-in generated corpus: train / val / test splits, disjoint by behaviour, cached on disk.

`load_corpus(split, size, seed, config)` generates `size` tasks in all (`generate_tasks`), splits
them by a stable hash of each task's behaviour (`fingerprint`), and returns one split. The whole
corpus is cached as JSON Lines (`save_tasks`'s format, so `load_tasks` reads it too) under the
cache directory, `$PROGREFINE_CACHE` or else `~/.cache/progrefine`, in a file named by a hash of
everything that determines it: the generator's version, the config, the seed and the size. A
second file beside it, `<name>.meta.json`, records the settings and each task's split, and is
written last: a corpus file without it is ignored (and regenerated).

A corpus of the default settings ships with the package (`progrefine_env/data/`, see
`shipped.py`): it is read from there, without generating anything, when its key matches. What
both kinds of file share (the key, the split letters, the task lines) is in `corpus_files.py`.

Our own cache files are trusted: loading them skips `load_tasks`'s validation (re-running every
test of every task), which would take seconds for a big corpus; `verify=True` asks for it.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import sys
import uuid
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from .corpus_files import _LETTER, DEFAULT_CORPUS_SIZE, corpus_key, decode_lines
from .generation import GENERATOR_VERSION, GeneratorConfig, fingerprint, generate_tasks_with_fingerprints
from .io import load_tasks, save_tasks
from .shipped import read_shipped
from .task import Task

__all__ = [
    "DEFAULT_CORPUS_SIZE", "SPLITS", "corpus_key", "corpus_path", "default_cache_dir", "load_corpus", "split_of",
    "split_of_fingerprint",
]  # fmt: skip

SPLITS = ("train", "val", "test")
_SPLIT_BOUNDS = ((80, "train"), (90, "val"), (100, "test"))
"""A behaviour whose bucket (0..99) is below 80 is train, below 90 val, else test."""


def split_of_fingerprint(fp: str) -> str:
    """The split of a behaviour: a stable hash (sha256) of its fingerprint, mod 100."""
    bucket = int.from_bytes(hashlib.sha256(fp.encode()).digest()[:8], "big") % 100
    return next(name for bound, name in _SPLIT_BOUNDS if bucket < bound)


def split_of(task: Task) -> str:
    """The split ("train", "val" or "test") a task belongs to, from its behaviour alone, so that
    two programs with one behaviour always land in the same split."""
    return split_of_fingerprint(fingerprint(task))


def default_cache_dir() -> Path:
    """`$PROGREFINE_CACHE` if set, else `~/.cache/progrefine`."""
    env = os.environ.get("PROGREFINE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "progrefine"


def corpus_path(
    size: int = DEFAULT_CORPUS_SIZE,
    seed: int = 0,
    config: GeneratorConfig = GeneratorConfig(),  # noqa: B008 - frozen, so a shared default is safe
    cache_dir: str | None = None,
) -> Path:
    """Where the corpus with these settings is (or would be) cached."""
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return root / f"corpus-{corpus_key(size, seed, config)}.jsonl"


_MEMORY: dict[tuple[Path, str], list[Task]] = {}
"""Splits already loaded by this process: (corpus path, split) -> tasks."""


def load_corpus(
    split: str = "train",
    size: int = DEFAULT_CORPUS_SIZE,
    seed: int = 0,
    config: GeneratorConfig = GeneratorConfig(),  # noqa: B008 - frozen, so a shared default is safe
    cache_dir: str | None = None,
    *,
    workers: int | None = None,
    verify: bool = False,
    progress: bool = False,
) -> list[Task]:
    """The tasks of one split of the generated corpus of `size` tasks (about 80% / 10% / 10%).

    The corpus is generated on first use (`generate_tasks(size, seed, config)`) and cached on
    disk (see the module's docstring); later calls, in this process or another, read the cache.
    `workers` processes generate it (default: up to 8, as many as there are cores, for corpora
    of 2,000 tasks or more; the result does not depend on it). `verify` re-checks every task
    of the cached file with `load_tasks`. Raises ValueError for an unknown split.

    Process-wide side effect: after reading a split (not when it is already in memory), every
    object alive is moved out of the cyclic garbage collector's reach (`gc.collect()`, then
    `gc.freeze()`): the default corpus is ~650,000 objects that full collections would otherwise
    walk again and again (benchmarks/README.md, "Three more cuts"). Those
    objects are still freed by reference counting; `gc.unfreeze()` undoes it.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    if size < 0:
        raise ValueError("size must be >= 0")
    path = corpus_path(size, seed, config, cache_dir)
    found = _MEMORY.get((path, split)) if not verify else None
    if found is None:
        found = read_shipped(split, size, seed, config, verify)
        if found is None:
            found = _read(path, size, verify, split)
        if found is None:
            found = _make(path, size, seed, config, split, verify, workers, progress)
        _MEMORY[(path, split)] = found
        _exempt_from_collection()
    return list(found)


def _exempt_from_collection() -> None:
    """Put every object alive now, the corpus just loaded among them, out of the cyclic garbage
    collector's reach (`gc.freeze`), after one last collection.

    Why: the default corpus is about 650,000 small tracked objects (tests' dicts and lists) that
    live as long as the process; each full collection walks all of them again, finding nothing.
    That was about a tenth of an edit-mode step (issue 12, benchmarks/README.md). The objects
    are still freed by reference counting when the corpus is dropped (tasks hold no cycles)."""
    gc.collect()
    gc.freeze()


def _make(path: Path, size: int, seed: int, config: GeneratorConfig, split: str, verify: bool,
          workers: int | None, progress: bool) -> list[Task]:  # fmt: skip
    """Generate the corpus (unless another process has just cached it) and cache it."""
    if workers is None:
        workers = min(8, os.cpu_count() or 1) if size >= 2000 else 1
    if progress:
        print(f"generating a corpus of {size} tasks (seed {seed}; none ships with the package for these settings); "
              f"cached in {path.parent} for next time", file=sys.stderr, flush=True)  # fmt: skip
    made = None
    try:
        with _locked(path):
            found = _read(path, size, verify, split)  # another process may have made it meanwhile
            if found is not None:
                return found
            made = _generate(size, seed, config, workers, progress)
            _write(path, *made, {"size": size, "seed": seed, "config": config.to_json()})
    except OSError as err:  # an unwritable cache: go on without it
        warnings.warn(f"cannot cache the corpus at {path}: {err}", stacklevel=3)
        if made is None:
            made = _generate(size, seed, config, workers, progress)
    tasks, letters = made  # keep every split: the others are asked for next, as a rule
    for name in SPLITS:
        _MEMORY[(path, name)] = [t for t, mine in zip(tasks, letters) if mine == _LETTER[name]]
    return _MEMORY[(path, split)]


def _generate(size: int, seed: int, config: GeneratorConfig, workers: int, progress: bool) -> tuple[list[Task], str]:
    tasks, fps = generate_tasks_with_fingerprints(size, seed, config, workers, progress)
    return tasks, "".join(_LETTER[split_of_fingerprint(fp)] for fp in fps)


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name[: -len(".jsonl")] + ".meta.json")


def _read(path: Path, size: int, verify: bool, split: str) -> list[Task] | None:
    """The tasks of `split` in the cached corpus at `path`, or None if there is none or it is
    unusable."""
    meta_path = _meta_path(path)
    if not meta_path.exists() or not path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        letters = meta["splits"]
        if meta.get("generator") != GENERATOR_VERSION or len(letters) != size:
            raise ValueError("settings do not match")
        if path.stat().st_size != meta["bytes"]:
            raise ValueError("the corpus file has changed since it was written")
        letter = _LETTER[split]
        if verify:
            tasks = load_tasks(path)
            if len(tasks) != size:
                raise ValueError(f"{len(tasks)} tasks, expected {size}")
            return [task for task, mine in zip(tasks, letters) if mine == letter]
        return _load_trusted(path, [mine == letter for mine in letters])
    except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
        warnings.warn(f"ignoring the unusable corpus cache {path}: {err}", stacklevel=3)
        return None


def _load_trusted(path: Path, wanted: Sequence[bool] | None = None) -> list[Task]:
    """Tasks from one of our own cache files, without re-running their tests: all of them, or
    the k-th task of the file only where `wanted[k]` (the others are not even decoded)."""
    with open(path, encoding="utf-8") as handle:
        return decode_lines(handle, wanted)


def _write(path: Path, tasks: Sequence[Task], letters: str, settings: dict) -> None:
    """Write the corpus, then its meta file (the commit mark), each atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique temporary name per writer, renamed into place: concurrent writers never mix.
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.part")
    try:
        save_tasks(tasks, tmp)
        os.replace(tmp, path)
        meta = {"generator": GENERATOR_VERSION, **settings, "bytes": path.stat().st_size, "splits": letters}
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(meta, handle)
        os.replace(tmp, _meta_path(path))
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def _locked(path: Path):
    """Hold an exclusive lock beside `path` (POSIX; elsewhere no lock), so that processes that
    want the same corpus at once generate it once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(str(path) + ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:  # a file system without locks: go on unlocked
            pass
        try:
            yield
        finally:
            try:
                fcntl.flock(handle, fcntl.LOCK_UN)
            except OSError:
                pass


def _main(argv: list[str] | None = None) -> None:  # pragma: no cover - a convenience
    import argparse

    parser = argparse.ArgumentParser(description="Generate (or load) the built-in corpus and print its split sizes.")
    parser.add_argument("--size", type=int, default=DEFAULT_CORPUS_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    counts = {s: len(load_corpus(s, args.size, args.seed, workers=args.workers, progress=True)) for s in SPLITS}
    print(corpus_path(args.size, args.seed), counts, file=sys.stdout)


if __name__ == "__main__":  # pragma: no cover
    _main()
