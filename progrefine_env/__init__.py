"""ProgRefine: a Gymnasium environment for repairing programs from their tests.

    import gymnasium as gym
    import progrefine_env  # registers ProgramRefine-v0
    env = gym.make("ProgramRefine-v0")
"""

from gymnasium.envs.registration import register

from .lang import VOCAB, VOCAB_SIZE, evaluate, grammar_masks, parse, unparse

__version__ = "0.1.0"

register(id="ProgramRefine-v0", entry_point="progrefine_env.env:ProgramRefineEnv")

__all__ = ["VOCAB", "VOCAB_SIZE", "evaluate", "grammar_masks", "parse", "unparse", "__version__"]
