"""Build the corpus that ships in the package (`progrefine_env/data/corpus-<key>.jsonl.gz`).

Run it after any change to what the generator produces (and bump `GENERATOR_VERSION` first: the
file's name is keyed by it), to `GeneratorConfig`'s defaults or to `DEFAULT_CORPUS_SIZE`, then
commit the new file (the old one is removed):

    python -m progrefine_env.tasks.build_shipped_corpus            # default size and seed 0
    python -m progrefine_env.tasks.build_shipped_corpus --workers 2

It generates the corpus exactly as `load_corpus` would (same tasks, same splits), which takes a
few minutes on two cores, and checks that it reads back as written. Until it
is rebuilt, a stale file is ignored and the corpus is generated on first use instead (minutes).
"""

from __future__ import annotations

import argparse
import os
import sys

from .corpus import _LETTER, DEFAULT_CORPUS_SIZE, SPLITS, _generate
from .generation import GeneratorConfig
from .shipped import SHIPPED_DIR, read_shipped, write_shipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m progrefine_env.tasks.build_shipped_corpus", description=__doc__)
    parser.add_argument("--size", type=int, default=DEFAULT_CORPUS_SIZE, help="tasks in all splits")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (the default corpus uses 0)")
    parser.add_argument("--workers", type=int, default=None, help="generating processes (default: the cores, <= 8)")
    args = parser.parse_args(argv)
    config = GeneratorConfig()
    workers = args.workers or min(8, os.cpu_count() or 1)
    print(f"generating {args.size} tasks (seed {args.seed}) with {workers} workers", file=sys.stderr)
    tasks, letters = _generate(args.size, args.seed, config, workers, progress=True)
    path = write_shipped(tasks, letters, args.seed, config, SHIPPED_DIR)
    for split in SPLITS:  # read back as load_corpus will read it
        expected = [task for task, mine in zip(tasks, letters) if mine == _LETTER[split]]
        if read_shipped(split, args.size, args.seed, config) != expected:
            raise SystemExit(f"error: {path} does not read back as written ({split} split)")
    counts = {split: letters.count(_LETTER[split]) for split in SPLITS}
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
