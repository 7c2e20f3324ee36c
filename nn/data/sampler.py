"""``DistributedSampler``: each rank's share of a data set, by torch's rule, so runs carry over from PyTorch.

The rule (``torch.utils.data.DistributedSampler``): one permutation of the whole data set per epoch, a function
of ``seed + epoch`` only (the identity without ``shuffle``), so every rank computes the same one without talking;
padded by repeating its head to a multiple of the world size (or, with ``drop_last``, truncated to one); rank r
takes every world-size-th index starting at r.  So with equal per-rank batches b, step s of N ranks together
covers exactly the samples of step s of one process at batch N * b over the same permutation.

The permutation is NumPy's (``default_rng(seed + epoch).permutation``), not torch's ``randperm``: the rule is
torch's, the random stream is tapegrad's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np


class Sampler:
    """Base class: an iterable of data-set indices with a length (``torch.utils.data.Sampler``)."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class DistributedSampler(Sampler):
    """This rank's indices of ``dataset`` for the current epoch (call ``set_epoch`` before each epoch).

    ``num_replicas`` and ``rank`` default to ``tapegrad.distributed``'s world size and rank.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            import tapegrad.distributed as dist

            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: give num_replicas and rank, or call "
                                   "tapegrad.distributed.init_process_group() first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if int(num_replicas) < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be at least 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = shuffle, int(seed), drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s permutation next (the same on every rank)."""
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an array."""
        n = len(self.dataset)
        order = np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else np.arange(n)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                order = np.concatenate([order, np.tile(order, math.ceil(pad / max(n, 1)))[:pad]])
        else:
            order = order[: self.total_size]
        return order[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(int(i) for i in self.indices())

    def __len__(self) -> int:
        return self.num_samples
