"""Command-line entry points: `python -m train.scheduled_sampling`, `python -m train.evaluate`."""
