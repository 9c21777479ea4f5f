"""Fine-tune (or train from scratch) the refinement network with REINFORCE and the value head as a
learned baseline: `python -m train.ppo --algo reinforce`, under its own name and run folder.

    python -m train.reinforce --init checkpoints/scheduled_sampling.pt --total-steps 20000
    python -m train.reinforce --help        # every option, as train.ppo's
"""

from __future__ import annotations

from train.ppo import main

if __name__ == "__main__":
    raise SystemExit(main(algo="reinforce"))
