"""Checkpoints read from disk are validated before any network is built (issue 13, item 5)."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("torch_geometric")
from agents import ModelConfig, RefineNet  # noqa: E402
from agents.nn.checkpoint import CONFIG_LIMITS, CheckpointError, load_checkpoint, save_checkpoint  # noqa: E402

SMALL = ModelConfig(hidden=16, layers=1)


def saved_with(tmp_path, **changes):
    """A checkpoint of a small network whose payload has `changes` applied."""
    path = tmp_path / "model.pt"
    save_checkpoint(path, RefineNet(SMALL))
    payload = torch.load(path, weights_only=True)
    torch.save({**payload, **changes}, path)
    return path


@pytest.mark.parametrize(
    "config, words",
    [({"hidden": 16, "layers": 100_000}, "layers = 100000 lies outside"), ({"hidden": 0, "layers": 1}, "hidden = 0"),
     ({"hidden": 16.0, "layers": 1}, "hidden must be of type int"),
     ({"hidden": True, "layers": 1}, "hidden must be of type int"),
     ({"hidden": 16, "layers": 1, "global_context": 1}, "global_context must be of type bool"),
     ({"hidden": 16, "layers": 1, "heads": 8}, "unknown model_config field(s) ['heads']"),
     ("16x1", "no model configuration")],
)  # fmt: skip
def test_a_model_config_out_of_bounds_or_of_the_wrong_type_is_refused(tmp_path, config, words):
    path = saved_with(tmp_path, model_config=config)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    assert str(caught.value).startswith(f"{path}: ") and words in str(caught.value)
    assert CONFIG_LIMITS["layers"][1] < 100_000


def test_a_format_version_of_another_type_is_refused_with_its_type(tmp_path):
    """`format_version "2"` was reported as "format version 2, this code reads 2"."""
    for version in ("2", 2.0, True):
        with pytest.raises(CheckpointError, match=r"format version .* \(a (str|float|bool)\), this code reads 2"):
            load_checkpoint(saved_with(tmp_path, format_version=version))


def test_non_finite_weights_are_refused_naming_the_weight(tmp_path):
    """NaN weights made best-of-k decoding fail with `ShapeError: node 0: 0 is not a program token id`."""
    model = RefineNet(SMALL)
    weights = model.state_dict()
    name = next(k for k, w in weights.items() if w.is_floating_point())
    for bad in (float("nan"), float("inf")):
        broken = {**weights, name: torch.full_like(weights[name], bad)}
        with pytest.raises(CheckpointError, match=f"model.pt: weight '{name}' holds NaN or infinite"):
            load_checkpoint(saved_with(tmp_path, model=broken))
    with pytest.raises(CheckpointError, match="not a dict of tensors"):
        load_checkpoint(saved_with(tmp_path, model=[1, 2]))
    loaded, _ = load_checkpoint(saved_with(tmp_path))  # an intact one still loads
    assert loaded.config == SMALL
