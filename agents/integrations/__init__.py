"""Adapters that let third-party RL libraries train our graph network (`agents.nn.network.RefineNet`).

- `agents.integrations.rllib_module`: an RLlib RLModule (imports ray; install `progrefine[rllib]`).
- `agents.integrations.distribution`: our masked categoricals as a `torch.distributions`
  distribution (no third-party import), used by the TorchRL and Tianshou examples.
"""
