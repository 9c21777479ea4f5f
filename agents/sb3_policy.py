"""Kept at this path for saved models: Stable-Baselines3 pickles the policy class by its module path
(`agents.sb3_policy.MaskableGraphPolicy`) into every saved zip, and `PPO.load` / `MaskablePPO.load`
import it from there. The code is `agents.integrations.sb3_policy`; new code should import that."""

from agents.integrations.sb3_policy import *  # noqa: F403
