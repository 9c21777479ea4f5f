"""Losses as small functions over the network's raw logits and the observation's masks."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from .distribution import MaskedFlatCategorical, MaskedNodeCategorical


def test_guided_weights(obs: Mapping[str, torch.Tensor], failure_weight: float) -> torch.Tensor:
    """[B, N] per-node loss weights `1 + failure_weight * node_failure` on real nodes, 0 on padding:
    nodes that failing tests reach count more (the prototype's weighting, which kept one-shot
    accuracy while teaching the network where programs go wrong)."""
    return (1.0 + failure_weight * obs["node_failure"].float()) * obs["node_mask"].float()


def rewrite_imitation_loss(
    logits: torch.Tensor, obs: Mapping[str, torch.Tensor], targets: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Weighted per-node cross-entropy against target tokens ([B, N]), within the grammar mask.

    The target is always added to the allowed set: where the current program's types exclude it
    (a wrong parent above a right child), it must still get a finite log-probability to learn from.
    """
    allowed = obs["grammar_mask"].bool().scatter(-1, targets.long().unsqueeze(-1), True)
    nll = -MaskedNodeCategorical(logits, allowed).node_log_prob(targets)
    return (nll * weights).sum() / weights.sum().clamp(min=1e-8)


def edit_imitation_loss(logits: torch.Tensor, obs: Mapping[str, torch.Tensor], targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the expert's single edit (`node * V + token`, [B]) over the real nodes'
    allowed edits (the expert's edit added to the allowed set, as above)."""
    allowed = (obs["grammar_mask"].bool() & obs["node_mask"].bool().unsqueeze(-1)).flatten(1)
    allowed = allowed.scatter(-1, targets.long().unsqueeze(-1), True)
    return -MaskedFlatCategorical(logits, allowed).log_prob(targets).mean()
