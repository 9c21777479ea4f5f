"""Choosing tokens from the network's logits."""

from __future__ import annotations

import torch


def masked_log_probs(logits: torch.Tensor, grammar_mask: torch.Tensor) -> torch.Tensor:
    """Log-probabilities over the tokens the grammar mask allows. Shapes: [B, N, V] -> [B, N, V]."""
    return torch.log_softmax(logits.masked_fill(~grammar_mask.bool(), float("-inf")), dim=-1)


def greedy(log_probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Most likely token of each node and its probability. Shapes: [B, N, V] -> [B, N], [B, N]."""
    best, tokens = log_probs.max(dim=-1)
    return tokens, best.exp()


def sample(log_probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per node drawn from the distribution (Gumbel-max, no per-node Python loop)."""
    uniform = torch.rand(log_probs.shape, generator=generator, device=log_probs.device).clamp_(1e-9, 1.0)
    return (log_probs - torch.log(-torch.log(uniform))).argmax(dim=-1)


def uniform_allowed(grammar_mask: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A uniformly random allowed token per node (the random-policy baseline)."""
    scores = torch.rand(grammar_mask.shape, generator=generator, device=grammar_mask.device)
    return scores.masked_fill(~grammar_mask.bool(), -1.0).argmax(dim=-1)
