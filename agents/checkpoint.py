"""Saving and loading checkpoints, with errors that name the file and the reason."""

from __future__ import annotations

import os
from pathlib import Path

import torch

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
    if payload["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {payload['format_version']}, this code reads {FORMAT_VERSION} "
            "(the observation changed in between; retrain)"
        )
    try:
        model = RefineNet(ModelConfig(**payload["model_config"])).to(device)
        model.load_state_dict(payload["model"])
    except (KeyError, TypeError, RuntimeError) as err:
        raise CheckpointError(f"{path}: model does not match its config ({err})") from None
    return model, payload
