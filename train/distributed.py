"""Data-parallel training under `torchrun`: each process steps its own environments, gradients are
averaged with DistributedDataParallel (gloo on CPU, NCCL on GPU).

    torchrun --nproc_per_node 2 -m train.dagger --num-envs 32            # 2 processes, 64 envs in all
    torchrun --nnodes 2 --node_rank R --master_addr HOST --master_port 29500 --nproc_per_node 8 \\
        -m train.scheduled_sampling --batch-size 32                        # 2 machines, 8 processes each

Without `torchrun` (no `WORLD_SIZE` in the environment) nothing changes: one process, no wrapper.
Every process builds the same model from the same seed (DDP also broadcasts rank 0's weights), draws
its episodes from seeds offset by its rank, and only rank 0 writes checkpoints, logs and reports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn

RANK_SEED_STRIDE = 7919
"""Added to the training seed once per rank, so that ranks draw different episodes."""


@dataclass(frozen=True)
class Distributed:
    """This process's place in the run: `rank` of `world_size` (1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    _wrapped: list = field(default_factory=list, repr=False, compare=False)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def seed(self, seed: int) -> int:
        """The training seed of this rank (rank 0 keeps `seed`, so one process runs as before)."""
        return seed + RANK_SEED_STRIDE * self.rank

    def device(self, requested: str | None) -> torch.device:
        """`requested`, else CUDA (this process's GPU under torchrun) when available, else CPU."""
        if requested:
            return torch.device(requested)
        if torch.cuda.is_available():
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """The module to train: `model` itself, or DDP around it when distributed. Unused parameters
        are allowed: the imitation losses never touch the value head."""
        if not self.enabled:
            return model
        ids = [device.index] if device.type == "cuda" else None
        wrapped = nn.parallel.DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)
        self._wrapped.append(wrapped)
        return wrapped

    def mean(self, value: float) -> float:
        """The mean of `value` over all processes (for logging one figure per step)."""
        if not self.enabled:
            return value
        tensor = torch.tensor([float(value)], dtype=torch.float64)
        dist.all_reduce(tensor)
        return float(tensor.item()) / self.world_size

    def close(self) -> None:
        """Leave the process group, after every process has finished its work.

        The DDP wrappers' reducers are freed first, while the process group is still registered:
        left to the end of the process, the last reducer would destroy the gloo process group
        while holding the GIL, and the group's destructor waits for its worker thread, which may
        need the GIL to free a finished all-reduce: a hang at exit, in about 2 runs of 5 here
        (PyTorch issues 56297 and 75097)."""
        if not (self.enabled and dist.is_initialized()):
            return
        dist.barrier()
        for wrapped in self._wrapped:
            for name in ("logger", "reducer"):  # the logger holds the reducer too
                if hasattr(wrapped, name):
                    delattr(wrapped, name)
        self._wrapped.clear()
        dist.destroy_process_group()


def setup() -> Distributed:
    """Join the process group when started by `torchrun` (it sets `WORLD_SIZE`, `RANK`,
    `LOCAL_RANK` and the rendezvous address); otherwise a single-process `Distributed`."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend)
    return Distributed(rank, world_size, local_rank)
