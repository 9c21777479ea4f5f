"""Losses as small functions over the network's raw logits and the observation's masks."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..nn.distribution import MaskedFlatCategorical, MaskedNodeCategorical, edit_mask, edit_scores


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
    """Mean cross-entropy of the expert's single edit (`node * V + token`, [B]) over the edits the
    policy may take (`edit_mask`: no current token; scored by `edit_scores`, as the policy acts),
    the expert's edit added to the allowed set, as above."""
    tokens, nodes, target = obs["tokens"], obs["node_mask"], targets.long().unsqueeze(-1)
    # the expert's edit joins the grammar mask too, so that its node's softmax gives it a finite score
    grammar = obs["grammar_mask"].bool().flatten(1).scatter(-1, target, True).view(obs["grammar_mask"].shape)
    allowed = edit_mask(grammar, tokens, nodes).flatten(1).scatter(-1, target, True)
    return -MaskedFlatCategorical(edit_scores(logits, grammar, tokens, nodes), allowed).log_prob(targets).mean()


# ----------------------------------------------------------------------------- policy gradient


def ppo_clip_loss(
    log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor, clip_range: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate (Schulman et al. 2017), as a loss to minimise, and the share of
    samples whose ratio was clipped. Shapes: all [B]."""
    ratio = torch.exp(log_prob - old_log_prob)
    unclipped = advantages * ratio
    clipped = advantages * ratio.clamp(1.0 - clip_range, 1.0 + clip_range)
    clip_fraction = ((ratio - 1.0).abs() > clip_range).float().mean()
    return -torch.min(unclipped, clipped).mean(), clip_fraction


def reinforce_loss(log_prob: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """REINFORCE with a baseline (Williams 1992): `-(log pi(a|s) * (G - b(s)))`, averaged; the
    advantages carry no gradient. Shapes: [B]."""
    return -(log_prob * advantages.detach()).mean()


def value_loss(values: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the value head against the (GAE or Monte-Carlo) returns. Shapes: [B]."""
    return torch.nn.functional.mse_loss(values, returns)


def approx_kl(log_prob: torch.Tensor, old_log_prob: torch.Tensor) -> torch.Tensor:
    """KL(old || new) estimated from the sampled actions, `(r - 1) - log r` (Schulman's k3: unbiased,
    never negative), SB3's `approx_kl`. Shapes: [B] -> scalar."""
    log_ratio = log_prob - old_log_prob
    return ((torch.exp(log_ratio) - 1.0) - log_ratio).mean()


def distribution_kl(
    dist: MaskedNodeCategorical | MaskedFlatCategorical, reference_log_probs: torch.Tensor
) -> torch.Tensor:
    """Exact KL(pi || pi_ref) per sample ([B]) between a masked distribution and a reference's
    masked log-probabilities of the same shape (the warm-start policy, so that fine-tuning does not
    forget); `rewrite` mode sums over the real nodes. Masked entries have probability 0 under both
    and add nothing (both stay finite, see `agents.nn.distribution`)."""
    per_row = (dist.probs * (dist.log_probs - reference_log_probs)).sum(-1)
    if isinstance(dist, MaskedNodeCategorical):
        return (per_row * dist.node_mask).sum(-1)
    return per_row
