"""Adapters that let third-party RL libraries train our graph network (`agents.nn.network.RefineNet`).

- `agents.integrations.sb3_policy`: the network as a Stable-Baselines3 / sb3-contrib policy
  (imports both; `agents.sb3_policy` re-exports it for models saved before it moved here).
- `agents.integrations.rllib_module`: an RLlib RLModule (imports ray; install `progrefine[rllib]`).
- `agents.integrations.distribution`: our masked categoricals as a `torch.distributions`
  distribution (no third-party import), used by the TorchRL and Tianshou examples.
"""
