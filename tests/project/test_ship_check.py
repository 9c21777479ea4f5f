"""benchmarks/ship_check.py: issue 26's ship rule (no fewer held-out passes anywhere, more in total),
read from `train.evaluate` reports already in its folder (nothing is evaluated here)."""

from __future__ import annotations

import json
import sys

import pytest

from tests.repo_root import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import ship_check  # noqa: E402


def write_reports(folder, name: str, checkpoint, held_out: dict[tuple[str, str], list[float]]) -> None:
    """`train.evaluate` reports as ship_check names them, made for `checkpoint` at 0.3 CPU-s."""
    for (task_set, mode), passes in held_out.items():
        levels = [{"corruption": lv, "rounds": [{"pass_held_out": p}]}
                  for lv, p in zip(ship_check.LEVELS[mode], passes)]  # fmt: skip
        report = {"levels": levels, "checkpoint": str(checkpoint), "decoding": {"cpu_budget": 0.3}}
        (folder / f"{name}__{task_set}__{mode}.json").write_text(json.dumps(report))


def checkpoints(folder):
    """Two checkpoint files, never loaded: every report is already there."""
    paths = folder / "shipped.pt", folder / "cand.pt"
    for path in paths:
        path.write_bytes(b"")
    return paths


@pytest.mark.parametrize("candidate_mask, expected", [
    ([0.6, 0.3, 0.2], "verdict: ship (total +20.0 points)"),
    ([0.6, 0.3, 0.05], "verdict: keep the shipped checkpoint (total +5.0 points; lower at s mask 1.0: 10.0 -> 5.0)"),
    ([0.5, 0.3, 0.1], "verdict: keep the shipped checkpoint (total +0.0 points)"),
])  # fmt: skip
def test_the_verdict_needs_no_loss_anywhere_and_a_gain_in_total(tmp_path, capsys, candidate_mask, expected):
    shipped, candidate = checkpoints(tmp_path)
    write_reports(tmp_path, "shipped", shipped, {("s", "mask"): [0.5, 0.3, 0.1], ("s", "noise"): [0.4, 0.2]})
    write_reports(tmp_path, "cand", candidate, {("s", "mask"): candidate_mask, ("s", "noise"): [0.4, 0.2]})
    ship_check.main(["--checkpoint", str(candidate), "--shipped", str(shipped), "--name", "cand", "--sets", "s",
                     "--out-dir", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert expected in out
    assert "| s | 50.0 -> " in out


def test_a_missing_checkpoint_is_named_before_anything_runs(tmp_path):
    with pytest.raises(SystemExit, match="nowhere.pt: no such checkpoint file"):
        ship_check.main(["--checkpoint", str(tmp_path / "nowhere.pt"), "--name", "x", "--out-dir", str(tmp_path)])
    assert not list(tmp_path.iterdir())


def test_a_report_made_for_another_checkpoint_is_not_reused(tmp_path):
    shipped, candidate = checkpoints(tmp_path)
    passes = {("s", "mask"): [0.5, 0.3, 0.1], ("s", "noise"): [0.4, 0.2]}
    write_reports(tmp_path, "shipped", shipped, passes)
    write_reports(tmp_path, "cand", shipped, passes)  # "cand" reports that were made for the shipped checkpoint
    with pytest.raises(SystemExit, match="cand__s__mask.json: made for .*shipped.pt"):
        ship_check.main(["--checkpoint", str(candidate), "--shipped", str(shipped), "--name", "cand", "--sets", "s",
                         "--out-dir", str(tmp_path)])  # fmt: skip


def test_repeats_compare_the_means_and_name_the_shipped_spread(tmp_path, capsys):
    shipped, candidate = checkpoints(tmp_path)
    write_reports(tmp_path, "shipped", shipped, {("s", "mask"): [0.5, 0.3, 0.1], ("s", "noise"): [0.4, 0.2]})
    write_reports(tmp_path, "cand", candidate, {("s", "mask"): [0.7, 0.3, 0.1], ("s", "noise"): [0.4, 0.2]})
    second = tmp_path / "second"
    second.mkdir()
    write_reports(second, "shipped", shipped, {("s", "mask"): [0.5, 0.3, 0.2], ("s", "noise"): [0.4, 0.2]})
    write_reports(second, "cand", candidate, {("s", "mask"): [0.7, 0.3, 0.1], ("s", "noise"): [0.4, 0.2]})
    for path in second.iterdir():  # the second run of each, as --repeats 2 names it
        path.rename(tmp_path / path.name.replace(".json", "__r1.json"))
    ship_check.main(["--checkpoint", str(candidate), "--shipped", str(shipped), "--name", "cand", "--sets", "s",
                     "--out-dir", str(tmp_path), "--repeats", "2"])  # fmt: skip
    out = capsys.readouterr().out
    assert "| s | 50.0 -> 70.0 | 30.0 -> 30.0 | 15.0 -> 10.0 |" in out  # the means of the two runs
    assert "lower at s mask 1.0: 15.0 -> 10.0 (the shipped checkpoint's own spread 10.0)" in out


def test_the_default_shipped_checkpoint_is_the_one_train_evaluate_uses():
    pytest.importorskip("torch_geometric")
    from train.evaluate import SHIPPED_CHECKPOINT

    assert ship_check.SHIPPED == SHIPPED_CHECKPOINT and SHIPPED_CHECKPOINT.is_file()
