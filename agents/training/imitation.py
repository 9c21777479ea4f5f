"""One supervised update shared by the imitation trainers (scheduled sampling and DAgger)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ..nn.batching import to_tensors
from ..nn.network import RefineNet
from .losses import edit_imitation_loss, rewrite_imitation_loss, test_guided_weights


class ImitationUpdate:
    """A gradient step of cross-entropy against expert labels on a batch of observations.

    Args:
        model: the network, updated in place.
        action_mode: "rewrite" (labels are target tokens [B, N], weighted per node by the tests)
            or "edit" (labels are single edits [B]).
        lr, grad_clip, failure_weight: Adam's learning rate, gradient-norm clipping, and the
            test-guided weighting of `agents.training.losses.test_guided_weights`.
        device: where the network runs.
        train_model: the module to run forward and backward, when it is not `model` itself (a
            DistributedDataParallel wrapper around it, which averages gradients across processes).
    """

    def __init__(self, model: RefineNet, action_mode: str, lr: float, grad_clip: float, failure_weight: float,
                 device="cpu", train_model: torch.nn.Module | None = None) -> None:  # fmt: skip
        self.model, self.action_mode, self.device = model, action_mode, torch.device(device)
        self.train_model = train_model if train_model is not None else model
        self.grad_clip, self.failure_weight = grad_clip, failure_weight
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def __call__(self, obs: Mapping[str, np.ndarray], labels: np.ndarray) -> tuple[float, torch.Tensor]:
        """One step; returns the loss and the (detached) raw logits [B, N, V]."""
        self.train_model.train()
        tensors = to_tensors(obs, self.device)
        targets = torch.as_tensor(labels, device=self.device).long()
        logits = self.train_model(tensors).logits
        if self.action_mode == "rewrite":
            loss = rewrite_imitation_loss(logits, tensors, targets, test_guided_weights(tensors, self.failure_weight))
        else:
            loss = edit_imitation_loss(logits, tensors, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        return loss.item(), logits.detach()


def masked_node_accuracy(logits: torch.Tensor, obs: Mapping[str, np.ndarray], targets: np.ndarray) -> float:
    """Argmax token accuracy on the `<mask>` nodes (the one-shot accuracy of a round-0 batch)."""
    masked = torch.as_tensor(obs["masked"]).bool()
    if not masked.any():
        return float("nan")
    allowed = torch.as_tensor(obs["grammar_mask"]).bool()
    predicted = logits.cpu().masked_fill(~allowed, float("-inf")).argmax(-1)
    return float((predicted == torch.as_tensor(targets))[masked].float().mean())
