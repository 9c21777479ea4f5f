"""Masked categorical distributions over per-node tokens: the one place where grammar masks apply.

Every trainer, every decoding and the evaluation build one of these from the network's raw logits
and the observation's masks. Disallowed entries are filled with a large *finite* negative number,
never `-inf`: a fully masked row (a padded node) then stays finite, so entropies, KL terms and PPO
probability ratios never turn into NaN (the same choice as sb3-contrib's `MaskableCategorical`).

- `MaskedNodeCategorical`: `rewrite` mode, one token per node, `[B, N, V]`; `log_prob` and
  `entropy` are summed over the real nodes (a rewrite action is the joint choice of all of them).
- `MaskedFlatCategorical`: `edit` mode, one `(node, token)` pair per step over `[B, N * V]`,
  under `edit_mask` (the env's edit-mode `action_masks()`: no node's current token, so every
  allowed edit changes the program), on `edit_scores` (each edit against keeping the node).
"""

from __future__ import annotations

import torch

MASK_FILL = -1e8
"""Logit given to disallowed tokens: exp() underflows to exactly 0, and it stays finite."""


def edit_mask(grammar_mask: torch.Tensor, tokens: torch.Tensor, node_mask: torch.Tensor) -> torch.Tensor:
    """`edit` mode's allowed `(node, token)` pairs from an observation: the grammar mask of the real
    nodes without each node's current token (an edit that changes nothing is not one), and where
    that leaves nothing, the env's stop (the root's current token) alone. The same rule as
    `progrefine_env.env.edit_mask`, so this is exactly the env's `action_masks()`.

    Shapes: grammar_mask [B, N, V]; tokens, node_mask [B, N] (any dtype: SB3 hands floats);
    returns bool [B, N, V].
    """
    current = torch.zeros(grammar_mask.shape, dtype=torch.bool, device=grammar_mask.device)
    current.scatter_(-1, tokens.long().unsqueeze(-1), True)
    allowed = grammar_mask.bool() & node_mask.bool().unsqueeze(-1) & ~current
    empty = ~allowed.flatten(1).any(1)
    stop = torch.zeros_like(allowed)
    stop[:, 0] = current[:, 0] & empty.unsqueeze(-1)
    return allowed | stop


HOLE_LOG_PROB = -30.0
"""In `edit_scores`, the log-probability given to keeping a hole (a `<mask>` node, or any node whose
current token lies outside its grammar mask): a program with a hole never passes, so filling one
scores as if keeping it were that unlikely, and holes are filled before settled nodes are changed."""


def edit_scores(
    logits: torch.Tensor, grammar_mask: torch.Tensor, tokens: torch.Tensor, node_mask: torch.Tensor
) -> torch.Tensor:
    """`edit` mode's logits: how much the network prefers each edit to what the node holds now,
    `log p(token | node) - log p(current | node)` (per-node softmaxes under the grammar mask; for
    a hole, `HOLE_LOG_PROB` stands for its current token). Taken as the logits of one categorical
    over `(node, token)` pairs under `edit_mask`, they let a network trained on per-node tokens
    (a rewrite-mode checkpoint) edit: raw logits compare badly across nodes (a settled node's
    second choice can outscore a hole's first), so greedy edits oscillated on settled nodes while
    holes stayed open (issue 23: 0 of 60 generated test tasks solved at corruption 0.25, against 17
    with these scores and 15 in rewrite mode).

    Shapes: logits, grammar_mask [B, N, V]; tokens, node_mask [B, N]; returns [B, N, V] (entries
    outside `edit_mask` are finite and meaningless: mask them).
    """
    allowed = grammar_mask.bool()
    per_node = _masked_log_softmax(logits, allowed, 1.0)
    current = tokens.long().clamp(0, logits.shape[-1] - 1).unsqueeze(-1)
    grammatical = allowed.gather(-1, current)
    kept = torch.where(grammatical, per_node.gather(-1, current), torch.full_like(per_node[..., :1], HOLE_LOG_PROB))
    return per_node - kept


