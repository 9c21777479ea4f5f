"""Saving and loading checkpoints, with errors that name the file and the reason."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import torch

from progrefine_env.lang.brief import brief

from .network import ModelConfig, RefineNet

FORMAT_VERSION = 2
"""2: value summaries of 14 features (version 1 networks read 9 and cannot read today's observations)."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be used."""


def save_checkpoint(path: str | os.PathLike, model: RefineNet, **state) -> None:
    """Write atomically: the model, its config, and any extra state (optimizer, step, config)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "model_config": model.config.to_dict(),
        "model": model.state_dict(),
        **state,
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[RefineNet, dict]:
    """The model and the whole payload. Raises `CheckpointError` naming the file and the reason."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises many kinds for a corrupt file
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(payload, dict) or "format_version" not in payload:
        raise CheckpointError(f"{path}: not a ProgRefine checkpoint")
    config = validate_payload(path, payload)
    try:
        model = RefineNet(config).to(device)
        model.load_state_dict(payload["model"])
    except (KeyError, TypeError, RuntimeError) as err:
        raise CheckpointError(f"{path}: model does not match its config ({err})") from None
    return model, payload


CONFIG_LIMITS = {"hidden": (1, 2048), "layers": (1, 64)}
"""Bounds on `ModelConfig`'s integer fields read from a checkpoint (other integer fields: [0, 4096]); the
largest network they allow has about 270 million parameters."""


def validate_payload(path: str | os.PathLike, payload: dict) -> ModelConfig:
    """The checkpoint's model configuration, checked before any network is built (a config read
    from a file could ask for 100,000 layers): the format version (an int, this code's), every
    config field known, of its type and within `CONFIG_LIMITS`, and every weight a finite tensor.
    Raises `CheckpointError` naming the file and the reason."""
    version = payload["format_version"]
    if type(version) is not int or version != FORMAT_VERSION:
        shown = version if type(version) is int else f"{brief(version)} (a {type(version).__name__})"
        raise CheckpointError(
            f"{path}: checkpoint format version {shown}, this code reads {FORMAT_VERSION} "
            "(the observation changed in between; retrain)"
        )
    config = _model_config(path, payload.get("model_config"))
    weights = payload.get("model")
    if not isinstance(weights, dict) or not all(isinstance(w, torch.Tensor) for w in weights.values()):
        raise CheckpointError(f"{path}: the model's weights are not a dict of tensors")
    for name, weight in weights.items():
        if weight.is_floating_point() and not bool(torch.isfinite(weight).all()):
            raise CheckpointError(
                f"{path}: weight {brief(name)} holds NaN or infinite values (did training diverge?); "
                "use an earlier checkpoint"
            )
    return config


def _model_config(path: str | os.PathLike, raw: object) -> ModelConfig:
    if not isinstance(raw, dict):
        raise CheckpointError(f"{path}: no model configuration (model_config) in the checkpoint")
    known = {f.name: f for f in fields(ModelConfig)}
    unknown = sorted(map(str, set(raw) - set(known)))
    if unknown:
        raise CheckpointError(
            f"{path}: unknown model_config field(s) {brief(unknown)}; this code knows {sorted(known)}"
        )
    for name, value in raw.items():
        kind = type(known[name].default)
        if type(value) is not kind:  # exact: a bool is not an int here, nor an int a bool
            raise CheckpointError(f"{path}: model_config {name} must be of type {kind.__name__}, got {brief(value)}")
        low, high = CONFIG_LIMITS.get(name, (0, 4096))
        if kind is int and not low <= value <= high:
            raise CheckpointError(f"{path}: model_config {name} = {value} lies outside [{low}, {high}]")
    return ModelConfig(**raw)
