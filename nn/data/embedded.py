"""The data set that ships with tapegrad: Fashion-MNIST "shirt vs not-shirt", a stand-in for cat vs not-cat.

``shirt_vs_not_shirt.npz`` (built by ``scripts/build_embedded_dataset.py``) holds 600 shirts + 600 other
garments for training and validation, and a separate, balanced test set of 2,000 images from Fashion-MNIST's
test files. Labels: 0 = not_shirt, 1 = shirt.  Fashion-MNIST is (c) Zalando SE, MIT licence
(``LICENSE-fashion-mnist.txt``).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from .dataset import ArrayImageDataset, split_indices
from .errors import DataError

FILE_NAME = "shirt_vs_not_shirt.npz"
SPLITS = ("trainval", "train", "val", "test")


def embedded_arrays() -> dict[str, np.ndarray]:
    """All arrays of the packaged file (images uint8 ``N x 28 x 28``, labels, class names, provenance)."""
    with resources.files(__package__).joinpath(FILE_NAME).open("rb") as f, np.load(f) as data:
        return {k: data[k] for k in data.files}


def _split_class(members: np.ndarray, val_fraction: float, seed: int) -> dict[str, np.ndarray]:
    n_val = int(round(len(members) * val_fraction))
    train_idx, val_idx = split_indices(len(members), [len(members) - n_val, n_val], seed)
    return {"train": members[train_idx], "val": members[val_idx]}


def embedded(split: str = "trainval", transform: Any = None, val_fraction: float = 0.1,
             seed: int = 0) -> ArrayImageDataset:
    """The packaged data set's ``split``: 'trainval' (1,200), 'train', 'val' (a seeded 90/10 cut of it),
    'test'.

    The 90/10 cut is made per class (stratified), so the 120 validation images are 60 + 60 like the training
    set's balance; ``train`` and ``val`` with the same ``seed`` and ``val_fraction`` are complementary, and
    each split can get its own ``transform`` (augmentation for training only).
    """
    if split not in SPLITS:
        raise DataError(f"embedded(): unknown split {split!r}, expected one of {SPLITS}")
    arrays = embedded_arrays()
    classes = [str(c) for c in arrays["class_names"]]
    if split == "test":
        return ArrayImageDataset(arrays["test_images"], arrays["test_labels"], classes, transform)
    images, labels = arrays["train_images"], arrays["train_labels"]
    if split != "trainval":
        if not 0 < val_fraction < 1:
            raise DataError(f"embedded(): val_fraction must be between 0 and 1, got {val_fraction}")
        index = np.sort(np.concatenate([_split_class(np.flatnonzero(labels == c), val_fraction, seed)[split]
                                        for c in np.unique(labels)]))
        images, labels = images[index], labels[index]
    return ArrayImageDataset(images, labels, classes, transform)
