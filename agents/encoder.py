"""Node features of an observation as embeddings: what each node is, where it sits, and what the
tests say about it."""

from __future__ import annotations

import torch
from torch import nn

from progrefine_env.feedback import NUM_OUTCOMES, VALUE_FEATURES
from progrefine_env.lang import VOCAB_SIZE
from progrefine_env.lang.types import NUM_TYPES

MAX_DEPTH_EMBEDDED = 32
NODE_SCALARS = NUM_TYPES + 5  # expected-type bits, masked, conflict, failure, suspicion, changed


class NodeEncoder(nn.Module):
    """Embeds every node of a batched observation.

    Sums embeddings of the current and previous token, arity, depth and sibling position, a
    projection of scalar signals (expected-type bits, masked, type conflict, failure share, Ochiai,
    changed since the last step) and a test-feedback vector: each (node, test) pair's value summary
    beside the test's expected output and outcome, encoded by an MLP and averaged over real tests.

    Args:
        hidden: embedding width H.

    Shapes:
        input: an observation dict of tensors with batch axis B (see `ProgramRefineEnv`).
        output: [B, N, H].
    """

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.token = nn.Embedding(VOCAB_SIZE, hidden)
        self.prev_token = nn.Embedding(VOCAB_SIZE, hidden)
        self.arity = nn.Embedding(4, hidden)
        self.depth = nn.Embedding(MAX_DEPTH_EMBEDDED, hidden)
        self.position = nn.Embedding(3, hidden)
        self.scalars = nn.Linear(NODE_SCALARS, hidden)
        self.outcome = nn.Embedding(NUM_OUTCOMES, hidden)
        self.values = nn.Sequential(nn.Linear(2 * VALUE_FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.norm = nn.LayerNorm(hidden)
        self.register_buffer("type_bits", 2 ** torch.arange(NUM_TYPES), persistent=False)

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        tokens, prev = obs["tokens"].long(), obs["prev_tokens"].long()
        expected_bits = ((obs["expected_type"].long().unsqueeze(-1) & self.type_bits) > 0).float()
        scalars = torch.cat(
            [
                expected_bits,
                obs["masked"].float().unsqueeze(-1),
                obs["type_conflict"].float().unsqueeze(-1),
                obs["node_failure"].float().unsqueeze(-1),
                obs["node_suspicion"].float().unsqueeze(-1),
                (tokens != prev).float().unsqueeze(-1),
            ],
            dim=-1,
        )
        h = (
            self.token(tokens)
            + self.prev_token(prev)
            + self.arity(obs["arity"].long().clamp(max=3))
            + self.depth(obs["depth"].long().clamp(max=MAX_DEPTH_EMBEDDED - 1))
            + self.position(obs["position"].long().clamp(max=2))
            + self.scalars(scalars)
            + self._test_feedback(obs)
        )
        return self.norm(h)

    def _test_feedback(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """[B, N, H]: per (node, test) encodings averaged over the real tests."""
        node_values = obs["node_values"].float()  # [B, N, T, F]
        expected = obs["expected_output"].float().unsqueeze(1).expand_as(node_values)
        pairs = self.values(torch.cat([node_values, expected], dim=-1))  # [B, N, T, H]
        pairs = pairs + self.outcome(obs["test_outcome"].long()).unsqueeze(1)
        test_mask = obs["test_mask"].float().unsqueeze(1).unsqueeze(-1)  # [B, 1, T, 1]
        return (pairs * test_mask).sum(dim=2) / test_mask.sum(dim=2).clamp(min=1.0)
