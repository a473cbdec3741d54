"""Data-parallel training under torchrun: one process per device, one run directory, rank 0 writes.

`torchrun --nproc_per_node=N -m seq2seq.train ...` starts N copies of the Hydra app. Each builds the
same model from the same seed, trains on its own share of every epoch's batches, and
DistributedDataParallel averages the gradients, so the replicas stay identical. Validation runs
on every rank (identical weights give identical decisions, no messages needed); only rank 0 writes
logs, checkpoints and results.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn

T = TypeVar("T")


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: torch.device) -> Distributed:
    """Join the process group torchrun describes in the environment (a no-op for a single process)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def shard(batches: list[T], distributed: Distributed) -> list[T]:
    """This rank's share of an epoch's batches; every rank gets the same count, so no rank waits alone.

    When the batches do not divide evenly, the list is padded with its first batches (as torch's
    DistributedSampler pads with its first samples): every batch is trained on, and a few of them twice.
    """
    world = distributed.world_size
    padding = -len(batches) % world
    padded = batches + batches[:padding]
    return padded[distributed.rank :: world]


def wrap(model: nn.Module, distributed: Distributed, device: torch.device) -> nn.Module:
    """The module to train: DistributedDataParallel around the model when several processes train."""
    if not distributed.enabled:
        return model
    return nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def parameters_checksum(model: nn.Module) -> str:
    """sha256 of every parameter's bytes: equal on all ranks iff the replicas are identical."""
    digest = hashlib.sha256()
    for name, parameter in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(parameter.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def gather_checksums(model: nn.Module, distributed: Distributed) -> list[str]:
    """Every rank's parameter checksum, in rank order."""
    checksum = parameters_checksum(model)
    if not distributed.enabled:
        return [checksum]
    gathered: list[str] = [""] * distributed.world_size
    dist.all_gather_object(gathered, checksum)
    return gathered


def teardown(distributed: Distributed) -> None:
    if distributed.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
