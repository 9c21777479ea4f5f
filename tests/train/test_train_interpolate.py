"""train/interpolate.py: weight-space interpolation of two checkpoints (WiSE-FT)."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("torch_geometric")

from agents import ModelConfig, RefineNet  # noqa: E402
from agents.nn.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from train.interpolate import interpolate  # noqa: E402
from train.interpolate import main as interpolate_main  # noqa: E402


def network(seed: int, hidden: int = 16) -> RefineNet:
    torch.manual_seed(seed)
    return RefineNet(ModelConfig(hidden=hidden, layers=1))


def test_alpha_moves_every_weight_from_the_base_to_the_tuned_network():
    base, tuned = network(0), network(1)
    for alpha in (0.0, 0.5, 1.0):
        mixed = interpolate(base, tuned, alpha).state_dict()
        for name, value in tuned.state_dict().items():
            start = base.state_dict()[name]
            expected = start + alpha * (value - start) if value.is_floating_point() else value
            assert torch.allclose(mixed[name], expected, atol=1e-6)
    tuned_state = tuned.state_dict()
    differ = [k for k, v in base.state_dict().items() if v.is_floating_point() and not torch.equal(v, tuned_state[k])]
    assert differ  # two different networks: the mixture is a real check


def test_networks_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="different networks"):
        interpolate(network(0), network(1, hidden=8), 0.5)


def test_the_cli_writes_the_mixture_and_never_over_a_file(tmp_path, capsys):
    save_checkpoint(tmp_path / "base.pt", network(0))
    save_checkpoint(tmp_path / "tuned.pt", network(1))
    inputs = ["--base", str(tmp_path / "base.pt"), "--tuned", str(tmp_path / "tuned.pt"),
              "--out", str(tmp_path / "mixed.pt")]  # fmt: skip
    argv = [*inputs, "--alpha", "0.25"]
    assert interpolate_main(argv) == 0
    mixed, payload = load_checkpoint(tmp_path / "mixed.pt")
    assert payload["interpolation"]["alpha"] == 0.25
    expected = interpolate(network(0), network(1), 0.25).state_dict()
    assert all(torch.allclose(mixed.state_dict()[k], v) for k, v in expected.items())
    with pytest.raises(SystemExit) as exit_info:
        interpolate_main(argv)
    assert exit_info.value.code == 2 and "exists; give --force" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        interpolate_main([*inputs, "--alpha", "1.5", "--force"])
    assert "--alpha 1.5" in capsys.readouterr().err
