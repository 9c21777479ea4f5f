"""agents.integrations.distribution: our masked categoricals behind torch's Distribution interface."""

from __future__ import annotations

import pytest
import torch

from agents.integrations.distribution import GraphActionDistribution

N, V = 5, 7


def random_mask(shape, generator) -> torch.Tensor:
    mask = torch.rand(shape, generator=generator) < 0.3
    mask[..., 0] = True  # every row keeps a choice
    return mask


@pytest.mark.parametrize("batch", [(), (4,), (2, 3)])
@pytest.mark.parametrize("action_mode", ["rewrite", "edit"])
def test_samples_stay_in_the_mask_for_any_batch_shape(batch, action_mode):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(*batch, N, V, generator=g)
    mask = random_mask((*batch, N, V), g)
    given = mask if action_mode == "rewrite" else mask.flatten(-2)
    dist = GraphActionDistribution(logits, given)
    for _ in range(30):
        actions = dist.sample()
        if action_mode == "rewrite":
            assert actions.shape == (*batch, N) and mask.gather(-1, actions.unsqueeze(-1)).all()
        else:
            assert actions.shape == batch and given.gather(-1, actions.unsqueeze(-1)).all()
        assert dist.log_prob(actions).shape == batch and torch.isfinite(dist.log_prob(actions)).all()
    assert dist.entropy().shape == batch and (dist.entropy() >= 0).all()
    assert dist.mode.shape == dist.sample().shape
    # the mode is the most likely allowed action
    assert torch.allclose(dist.log_prob(dist.mode), dist.log_prob(dist.deterministic_sample))


def test_log_prob_sums_the_nodes_in_rewrite_mode():
    logits, mask = torch.zeros(1, N, V), torch.ones(1, N, V, dtype=torch.bool)
    mask[0, :, 3:] = False  # 3 allowed tokens per node
    dist = GraphActionDistribution(logits, mask)
    expected = N * torch.log(torch.tensor(1 / 3))
    assert torch.allclose(dist.log_prob(torch.zeros(1, N, dtype=torch.long)), expected.reshape(1))
