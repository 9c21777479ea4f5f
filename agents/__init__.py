"""Agents for ProgramRefine-v0, by role; imports go one way, each folder using only those before it:

- `agents.nn`: the graph network (`RefineNet`), its layers, batching, masked distributions, checkpoints.
- `agents.acting`: a policy over the network, the decodings (best-of-k, the sketch search, ...),
  the rollout loop and the refinement loop with its report.
- `agents.training`: the trainers (scheduled sampling, DAgger, PPO / REINFORCE, improvement) and
  their losses and updates.
- `agents.integrations`: the network in Stable-Baselines3, RLlib, TorchRL and Tianshou.
"""

from .nn.checkpoint import load_checkpoint, save_checkpoint
from .nn.network import ModelConfig, NetOutput, RefineNet

__all__ = ["ModelConfig", "NetOutput", "RefineNet", "load_checkpoint", "save_checkpoint"]
