"""Node features of an observation as embeddings: what each node is, where it sits, and what the
tests say about it."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from progrefine_env.feedback import CLIP, NUM_OUTCOMES, VALUE_FEATURES, WIDE_CLIP
from progrefine_env.lang import VOCAB_SIZE
from progrefine_env.lang.types import NUM_TYPES
from progrefine_env.lang.vocab import INPUT_NAMES

MAX_DEPTH_EMBEDDED = 32
NODE_SCALARS = NUM_TYPES + 5  # expected-type bits, masked, conflict, failure, suspicion, changed
DIFF_RANGE = 20  # differences within [-20, 20] get their own embedding


class NodeEncoder(nn.Module):
    """Embeds every node of a batched observation.

    Sums embeddings of the current and previous token, arity, depth and sibling position, a
    projection of scalar signals (expected-type bits, masked, type conflict, failure share, Ochiai,
    changed since the last step) and a test-feedback vector: each (node, test) pair's value summary
    beside the test's expected output, outcome and inputs, encoded by MLPs and averaged over real
    tests. Exact integer relations between a node's value and the expected output (the value itself, the
    difference of the scalars, of the wide values, and their quotient) are embedded rather than
    left to the MLP: a constant or an operator is read off "the output is always 3 more than this
    node", which a ReLU MLP on inputs spaced 0.1 apart learns slowly.

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
        tests_in = (len(INPUT_NAMES) + 1) * VALUE_FEATURES
        self.tests = nn.Sequential(nn.Linear(tests_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.value_bucket = nn.Embedding(2 * int(CLIP) + 2, hidden)
        self.scalar_diff = nn.Embedding(2 * DIFF_RANGE + 2, hidden)
        self.wide_diff = nn.Embedding(2 * DIFF_RANGE + 2, hidden)
        self.quotient = nn.Embedding(2 * int(CLIP) + 2, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.register_buffer("type_bits", 2 ** torch.arange(NUM_TYPES), persistent=False)
        self.packed = True  # False: the padded reference path of `_test_feedback` (same outputs)

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
        """[B, N, H]: per (node, test) encodings averaged over the real tests; `packed` (the default)
        or `padded`, which give the same values up to float rounding (tested to 1e-5)."""
        return self._packed_feedback(obs) if self.packed else self._padded_feedback(obs)

    def _packed_feedback(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The padded path's sum rearranged by linearity (issue 27): the per-(node, test) MLP runs on
        the real (node, test) pairs only, its last Linear after the mean (a mean of affine maps is
        the affine map of the mean), and the per-test terms (outcome, the test as a whole) are
        averaged once per program instead of once per node."""
        node_values = obs["node_values"].float()  # [B, N, T, F]
        batch_size, num_nodes, _, features = node_values.shape
        test_mask = obs["test_mask"].bool()
        counts = test_mask.sum(1).clamp(min=1).float()  # [B]
        pairs = _real_pairs(obs["node_mask"].bool(), test_mask, counts)
        values, expected = node_values.reshape(-1, features)[pairs.flat], obs["expected_output"].float()
        first, last = self.values[0], self.values[2]
        per_test_first = nn.functional.linear(expected, first.weight[:, features:], first.bias)  # [B, T, H]
        hidden = torch.relu(
            nn.functional.linear(values, first.weight[:, :features]) + per_test_first.flatten(0, 1)[pairs.test]
        )
        summed = torch.zeros(batch_size * num_nodes, hidden.shape[1], dtype=hidden.dtype, device=hidden.device)
        summed.index_add_(0, pairs.node, hidden * pairs.weight.unsqueeze(1))
        indices = self._relation_indices(values, expected.flatten(0, 1)[pairs.test])
        relations = _mean_embeddings(self._relation_tables(), indices, pairs.node, pairs.weight, len(summed))
        has_tests = test_mask.any(1).float().view(batch_size, 1, 1)
        per_test = self.outcome(obs["test_outcome"].long()) + self._tests(obs)  # [B, T, H]
        per_test_mean = (per_test * test_mask.unsqueeze(-1)).sum(1) / counts.unsqueeze(1)  # [B, H]
        out = nn.functional.linear(summed, last.weight) + relations
        return out.view(batch_size, num_nodes, -1) + (last.bias + per_test_mean.unsqueeze(1)) * has_tests

    def _padded_feedback(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The reference: every (node, test) slot, padding included, through the whole MLP."""
        node_values = obs["node_values"].float()  # [B, N, T, F]
        expected = obs["expected_output"].float().unsqueeze(1).expand_as(node_values)
        pairs = self.values(torch.cat([node_values, expected], dim=-1))  # [B, N, T, H]
        pairs = pairs + self.outcome(obs["test_outcome"].long()).unsqueeze(1) + self._relations(node_values, expected)
        pairs = pairs + self._tests(obs).unsqueeze(1)
        test_mask = obs["test_mask"].float().unsqueeze(1).unsqueeze(-1)  # [B, 1, T, 1]
        return (pairs * test_mask).sum(dim=2) / test_mask.sum(dim=2).clamp(min=1.0)

    def _tests(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """[B, T, H]: each test as a whole, its inputs beside its expected output, so that every node
        sees the inputs even where the leaves that read them are masked."""
        inputs = obs["test_inputs"].float().flatten(-2)  # [B, T, 3 * F]
        return self.tests(torch.cat([inputs, obs["expected_output"].float()], dim=-1))

    def _relations(self, node_values: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
        """[B, N, T, H]: embeddings of exact integer relations between node values and outputs
        (layout in `progrefine_env.feedback.VALUE_FEATURES`; an index past the range means n/a)."""
        tables = self._relation_tables()
        return sum(table(index) for table, index in zip(tables, self._relation_indices(node_values, expected)))

    def _relation_tables(self) -> tuple[nn.Embedding, ...]:
        return (self.value_bucket, self.scalar_diff, self.wide_diff, self.quotient)

    def _relation_indices(self, node_values: torch.Tensor, expected: torch.Tensor) -> list[torch.Tensor]:
        """The rows of `_relation_tables()` each (node, test) pair reads: the node's value bucket, the
        differences of scalars and of wide values from the expected output, their quotient."""
        evaluated = node_values[..., 0] > 0
        comparable = evaluated & (node_values[..., 1:4] == expected[..., 1:4]).all(-1)
        scalar, wide = torch.round(node_values[..., 4] * CLIP), torch.round(node_values[..., 5] * WIDE_CLIP)
        expected_scalar = torch.round(expected[..., 4] * CLIP)
        expected_wide = torch.round(expected[..., 5] * WIDE_CLIP)
        divisor = torch.where(wide != 0, wide, torch.ones_like(wide))
        divisible = comparable & (wide != 0) & (torch.remainder(expected_wide, divisor) == 0)
        return [
            _bucket(scalar, int(CLIP), evaluated),
            _bucket(expected_scalar - scalar, DIFF_RANGE, comparable),
            _bucket(expected_wide - wide, DIFF_RANGE, comparable),
            _bucket(expected_wide / divisor, int(CLIP), divisible),
        ]


class _Pairs(NamedTuple):
    """The real (node, test) pairs of a batch, in row-major order (so grouped by node).

    Shapes: all [P]: flat index into [B * N * T], node index into [B * N], test index into [B * T],
    and the pair's weight in its node's mean over tests (1 / the program's real tests).
    """

    flat: torch.Tensor
    node: torch.Tensor
    test: torch.Tensor
    weight: torch.Tensor


def _real_pairs(node_mask: torch.Tensor, test_mask: torch.Tensor, counts: torch.Tensor) -> _Pairs:
    num_nodes, num_tests = node_mask.shape[1], test_mask.shape[1]
    flat = (node_mask.unsqueeze(2) & test_mask.unsqueeze(1)).flatten().nonzero().squeeze(1)
    program = flat // (num_nodes * num_tests)
    weight = (1.0 / counts)[program]
    return _Pairs(flat, flat // num_tests, program * num_tests + flat % num_tests, weight)


def _mean_embeddings(
    tables: tuple[nn.Embedding, ...],
    indices: list[torch.Tensor],
    bag_of_row: torch.Tensor,
    weights: torch.Tensor,
    num_bags: int,
) -> torch.Tensor:
    """`sum over rows r in bag b of weights[r] * sum_k tables[k](indices[k][r])`, for every bag b, as
    one `embedding_bag` over the tables laid end to end: no [rows, H] tensor per table (issue 27).

    Shapes: indices[k], bag_of_row, weights: [R], rows sorted by bag; returns [num_bags, H].
    """
    weight = torch.cat([table.weight for table in tables])
    starts = torch.tensor([0] + [table.num_embeddings for table in tables[:-1]], device=weight.device).cumsum(0)
    flat = (torch.stack(indices, dim=1) + starts).flatten()
    per_bag = torch.bincount(bag_of_row, minlength=num_bags) * len(tables)
    offsets = torch.cumsum(per_bag, 0) - per_bag
    return nn.functional.embedding_bag(
        flat, weight, offsets, mode="sum", per_sample_weights=weights.repeat_interleave(len(tables))
    )


def _bucket(values: torch.Tensor, limit: int, valid: torch.Tensor) -> torch.Tensor:
    """Index of `values` in [-limit, limit] (shifted to start at 0); `2 * limit + 1` where not valid
    or out of range."""
    inside = valid & (values.abs() <= limit)
    return torch.where(inside, values + limit, torch.full_like(values, 2 * limit + 1)).long()
