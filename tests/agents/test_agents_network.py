"""The graph network and its batching: shapes, batching equivalence, permutation equivariance,
grammar masks respected."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")
from env_tasks import PAIR  # noqa: E402
from torch_geometric.data import Batch, Data  # noqa: E402

from agents import ModelConfig, RefineNet  # noqa: E402
from agents.nn.batching import flatten_observation, stack_observations, to_tensors  # noqa: E402
from agents.nn.distribution import MaskedNodeCategorical  # noqa: E402
from progrefine_env.env import ProgramRefineEnv  # noqa: E402
from progrefine_env.lang import VOCAB_SIZE  # noqa: E402

TASKS = PAIR


def observations(count: int, corruption=0.5, max_nodes=16) -> dict[str, np.ndarray]:
    env = ProgramRefineEnv(tasks=TASKS, corruption=corruption, max_nodes=max_nodes)
    return stack_observations([env.reset(seed=s)[0] for s in range(count)])


def test_flattened_edges_equal_pyg_batch_from_data_list():
    obs = observations(5)
    flat = flatten_observation(to_tensors(obs))
    graphs = []
    for b in range(5):
        keep = obs["edge_mask"][b].astype(bool)
        graphs.append(
            Data(
                edge_index=torch.as_tensor(obs["edge_index"][b][:, keep]),
                edge_type=torch.as_tensor(obs["edge_type"][b][keep]),
                num_nodes=obs["tokens"].shape[1],
            )
        )
    reference = Batch.from_data_list(graphs)
    assert torch.equal(flat.edge_index, reference.edge_index)
    assert torch.equal(flat.edge_type, reference.edge_type)
    assert torch.equal(flat.batch, reference.batch)


def test_output_shapes():
    obs = to_tensors(observations(3))
    out = RefineNet(ModelConfig(hidden=32, layers=2))(obs)
    assert out.logits.shape == (3, 16, VOCAB_SIZE)
    assert out.value.shape == (3,)
    assert out.nodes.shape == (3, 16, 32)


def test_batched_output_equals_one_graph_at_a_time():
    torch.manual_seed(0)
    model = RefineNet(ModelConfig(hidden=32, layers=2)).eval()
    obs = to_tensors(observations(4))
    together = model(obs)
    for b in range(4):
        alone = model({k: v[b : b + 1] for k, v in obs.items()})
        real = obs["node_mask"][b : b + 1].bool()  # padded slots' logits are unspecified (every mask ignores them)
        assert torch.allclose(together.logits[b : b + 1][real], alone.logits[real], atol=1e-5)
        assert torch.allclose(together.value[b], alone.value[0], atol=1e-5)


def permute(obs: dict[str, torch.Tensor], perm: torch.Tensor) -> dict[str, torch.Tensor]:
    """Reorder node slots by `perm` (new slot i holds old node perm[i]) and remap edges."""
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(len(perm))
    out = dict(obs)
    for key in ("tokens", "prev_tokens", "node_mask", "masked", "arity", "depth", "position", "expected_type",
                "type_conflict", "node_failure", "node_suspicion", "node_values", "grammar_mask"):  # fmt: skip
        out[key] = obs[key][:, perm]
    out["edge_index"] = inverse[obs["edge_index"]]
    return out


def test_permutation_equivariance():
    torch.manual_seed(0)
    model = RefineNet(ModelConfig(hidden=32, layers=3)).eval()
    obs = to_tensors(observations(2))
    perm = torch.randperm(obs["tokens"].shape[1], generator=torch.Generator().manual_seed(1))
    original, permuted = model(obs), model(permute(obs, perm))
    real = obs["node_mask"][:, perm].bool()  # padded slots' logits are unspecified (every mask ignores them)
    assert torch.allclose(original.logits[:, perm][real], permuted.logits[real], atol=1e-5)
    assert torch.allclose(original.value, permuted.value, atol=1e-5)


def test_tokens_outside_the_grammar_mask_are_never_predicted():
    torch.manual_seed(0)
    model = RefineNet(ModelConfig(hidden=32, layers=2))
    with torch.no_grad():  # a head biased hard towards one token that is rarely allowed
        model.token_head[-1].bias.fill_(0.0)
        model.token_head[-1].bias[3] = 100.0
    obs = to_tensors(observations(6, corruption=1.0))
    dist = MaskedNodeCategorical(model(obs).logits, obs["grammar_mask"], obs["node_mask"])
    tokens = dist.mode()
    allowed = obs["grammar_mask"].gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    assert bool(allowed.all())
    assert (dist.probs[~obs["grammar_mask"].bool()] == 0).all()


def test_value_relations_are_bucketed_exactly():
    from agents.nn.encoder import _bucket

    values = torch.tensor([-21.0, -20.0, 0.0, 3.0, 20.0, 21.0])
    valid = torch.tensor([True, True, True, False, True, True])
    assert _bucket(values, 20, valid).tolist() == [41, 0, 20, 41, 40, 41]


def test_the_encoder_tells_apart_outputs_that_differ_by_one():
    """A node valued 4 against expected outputs 7 and 8: the difference embeddings must differ."""
    torch.manual_seed(0)
    model = RefineNet(ModelConfig(hidden=16, layers=1)).eval()
    obs = to_tensors(observations(1))
    obs["node_values"] = torch.zeros_like(obs["node_values"])
    obs["node_values"][0, 0, :, :6] = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.4, 0.04])
    shifted = {k: v.clone() for k, v in obs.items()}
    obs["expected_output"][0, :, :6] = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.7, 0.07])
    shifted["expected_output"][0, :, :6] = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.8, 0.08])
    relations = model.backbone.encoder._relations
    a = relations(obs["node_values"].float(), obs["expected_output"].float().unsqueeze(1).expand_as(obs["node_values"]))
    b = relations(
        shifted["node_values"].float(), shifted["expected_output"].float().unsqueeze(1).expand_as(obs["node_values"])
    )
    assert not torch.allclose(a[0, 0, 0], b[0, 0, 0])
    assert torch.allclose(a[0, 1:], b[0, 1:])  # nodes without values see no difference


def test_round_input_needs_the_round_and_reads_it():
    obs = {**observations(2), "round": np.ones(2, dtype=np.int64)}
    torch.manual_seed(0)
    with_round = RefineNet(ModelConfig(hidden=16, layers=1, round_input=True)).eval()
    tensors = to_tensors(obs)
    later = {**tensors, "round": tensors["round"] + 3}
    finite = torch.isfinite(with_round(tensors).logits)
    assert not torch.allclose(with_round(tensors).logits[finite], with_round(later).logits[finite])
    without = RefineNet(ModelConfig(hidden=16, layers=1)).eval()
    assert torch.equal(without(tensors).logits, without(later).logits)
    with pytest.raises(KeyError, match="round"):
        with_round({k: v for k, v in tensors.items() if k != "round"})


def test_building_the_network_leaves_nothing_in_the_temp_folder(tmp_path):
    """PyG writes a generated `propagate` module into the temp folder and never removes it: when a
    layer is built, and again when one is unpickled in a new process. Ours go to a private folder
    removed at exit (issue 12: nothing left behind), also from forked workers."""
    import os
    import subprocess
    import sys

    from repo_root import ROOT

    temp = tmp_path / "temp"
    temp.mkdir()
    pickled = tmp_path / "net.pt"
    build = (
        "import multiprocessing as mp, torch\n"
        "from agents import ModelConfig, RefineNet\n"
        "def child(): RefineNet(ModelConfig(hidden=8, layers=1))\n"
        "if __name__ == '__main__':\n"
        "    p = mp.get_context('fork').Process(target=child); p.start(); p.join()\n"  # forked first
        f"    torch.save(RefineNet(ModelConfig(hidden=8, layers=1)), {str(pickled)!r})\n"
    )
    load = f"import torch; torch.load({str(pickled)!r}, weights_only=False)"  # unpickled in a new process
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(ROOT)}
    for code in (build, load):
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
        assert not list(temp.iterdir())
