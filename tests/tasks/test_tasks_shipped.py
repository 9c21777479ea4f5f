"""The default corpus ships in the package and loads without generating anything; a stale or
damaged shipped file is ignored; the shipped file is what the generator makes today."""

from __future__ import annotations

import functools
import gc
import gzip
import json

import gymnasium as gym
import pytest
from repo_root import ROOT

import progrefine_env  # noqa: F401  (registers ProgramRefine-v0)
from progrefine_env.tasks import corpus, generate_tasks_with_fingerprints, split_of_fingerprint
from progrefine_env.tasks.corpus import DEFAULT_CORPUS_SIZE, SPLITS, decode_lines, load_corpus
from progrefine_env.tasks.generator import GeneratorConfig
from progrefine_env.tasks.shipped import HEADER, SHIPPED_DIR, read_shipped, shipped_corpus_path, write_shipped

REBUILD = "the shipped corpus is stale: run `python -m progrefine_env.tasks.build_shipped_corpus` and commit it"


@pytest.fixture
def no_generation(tmp_path, monkeypatch):
    """An empty cache and a fresh process's memory, and generating the corpus is an error."""

    def refuse(*args, **kwargs):
        raise AssertionError("the corpus was generated instead of read from the package")

    monkeypatch.setenv("PROGREFINE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(corpus, "_MEMORY", {})
    monkeypatch.setattr(corpus, "generate_tasks_with_fingerprints", refuse)
    return tmp_path / "cache"


def test_default_corpus_loads_from_the_package_without_generating(no_generation):
    assert shipped_corpus_path().is_file(), REBUILD
    parts = {split: load_corpus(split) for split in SPLITS}
    assert sum(len(tasks) for tasks in parts.values()) == DEFAULT_CORPUS_SIZE
    assert len(parts["train"]) > len(parts["val"]) > 0 and len(parts["test"]) > 0
    env = gym.make("ProgramRefine-v0")  # the README's first line
    assert len(env.unwrapped.tasks) == sum(len(t.program) <= 64 for t in parts["train"])
    assert not no_generation.exists() or not any(no_generation.iterdir()), "nothing is written to the cache"


def test_a_loaded_corpus_is_left_out_of_the_collector(no_generation):
    """Issue 12: once loaded, the corpus's objects are frozen (`gc.freeze`), so that the
    collector's full passes stop walking them again on every few env steps."""
    before = gc.get_freeze_count()
    tasks = load_corpus("val")
    assert gc.get_freeze_count() >= before + 2 * len(tasks)  # at least each task and its tests
    again = gc.get_freeze_count()
    load_corpus("val")  # already in memory: nothing more to freeze, no collection
    assert gc.get_freeze_count() == again


def test_shipped_corpus_is_what_the_generator_makes_today():
    """Generation is prefix-stable (blocks taken in order), so the first tasks tell a generator
    change that forgot to bump GENERATOR_VERSION and rebuild the file."""
    with gzip.open(shipped_corpus_path(), "rt", encoding="utf-8") as handle:
        letters = json.loads(handle.readline()[len(HEADER) :])["splits"]
        first = decode_lines(line for _, line in zip(range(40), handle))
    tasks, fps = generate_tasks_with_fingerprints(40, 0, GeneratorConfig())
    assert [t.to_json() for t in tasks] == [t.to_json() for t in first], REBUILD
    assert "".join(corpus._LETTER[split_of_fingerprint(fp)] for fp in fps) == letters[:40], REBUILD


def test_only_the_current_shipped_file_is_in_the_package():
    assert [p.name for p in SHIPPED_DIR.glob("corpus-*")] == [shipped_corpus_path().name]
    assert shipped_corpus_path().stat().st_size < 5_000_000


@functools.cache
def small_corpus(count: int = 30, seed: int = 3):
    tasks, fps = generate_tasks_with_fingerprints(count, seed, GeneratorConfig())
    return tasks, "".join(corpus._LETTER[split_of_fingerprint(fp)] for fp in fps)


def test_write_and_read_back_reproducibly_removing_stale_files(tmp_path):
    tasks, letters = small_corpus()
    stale = tmp_path / "corpus-0123456789abcdef0123.jsonl.gz"
    stale.write_bytes(b"from an older generator")
    path = write_shipped(tasks, letters, 3, GeneratorConfig(), tmp_path)
    assert path == shipped_corpus_path(30, 3, GeneratorConfig(), tmp_path) and not stale.exists()
    first_bytes = path.read_bytes()
    assert write_shipped(tasks, letters, 3, GeneratorConfig(), tmp_path).read_bytes() == first_bytes
    for split in SPLITS:
        expected = [t for t, mine in zip(tasks, letters) if mine == corpus._LETTER[split]]
        assert read_shipped(split, 30, 3, GeneratorConfig(), folder=tmp_path) == expected
        assert read_shipped(split, 30, 3, GeneratorConfig(), verify=True, folder=tmp_path) == expected
    assert read_shipped("train", 30, 4, GeneratorConfig(), folder=tmp_path) is None  # other settings: not shipped


def test_a_damaged_or_mislabelled_shipped_file_is_ignored_with_a_warning(tmp_path):
    tasks, letters = small_corpus()
    path = write_shipped(tasks, letters, 3, GeneratorConfig(), tmp_path)
    good = gzip.decompress(path.read_bytes()).decode()
    header, body = good.split("\n", 1)
    for damaged in (good[: len(good) // 2], header.replace('"seed": 3', '"seed": 5') + "\n" + body, body):
        path.write_bytes(gzip.compress(damaged.encode()))
        with pytest.warns(UserWarning, match="unusable shipped corpus"):
            assert read_shipped("train", 30, 3, GeneratorConfig(), folder=tmp_path) is None
    path.write_bytes(b"not gzip at all")
    with pytest.warns(UserWarning, match="unusable shipped corpus"):
        assert read_shipped("train", 30, 3, GeneratorConfig(), folder=tmp_path) is None


def test_package_data_includes_the_shipped_corpus():
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["progrefine_env"]
    relative = shipped_corpus_path().relative_to(SHIPPED_DIR.parent)
    assert any(relative.match(pattern) for pattern in patterns)