def _masked_log_softmax(logits: torch.Tensor, mask: torch.Tensor, temperature: float) -> torch.Tensor:
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    scaled = logits.float() / temperature if temperature != 1.0 else logits.float()
    return torch.log_softmax(scaled.masked_fill(~mask.bool(), MASK_FILL), dim=-1)


def _gumbel_argmax(log_probs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One draw per row along the last axis (Gumbel-max: argmax of log p + Gumbel noise)."""
    device = generator.device if generator is not None else log_probs.device
    uniform = torch.rand(log_probs.shape, generator=generator, device=device).to(log_probs.device).clamp_(1e-20, 1.0)
    return (log_probs - torch.log(-torch.log(uniform))).argmax(dim=-1)


LOG_PROB_FLOOR = -87.0
"""Below this, `probabilities` gives exactly 0: e**-87 is the smallest power of e that is a normal
float32, and CPU `exp` of anything that underflows (a masked entry's log-probability near
`MASK_FILL`, or -inf) runs 50-170x slower than of a normal input (measured on this machine, torch
2.13, issue 27); masked entries were a large share of every PPO minibatch's entropy."""


def probabilities(log_probs: torch.Tensor) -> torch.Tensor:
    """`log_probs.exp()`, with entries below `LOG_PROB_FLOOR` (masked ones among them) exactly 0."""
    above = log_probs > LOG_PROB_FLOOR
    return torch.where(above, log_probs.clamp(min=LOG_PROB_FLOOR).exp(), torch.zeros_like(log_probs))


def _entropy(log_probs: torch.Tensor) -> torch.Tensor:
    """Row entropies; masked entries have probability exactly 0 and add nothing."""
    return -(probabilities(log_probs) * log_probs).sum(-1)


class MaskedNodeCategorical:
    """Independent categoricals, one per node, restricted to each node's allowed tokens.

    Args:
        logits: raw per-node logits.
        mask: allowed tokens (bool or 0/1). A node with no allowed token gets a uniform
            distribution over all tokens (finite, but such a node should be a padded one).
        node_mask: real nodes; `log_prob` and `entropy` sum over these only (default: all).
        temperature: logits are divided by it before normalising (< 1 sharpens).

    Shapes:
        logits, mask: [B, N, V]; node_mask: [B, N]; actions: [B, N];
        `log_prob`, `entropy`: [B]; `node_log_prob`, `sample`, `mode`: [B, N].
    """

    def __init__(
        self,
        logits: torch.Tensor,
        mask: torch.Tensor,
        node_mask: torch.Tensor | None = None,
        temperature: float = 1.0,
    ) -> None:
        self.mask = mask.bool()
        self.log_probs = _masked_log_softmax(logits, self.mask, temperature)
        self.node_mask = torch.ones(logits.shape[:2], device=logits.device) if node_mask is None else node_mask.float()

    @property
    def probs(self) -> torch.Tensor:
        return probabilities(self.log_probs)

    def node_log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """Log-probability of each node's token (padded nodes included, unweighted)."""
        return self.log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        return (self.node_log_prob(actions) * self.node_mask).sum(-1)

    def entropy(self) -> torch.Tensor:
        return (_entropy(self.log_probs) * self.node_mask).sum(-1)

    def mode(self) -> torch.Tensor:
        return self.log_probs.argmax(-1)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        return _gumbel_argmax(self.log_probs, generator)


class MaskedFlatCategorical:
    """One categorical over every `(node, token)` pair: action `node * V + token` (`edit` mode).

    Args:
        logits: raw per-node logits, flattened node-major.
        mask: allowed pairs (the env's `action_masks()` layout).
        temperature: as in `MaskedNodeCategorical`.

    Shapes:
        logits, mask: [B, N, V] or [B, N * V]; actions: [B]; `log_prob`, `entropy`, `sample`,
        `mode`: [B].
    """

    def __init__(self, logits: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> None:
        self.mask = mask.bool().flatten(1)
        self.log_probs = _masked_log_softmax(logits.flatten(1), self.mask, temperature)

    @property
    def probs(self) -> torch.Tensor:
        return probabilities(self.log_probs)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        return self.log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        return _entropy(self.log_probs)

    def mode(self) -> torch.Tensor:
        return self.log_probs.argmax(-1)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        return _gumbel_argmax(self.log_probs, generator)
