"""Training writes a new run folder by default and never writes over a checkpoint unless asked."""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from env_tasks import PAIR
from repo_root import ROOT

from progrefine_env.tasks.io import save_tasks
from train.run_folder import CHECKPOINT_NAME, RunFolderError, add_run_flags, resolve_run

NOON = datetime.datetime(2026, 1, 2, 12, 0, 0)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_run_flags(parser, "algo")
    return parser.parse_args(list(argv))


def test_default_run_is_a_new_timestamped_folder(tmp_path):
    runs = str(tmp_path / "runs")
    first = resolve_run(parse("--runs-dir", runs), now=NOON)
    second = resolve_run(parse("--runs-dir", runs), now=NOON)  # same second: a folder of its own
    assert first.dir == tmp_path / "runs" / "algo" / "20260102-120000"
    assert second.dir != first.dir and second.dir.parent == first.dir.parent
    assert first.checkpoint == first.dir / CHECKPOINT_NAME and first.logdir == first.dir
    assert first.dir.is_dir() and second.dir.is_dir() and not first.checkpoint.exists()


def test_named_run_and_out_refuse_an_existing_checkpoint_without_overwrite(tmp_path):
    runs = str(tmp_path)
    named = resolve_run(parse("--runs-dir", runs, "--name", "mine"))
    assert named.dir == tmp_path / "algo" / "mine"
    named.checkpoint.write_bytes(b"weights")
    with pytest.raises(RunFolderError, match="--overwrite"):
        resolve_run(parse("--runs-dir", runs, "--name", "mine"))
    assert resolve_run(parse("--runs-dir", runs, "--name", "mine", "--overwrite")).checkpoint == named.checkpoint

    out = tmp_path / "kept.pt"
    out.write_bytes(b"weights")
    with pytest.raises(RunFolderError, match="kept.pt"):
        resolve_run(parse("--runs-dir", str(tmp_path / "other"), "--out", str(out)))
    assert not (tmp_path / "other").exists()  # a refused run creates nothing
    assert resolve_run(parse("--runs-dir", runs, "--out", str(out), "--overwrite")).checkpoint == out


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden"])
def test_run_name_must_be_a_folder_name(tmp_path, name):
    with pytest.raises(RunFolderError, match="--name"):
        resolve_run(parse("--runs-dir", str(tmp_path), "--name", name))


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def train(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "train.scheduled_sampling", "--batch-size", "2", "--hidden", "16", "--layers", "1",
         "--iterations", "1", "--eval-tasks", "0", "--no-progress", *args],
        cwd=cwd, env=environ, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_training_without_out_leaves_the_shipped_checkpoints_untouched(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    save_tasks(PAIR, tasks)
    shipped = digests(ROOT / "checkpoints")
    assert shipped, "the repository ships checkpoints"
    for cwd in (tmp_path, ROOT):  # wherever it is started from
        runs = tmp_path / "runs" if cwd == tmp_path else tmp_path / "elsewhere"
        result = train(cwd, "--tasks", str(tasks), *(() if cwd == tmp_path else ("--runs-dir", str(runs))))
        assert result.returncode == 0, result.stderr
        written = list(runs.glob("scheduled_sampling/*/" + CHECKPOINT_NAME))
        assert len(written) == 1
        assert f"saved {written[0] if cwd == ROOT else written[0].relative_to(cwd)} after" in result.stdout
        assert list(written[0].parent.glob("events.out.tfevents.*")), "TensorBoard logs sit beside the checkpoint"
    assert digests(ROOT / "checkpoints") == shipped


def test_training_refuses_to_write_over_a_checkpoint(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    save_tasks(PAIR, tasks)
    out = tmp_path / "precious.pt"
    out.write_bytes(b"not to be lost")
    result = train(tmp_path, "--tasks", str(tasks), "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {out}: a checkpoint is already there")
    assert "Traceback" not in result.stderr and out.read_bytes() == b"not to be lost"
    assert not (tmp_path / "runs").exists()


def test_out_and_logdir_together_create_no_run_folder(tmp_path):
    """Every file the run writes is named: nothing is left empty under --runs-dir."""
    run = resolve_run(parse("--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "c" / "x.pt"),
                            "--logdir", str(tmp_path / "logs")))  # fmt: skip
    assert run.checkpoint == tmp_path / "c" / "x.pt" and run.logdir == tmp_path / "logs"
    assert not (tmp_path / "runs").exists()
