"""DAgger's aggregate: every labelled state visited so far, bounded in size."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

EVICTIONS = ("random", "oldest")


class AggregateDataset:
    """Labelled observations, at most `capacity` of them.

    Once full, each new state replaces the oldest one (`eviction="oldest"`, a ring buffer) or a
    uniformly random one (`"random"`, which keeps early states with decaying probability, closer to
    DAgger's ever-growing aggregate). Arrays are allocated on the first `add`.

    Args:
        capacity: the most states kept.
        eviction: "random" or "oldest".
    """

    def __init__(self, capacity: int, eviction: str = "random") -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        if eviction not in EVICTIONS:
            raise ValueError(f"eviction={eviction!r} is not one of {EVICTIONS}")
        self.capacity, self.eviction = capacity, eviction
        self.observations: dict[str, np.ndarray] = {}
        self.labels: np.ndarray | None = None
        self.size = 0
        self.added = 0  # states written (once full, the oldest one is at slot `added % capacity`)

    def __len__(self) -> int:
        return self.size

    def add(self, observations: Mapping[str, np.ndarray], labels: np.ndarray, rng: np.random.Generator) -> None:
        """Add a batch (arrays with a leading batch axis); `rng` chooses random evictions."""
        if len(labels) > self.capacity:  # only the last `capacity` states of the batch could stay
            observations = {k: v[-self.capacity :] for k, v in observations.items()}
            labels = labels[-self.capacity :]
        count = len(labels)
        if self.labels is None:
            self._allocate(observations, labels)
        slots = self._slots(count, rng)
        for key, array in self.observations.items():
            array[slots] = observations[key]
        self.labels[slots] = labels
        self.added += count

    def _allocate(self, observations: Mapping[str, np.ndarray], labels: np.ndarray) -> None:
        self.observations = {k: np.zeros((self.capacity, *v.shape[1:]), v.dtype) for k, v in observations.items()}
        self.labels = np.zeros((self.capacity, *labels.shape[1:]), labels.dtype)

    def _slots(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """Where `count` (<= capacity) new states go: free slots first, then evicted ones."""
        free = np.arange(self.size, min(self.size + count, self.capacity))
        self.size += len(free)
        rest = count - len(free)
        if rest == 0:
            return free
        if self.eviction == "oldest":
            evicted = (self.added + len(free) + np.arange(rest)) % self.capacity
        else:  # distinct slots, none of them just filled by this batch
            evicted = rng.choice(np.setdiff1d(np.arange(self.capacity), free), size=rest, replace=False)
        return np.concatenate([free, evicted]).astype(np.int64)

    def batch(self, indices: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        return {k: v[indices] for k, v in self.observations.items()}, self.labels[indices]

    def save(self, path: str | Path) -> None:
        """Write the kept states (uncompressed .npz; a resumed run reads them back exactly)."""
        arrays = {f"obs/{k}": v[: self.size] for k, v in self.observations.items()}
        if self.labels is not None:
            arrays["labels"] = self.labels[: self.size]
        np.savez(path, capacity=self.capacity, size=self.size, added=self.added, **arrays)

    @classmethod
    def load(cls, path: str | Path, eviction: str = "random") -> AggregateDataset:
        with np.load(path, allow_pickle=False) as data:
            dataset = cls(int(data["capacity"]), eviction)
            size = int(data["size"])
            if size:
                observations = {k[4:]: data[k] for k in data.files if k.startswith("obs/")}
                dataset._allocate(observations, data["labels"])
                for key, array in observations.items():
                    dataset.observations[key][:size] = array
                dataset.labels[:size] = data["labels"]
            dataset.size, dataset.added = size, int(data["added"])
        return dataset
