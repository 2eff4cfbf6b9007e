"""Data-parallel training under ``torchrun``: one process per device, gradients averaged by DDP.

``torchrun --nproc_per_node=N -m gan_demo train ...`` sets WORLD_SIZE/RANK/LOCAL_RANK; without
them everything here is a no-op and the trainer runs as one process. Each rank draws its own
shard of every epoch's shuffled order (what ``DistributedSampler`` does, without a DataLoader:
the data sets live in memory as one tensor) and its own noise; DDP averages the gradients, so
all ranks hold identical weights after every step. Only rank 0 writes files and shows progress.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def shard(self, order: torch.Tensor) -> torch.Tensor:
        """This rank's part of an epoch's order: every world-th index from its rank, equal lengths."""
        usable = len(order) - len(order) % self.world
        return order[self.rank:usable:self.world]

    def wrap(self, net: nn.Module, device: torch.device) -> nn.Module:
        if not self.enabled:
            return net
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(net, device_ids=ids)

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


def setup(device_name: str = "auto") -> tuple[Dist, str]:
    """Join the process group torchrun describes; returns it and the device this rank should use."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(), device_name
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() and device_name in ("auto", "cuda") or device_name.startswith("cuda")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    if cuda:
        torch.cuda.set_device(local)
        return Dist(rank, world, local), f"cuda:{local}"
    return Dist(rank, world, local), "cpu"
