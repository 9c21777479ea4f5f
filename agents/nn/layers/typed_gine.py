"""GINE message passing over typed edges, with a residual connection."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import torch
from torch import nn
from torch_geometric.nn import GINEConv
from torch_geometric.nn.conv import message_passing


class TypedGINELayer(nn.Module):
    """One round of message passing: `h + GINE(h, edges, embed(edge_type))`, then LayerNorm.

    GINE (Hu et al. 2020, "Strategies for Pre-training GNNs") adds an edge embedding to each
    message; here the embedding is that of the edge's type (child, parent, sibling, binder), so
    one layer serves all edge types. NOTES.md: GINE was the fastest typed layer on CPU.

    Args:
        hidden: node width H.
        num_edge_types: number of edge types.

    Shapes:
        x: [num_nodes, H]; edge_index: [2, E]; edge_type: [E] -> [num_nodes, H].
    """

    def __init__(self, hidden: int, num_edge_types: int) -> None:
        super().__init__()
        self.edge_embedding = nn.Embedding(num_edge_types, hidden)
        mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.conv = GINEConv(mlp, train_eps=True)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_type: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.conv(x, edge_index, self.edge_embedding(edge_type)))


_PRIVATE_FOLDER: str | None = None


def _private_folder() -> str | None:
    """This process's folder for PyG's generated modules (made once, removed at exit; None if the
    temp folder cannot be written: PyG then fails or succeeds as it would have anyway)."""
    global _PRIVATE_FOLDER
    if _PRIVATE_FOLDER is None:
        try:
            _PRIVATE_FOLDER = tempfile.mkdtemp(prefix="progrefine-pyg-")
        except OSError:
            return None
        atexit.register(shutil.rmtree, _PRIVATE_FOLDER, ignore_errors=True)
    return _PRIVATE_FOLDER


def _route_pyg_templates_to_private_folder() -> None:
    """Have PyG write the `propagate` modules it generates into `_private_folder()`.

    Why: PyG (`torch_geometric.template.module_from_template`, called when a message-passing
    layer is built and again when one is unpickled in a new process) writes a
    `*_propagate_*.py` file into the temp folder and never deletes it, so every run of the demo,
    a trainer or an evaluation worker left files in /tmp (issue 12, "leaves nothing behind").
    The module is imported at once, so removing its file at exit is safe. The folder is made
    before a fork, so that forked workers (which exit without running `atexit`) write into the
    parent's folder, which the parent removes."""
    if getattr(message_passing.module_from_template, "_progrefine", False):
        return  # already routed (this module imported twice, e.g. reloaded)
    original = message_passing.module_from_template

    def module_from_template(*args, **kwargs):
        previous, tempfile.tempdir = tempfile.tempdir, _private_folder() or tempfile.tempdir
        try:
            return original(*args, **kwargs)
        finally:
            tempfile.tempdir = previous

    module_from_template._progrefine = True  # type: ignore[attr-defined]
    message_passing.module_from_template = module_from_template
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_private_folder)


_route_pyg_templates_to_private_folder()
