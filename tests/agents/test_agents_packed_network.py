"""The packed forward path (issue 27): real node and test slots only, the value encoder's last
Linear after the mean, relation embeddings as one `embedding_bag`. It must give the padded
reference path's outputs (the shipped checkpoint's logits within 1e-5) and gradients, and the
trainers' cropped minibatches the same losses as padded ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from repo_root import ROOT

pytest.importorskip("torch_geometric")
from agents.acting.policy import action_distribution  # noqa: E402
from agents.nn.batching import crop_padding, stack_observations, to_tensors  # noqa: E402
from agents.nn.checkpoint import load_checkpoint  # noqa: E402
from agents.nn.distribution import LOG_PROB_FLOOR, MASK_FILL, MaskedFlatCategorical, probabilities  # noqa: E402
from agents.nn.network import ModelConfig, RefineNet  # noqa: E402
from agents.training.losses import distribution_kl  # noqa: E402
from agents.training.policy_gradient import _crop_log_probs  # noqa: E402
from progrefine_env.env import ProgramRefineEnv  # noqa: E402
from progrefine_env.tasks.generator import generate_tasks  # noqa: E402

SHIPPED = ROOT / "checkpoints" / "scheduled_sampling.pt"


def batch(mode: str, count: int = 24, action_mode: str = "rewrite") -> dict[str, torch.Tensor]:
    env = ProgramRefineEnv(
        tasks=generate_tasks(16, seed=3), corruption=(0.25, 1.0), corruption_mode=mode, max_nodes=64,
        action_mode=action_mode,
    )  # fmt: skip
    return to_tensors(stack_observations([env.reset(seed=s)[0] for s in range(count)]))


def both_paths(model: RefineNet, obs: dict[str, torch.Tensor]):
    model.backbone.packed = False
    reference = model(obs)
    model.backbone.packed = True
    return model(obs), reference


@pytest.mark.parametrize("mode", ["mask", "noise"])
def test_shipped_checkpoint_gives_the_reference_logits(mode):
    model = load_checkpoint(SHIPPED, "cpu")[0].eval()
    obs = batch(mode)
    with torch.no_grad():
        packed, reference = both_paths(model, obs)
    real = obs["node_mask"].bool()
    assert real.sum(1).max() < real.shape[1]  # the batch has padding to skip
    torch.testing.assert_close(packed.logits[real], reference.logits[real], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(packed.nodes[real], reference.nodes[real], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(packed.value, reference.value, atol=1e-5, rtol=1e-5)


def test_gradients_match_the_reference_path():
    torch.manual_seed(0)
    model = RefineNet(ModelConfig(hidden=32, layers=2))
    obs = batch("mask", count=8)
    grads = []
    for packed in (True, False):
        model.zero_grad()
        model.backbone.packed = packed
        out = model(obs)
        dist = action_distribution(out.logits, obs, "rewrite")
        (dist.entropy().mean() + out.value.pow(2).mean()).backward()
        grads.append({name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], atol=1e-5, rtol=1e-4, msg=name)


def test_a_program_with_no_tests_gets_no_test_feedback():
    torch.manual_seed(0)
    model = RefineNet(ModelConfig(hidden=16, layers=1)).eval()
    obs = batch("mask", count=3)
    obs["test_mask"][1] = 0  # one program whose tests are all padding
    with torch.no_grad():
        packed, reference = both_paths(model, obs)
    real = obs["node_mask"].bool()
    torch.testing.assert_close(packed.logits[real], reference.logits[real], atol=1e-5, rtol=1e-5)


def test_crop_keeps_every_real_slot_and_skips_non_prefix_masks():
    obs = batch("mask", count=6)
    cropped, kept = crop_padding(obs)
    assert kept == int(obs["node_mask"].sum(1).max())
    assert cropped["node_values"].shape[1:3] == (kept, int(obs["test_mask"].sum(1).max()))
    assert cropped["node_mask"].sum() == obs["node_mask"].sum()
    assert torch.equal(cropped["edge_index"], obs["edge_index"])
    holes = dict(obs)
    holes["node_mask"] = obs["node_mask"].clone()
    holes["node_mask"][0, 0] = 0  # not a prefix: nothing may be cut
    whole, slots = crop_padding(holes)
    assert slots == obs["tokens"].shape[1] and whole["tokens"].shape == obs["tokens"].shape


def test_probabilities_are_exp_with_masked_entries_exactly_zero():
    log_probs = torch.tensor([[0.0, -1.0, -50.0, LOG_PROB_FLOOR - 1.0, MASK_FILL, float("-inf")]])
    probs = probabilities(log_probs)
    torch.testing.assert_close(probs[0, :3], log_probs[0, :3].exp())
    assert (probs[0, 3:] == 0).all()


def test_cropped_minibatch_gives_the_padded_log_probs_entropy_and_kl():
    torch.manual_seed(0)
    model = RefineNet(ModelConfig(hidden=16, layers=1)).eval()
    obs = batch("mask", count=6, action_mode="edit")
    reference_model = RefineNet(ModelConfig(hidden=16, layers=1)).eval()
    with torch.no_grad():
        full = action_distribution(model(obs).logits, obs, "edit")
        reference_log_probs = action_distribution(reference_model(obs).logits, obs, "edit").log_probs
        actions = full.sample(torch.Generator().manual_seed(0))
        cropped_obs, kept = crop_padding(obs)
        cropped = action_distribution(model(cropped_obs).logits, cropped_obs, "edit")
    assert isinstance(cropped, MaskedFlatCategorical) and kept < obs["tokens"].shape[1]
    torch.testing.assert_close(cropped.log_prob(actions), full.log_prob(actions))
    torch.testing.assert_close(cropped.entropy(), full.entropy())
    torch.testing.assert_close(
        distribution_kl(cropped, _crop_log_probs(reference_log_probs, cropped)),
        distribution_kl(full, reference_log_probs),
    )
    assert np.isfinite(cropped.entropy().numpy()).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the CUDA path runs only where a GPU is present")
def test_cuda_path_gives_the_cpu_outputs_and_trains():
    obs = batch("mask", count=8)
    model = load_checkpoint(SHIPPED, "cpu")[0].eval()
    gpu_model = load_checkpoint(SHIPPED, "cuda")[0].eval()
    gpu_obs = {key: value.cuda() for key, value in obs.items()}
    with torch.no_grad():
        cpu_out, gpu_out = model(obs), gpu_model(gpu_obs)
    real = obs["node_mask"].bool()
    torch.testing.assert_close(gpu_out.logits.cpu()[real], cpu_out.logits[real], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(gpu_out.value.cpu(), cpu_out.value, atol=1e-4, rtol=1e-4)
    gpu_model.train()
    out = gpu_model(gpu_obs)
    dist = action_distribution(out.logits, gpu_obs, "rewrite")
    (dist.entropy().mean() + out.value.pow(2).mean()).backward()
    assert all(p.grad is None or bool(torch.isfinite(p.grad).all()) for p in gpu_model.parameters())
