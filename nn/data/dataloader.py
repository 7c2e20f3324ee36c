"""``DataLoader``: batches of samples, shuffled reproducibly.

With a ``seed`` the order of epoch ``e`` is a pure function of ``(seed, e)``: a run resumed at epoch ``e``
(after ``set_epoch(e)``) sees exactly the batches an uninterrupted run would.  Without a seed it draws from
tapegrad's default generator, like PyTorch's loader draws from torch's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from tapegrad.autograd import Tensor
from tapegrad.autograd.random import default_generator

from .errors import DataError


def default_collate(samples: list[Any]) -> Any:
    """Stack a list of samples into a batch: arrays/tensors -> one Tensor, numbers -> an int64/float Tensor.

    Tuples (``(image, label)``) are collated field by field; dicts key by key.
    """
    first = samples[0]
    if isinstance(first, tuple | list):
        return type(first)(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, Tensor):
        return Tensor(np.stack([s.numpy() for s in samples]))
    if isinstance(first, bool | int | np.integer):
        return Tensor(np.asarray(samples, dtype=np.int64))
    if isinstance(first, float | np.floating):
        return Tensor(np.asarray(samples, dtype=np.float32))
    if isinstance(first, np.ndarray):
        try:
            return Tensor(np.stack(samples))
        except ValueError:
            shapes = sorted({s.shape for s in samples})
            raise DataError(f"cannot batch samples of different shapes {shapes[:4]}: give the data set a "
                            "transform (or image_size=) that makes them all one size") from None
    return samples


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``.

    Parameters
    ----------
    dataset : a ``Dataset`` (``len`` and integer indexing)
    batch_size : samples per batch; the last one is smaller unless ``drop_last``
    shuffle : a new random order every epoch
    drop_last : drop the last, incomplete batch
    seed : makes the shuffling a function of ``(seed, epoch)`` only (see the module docstring)
    collate_fn : turns a list of samples into a batch (``default_collate``)
    sampler : where the indices come from instead (a ``DistributedSampler``, any iterable of indices with
        ``len``); excludes ``shuffle``, as in torch (call the sampler's ``set_epoch``)
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, collate_fn: Any = None, *, sampler: Any = None) -> None:
        if int(batch_size) != batch_size or batch_size < 1:
            raise DataError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise DataError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.collate_fn = collate_fn or default_collate
        self.sampler = sampler
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration use epoch ``epoch``'s order (used when resuming)."""
        self.epoch = int(epoch)

    def order(self, epoch: int | None = None) -> np.ndarray:
        """The sample indices of epoch ``epoch`` (the current one by default), in the order they are
        served."""
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64, count=len(self.sampler))
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        if self.seed is None:
            return default_generator().permutation(n)
        return np.random.default_rng([self.seed, self.epoch if epoch is None else epoch]).permutation(n)

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        order = self.order()
        self.epoch += 1
        stop = len(self) * self.batch_size
        for start in range(0, min(stop, len(order)), self.batch_size):
            batch = order[start:start + self.batch_size]
            yield self.collate_fn([self.dataset[int(i)] for i in batch])
