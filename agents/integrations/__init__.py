"""Adapters that let third-party RL libraries train our graph network (`agents.network.RefineNet`).

Each module imports its library at the top, so import only the one you have installed:
`agents.integrations.rllib_module` (Ray RLlib). The TorchRL, Tianshou and CleanRL-style examples
in `examples/` need no adapter beyond `agents.policy.action_distribution`.
"""
