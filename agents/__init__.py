"""Agents for ProgramRefine-v0: the graph network, batching, trainers and the refinement loop."""

from .nn.network import ModelConfig, NetOutput, RefineNet

__all__ = ["ModelConfig", "NetOutput", "RefineNet"]
