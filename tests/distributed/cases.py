"""What the multi-process tests run, importable both by the MPI workers and by the single-process references."""

from __future__ import annotations

import numpy as np
from tapegrad.autograd import Tensor, manual_seed
from tapegrad.nn.data import DataLoader, DistributedSampler, TensorDataset

from tapegrad import nn

IMAGE = (2, 8, 8)
CLASSES = 3


def model(seed: int, sync_bn: bool) -> nn.Module:
    """A small CNN; with ``sync_bn`` it normalises (BatchNorm2d, converted to SyncBatchNorm by the caller)."""
    manual_seed(seed)
    layers = [nn.Conv2d(IMAGE[0], 4, 3, padding=1)]
    if sync_bn:
        layers.append(nn.BatchNorm2d(4))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, CLASSES)]
    return nn.Sequential(*layers)


def arrays(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.standard_normal((n, *IMAGE)).astype(np.float32), rng.integers(0, CLASSES, n)


def dataset(n: int) -> TensorDataset:
    x, y = arrays(n)
    return TensorDataset(Tensor(x), Tensor(y))


def accumulate(net: nn.Module, opt: nn.optim.Optimizer, batches: list, every: int, no_sync=None) -> None:
    """One optimizer step per ``every`` batches, their gradients summed (inside ``no_sync`` but the last)."""
    from contextlib import nullcontext

    for start in range(0, len(batches), every):
        group = batches[start:start + every]
        opt.zero_grad()
        for j, (x, y) in enumerate(group):
            with no_sync() if no_sync is not None and j < len(group) - 1 else nullcontext():
                nn.functional.cross_entropy(net(x), y).backward()
        opt.step()


def optimizer(net: nn.Module) -> nn.optim.Optimizer:
    return nn.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)


def global_batches(data: TensorDataset, world: int, batch: int, epoch: int) -> list[np.ndarray]:
    """The indices each step of a ``world``-rank run covers, all ranks together (the single-process batch)."""
    shards = []
    for rank in range(world):
        sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=3)
        sampler.set_epoch(epoch)
        shards.append(sampler.indices())
    steps = -(-len(shards[0]) // batch)
    return [np.concatenate([s[i * batch:(i + 1) * batch] for s in shards]) for i in range(steps)]


def loader(data: TensorDataset, batch: int, sampler: DistributedSampler) -> DataLoader:
    return DataLoader(data, batch_size=batch, sampler=sampler)
