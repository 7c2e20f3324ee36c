"""Datasets: anything with ``__len__`` and ``__getitem__``, plus in-memory tensors, subsets and seeded
splits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from tapegrad.autograd import Tensor

from .errors import DataError


class Dataset:
    """A sized, indexable collection of samples (the map-style data set of PyTorch).

    Subclasses implement ``__len__`` and ``__getitem__(i)``; a sample is usually ``(image, label)``.
    """

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError


def _as_array(value: Any) -> np.ndarray:
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays or tensors: ``TensorDataset(images, labels)[i]``."""

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise DataError("TensorDataset needs at least one array")
        self.arrays = [_as_array(a) for a in arrays]
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            raise DataError(f"TensorDataset: arrays of different lengths {[len(a) for a in self.arrays]}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(a[index] for a in self.arrays)


class ArrayImageDataset(Dataset):
    """Images held in one uint8 array (``N x H x W`` or ``N x H x W x C``) with integer labels and a
    transform.

    The images stay uint8 until a sample is asked for, so a data set of a few thousand images costs a few MB.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                 transform: Any = None) -> None:
        if len(images) != len(labels):
            raise DataError(f"{len(images)} images but {len(labels)} labels")
        self.images = images
        self.targets = np.asarray(labels, dtype=np.int64)
        self.classes = list(classes)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]


def split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Turn split sizes, given as counts or as fractions summing to 1, into counts summing to ``n``."""
    lengths = list(lengths)
    fractions = all(isinstance(x, float) and 0 <= x <= 1 for x in lengths)
    if lengths and fractions and abs(sum(lengths) - 1) < 1e-6:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):  # hand the remainder out round-robin, as torch does
            counts[i % len(counts)] += 1
        return counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise DataError(f"split lengths must be non-negative counts or fractions summing to 1, got {lengths}")
    counts = [int(x) for x in lengths]
    if sum(counts) != n:
        raise DataError(f"split lengths {counts} sum to {sum(counts)}, but the data set has {n} samples")
    return counts


def split_indices(n: int, lengths: Sequence[float], seed: int | None = None) -> list[np.ndarray]:
    """The index arrays ``random_split`` uses: one seeded permutation of ``range(n)`` cut into pieces."""
    counts = split_lengths(n, lengths)
    from tapegrad.autograd.random import default_generator

    rng = np.random.default_rng(seed) if seed is not None else default_generator()
    order = rng.permutation(n)
    bounds = np.cumsum([0, *counts])
    return [order[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def random_split(dataset: Any, lengths: Sequence[float], seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given sizes (counts or fractions).

    With a ``seed`` the split depends on nothing else (the same seed always gives the same split); without one
    it draws from tapegrad's default generator (see ``tapegrad.autograd.manual_seed``).
    """
    return [Subset(dataset, idx) for idx in split_indices(len(dataset), lengths, seed)]
