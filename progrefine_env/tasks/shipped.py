"""The corpus shipped in the package, so that the first `gym.make("ProgramRefine-v0")` reads
tasks instead of generating them for minutes.

One gzip-compressed JSON Lines file, `progrefine_env/data/corpus-<key>.jsonl.gz`, where `<key>`
is `corpus_key(size, seed, config)`: a hash of the generator's version, the config, the seed and
the size. Its first line is a header, `# progrefine-corpus {...}` (the settings and each task's
split, one letter a task: `r` train, `v` val, `t` test); then one task a line, in `save_tasks`'s
format (so `gunzip` gives a file `load_tasks` reads). `load_corpus` reads it only when the key of
the settings asked for matches the file's name and its header agrees; a stale file (the generator
changed since it was built) is simply not found, and the corpus is generated (with progress
lines on stderr) and cached as before.

Regenerate it after any change to the generator's output (bump `GENERATOR_VERSION`), to
`GeneratorConfig`'s defaults, or to `DEFAULT_CORPUS_SIZE`, and commit the new file:

    python -m progrefine_env.tasks.build_shipped_corpus        # a few minutes; replaces the old file
"""

from __future__ import annotations

import gzip
import io
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from .corpus_files import _LETTER, DEFAULT_CORPUS_SIZE, corpus_key, decode_lines
from .generation import GENERATOR_VERSION, GeneratorConfig
from .task import Task

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data"
HEADER = "# progrefine-corpus "


def shipped_corpus_path(
    size: int = DEFAULT_CORPUS_SIZE,
    seed: int = 0,
    config: GeneratorConfig = GeneratorConfig(),  # noqa: B008 - frozen, so a shared default is safe
    folder: Path = SHIPPED_DIR,
) -> Path:
    """Where the shipped corpus with these settings is (or would be)."""
    return folder / f"corpus-{corpus_key(size, seed, config)}.jsonl.gz"


def _settings(size: int, seed: int, config: GeneratorConfig) -> dict:
    return {"generator": GENERATOR_VERSION, "size": size, "seed": seed, "config": config.to_json()}


def read_shipped(
    split: str, size: int, seed: int, config: GeneratorConfig, verify: bool = False, folder: Path = SHIPPED_DIR
) -> list[Task] | None:
    """The tasks of `split` from the shipped corpus with these settings, or None if none ships
    (or the file is unusable: then with a warning)."""
    path = shipped_corpus_path(size, seed, config, folder)
    if not path.is_file():
        return None
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            first = handle.readline()
            if not first.startswith(HEADER):
                raise ValueError("no header line")
            header = json.loads(first[len(HEADER) :])
            letters = header.pop("splits")
            if header != _settings(size, seed, config) or len(letters) != size:
                raise ValueError("its header does not match its name's settings")
            return decode_lines(handle, [mine == _LETTER[split] for mine in letters], verify)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as err:
        warnings.warn(f"ignoring the unusable shipped corpus {path}: {err}", stacklevel=3)
        return None


def write_shipped(
    tasks: Sequence[Task], letters: str, seed: int, config: GeneratorConfig, folder: Path = SHIPPED_DIR
) -> Path:
    """Write the shipped corpus file (byte-for-byte reproducible: no time stamp in the gzip
    header) and remove the other, stale, `corpus-*.jsonl.gz` files of `folder`."""
    path = shipped_corpus_path(len(tasks), seed, config, folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    text.write(HEADER + json.dumps({**_settings(len(tasks), seed, config), "splits": letters}) + "\n")
    for task in tasks:
        text.write(json.dumps(task.to_json(), separators=(", ", ": ")) + "\n")
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    os.replace(tmp, path)
    for old in folder.glob("corpus-*.jsonl.gz"):
        if old != path:
            old.unlink()
    return path
