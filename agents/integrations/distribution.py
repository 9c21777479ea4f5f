"""Our masked categoricals behind the `torch.distributions.Distribution` interface, which TorchRL's
`ProbabilisticActor` and Tianshou's policies (`dist_fn`) build and call: `sample`, `log_prob`,
`entropy`, `mode`. The masking itself is `agents.nn.distribution`'s (a masked action has probability
exactly 0); this class only reshapes any leading batch shape and reads the mode off the mask.
"""

from __future__ import annotations

import torch

from agents.nn.distribution import MaskedFlatCategorical, MaskedNodeCategorical


class GraphActionDistribution(torch.distributions.Distribution):
    """Our masked categoricals as a `torch.distributions.Distribution`, built from the network's
    `logits` and the mask in `ActionMaskObservation(layout="auto")`'s layout; any leading batch shape.

    Args:
        logits: raw per-node logits.
        action_mask: allowed actions: per node in `rewrite` mode, flat in `edit` mode (the mode is
            read off the mask's number of axes).

    Shapes:
        logits: [..., N, V]; action_mask: [..., N, V] (`rewrite`) or [..., N * V] (`edit`);
        actions: [..., N] (`rewrite`) or [...] (`edit`); `log_prob`, `entropy`: [...].
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, logits: torch.Tensor, action_mask: torch.Tensor) -> None:
        self.edit = action_mask.dim() == logits.dim() - 1
        batch_shape = logits.shape[:-2]
        flat_logits = logits.reshape(-1, *logits.shape[-2:])
        if self.edit:
            self.dist = MaskedFlatCategorical(flat_logits, action_mask.reshape(-1, action_mask.shape[-1]))
        else:
            self.dist = MaskedNodeCategorical(flat_logits, action_mask.reshape(flat_logits.shape))
        self.event = () if self.edit else logits.shape[-2:-1]
        super().__init__(batch_shape=batch_shape, event_shape=torch.Size(self.event), validate_args=False)

    def _shaped(self, actions: torch.Tensor) -> torch.Tensor:
        return actions.reshape((*self.batch_shape, *self.event))

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:  # noqa: B008
        if sample_shape:
            raise NotImplementedError("one sample per observation")
        return self._shaped(self.dist.sample())

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        flat = value.reshape(-1) if self.edit else value.reshape(-1, value.shape[-1])
        return self.dist.log_prob(flat).reshape(self.batch_shape)

    def entropy(self) -> torch.Tensor:
        return self.dist.entropy().reshape(self.batch_shape)

    @property
    def mode(self) -> torch.Tensor:
        return self._shaped(self.dist.mode())

    @property
    def deterministic_sample(self) -> torch.Tensor:
        return self.mode
