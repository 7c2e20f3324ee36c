"""From a ``--data`` value to train / validation / test data sets with the right transforms.

``--data`` is ``embedded`` (the packaged shirt-vs-not-shirt set), ``fashion-mnist`` (Debian's full set, 10
classes) or a folder.  A folder is either ``DIR/<class>/*`` (split 90/10 into train/validation with the seed;
no test set) or ``DIR/train/<class>/*`` with ``DIR/val`` and/or ``DIR/test`` beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tapegrad.nn.data import ArrayImageDataset, FashionMNIST, ImageFolder, embedded_arrays, split_indices
from tapegrad.nn.data import transforms as T
from tapegrad.nn.data.errors import DataError

from .config import TrainConfig


@dataclass
class Data:
    """The splits (uint8 images, no transform yet) and what the model needs to know about them."""

    train: ArrayImageDataset
    val: ArrayImageDataset | None
    test: ArrayImageDataset | None
    classes: list[str]
    channels: int
    image_size: int
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    description: str = ""


def _subset(ds: ArrayImageDataset, index: np.ndarray) -> ArrayImageDataset:
    return ArrayImageDataset(ds.images[index], ds.targets[index], ds.classes)


def _stratified(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded train/validation cut made per class, so both keep the class balance."""
    train, val = [], []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        n_val = max(1, int(round(len(members) * fraction))) if len(members) > 1 else 0
        a, b = split_indices(len(members), [len(members) - n_val, n_val], seed)
        train.append(members[a])
        val.append(members[b])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def _folder(path: Path, config: TrainConfig) -> tuple[Any, Any, Any, str]:
    size = config.image_size or 224
    channels = config.channels or 3

    def load(p: Path) -> ImageFolder:
        return ImageFolder(p, image_size=size, channels=channels, on_error="warn")

    if (path / "train").is_dir():
        train = load(path / "train")
        val = load(path / "val") if (path / "val").is_dir() else None
        test = load(path / "test") if (path / "test").is_dir() else None
        if val is None:
            a, b = _stratified(train.targets, config.val_fraction, config.seed)
            train, val = _subset(train, a), _subset(train, b)
        for other in (val, test):
            if other is not None and other.classes != train.classes:
                raise DataError(f"{path}: the class folders differ between train ({train.classes}) and "
                                f"val/test ({other.classes})")
        return train, val, test, f"image folder {path} (train/val/test sub-folders)"
    full = load(path)
    a, b = _stratified(full.targets, config.val_fraction, config.seed)
    description = (f"image folder {path} ({1 - config.val_fraction:.0%} / {config.val_fraction:.0%} "
                   f"train/validation split, seed {config.seed}; no test set)")
    return _subset(full, a), _subset(full, b), None, description


def _resize_all(ds: ArrayImageDataset | None, size: int) -> ArrayImageDataset | None:
    if ds is None or ds.images.shape[1] == size:
        return ds
    resize = T.Resize(size)
    return ArrayImageDataset(np.stack([resize(im) for im in ds.images]), ds.targets, ds.classes)


def _limit(ds: ArrayImageDataset | None, n: int | None) -> ArrayImageDataset | None:
    if ds is None or n is None or len(ds) <= n:
        return ds
    return _subset(ds, np.arange(n))


def load_data(config: TrainConfig) -> Data:
    """Resolve ``config.data`` into a ``Data`` (raises ``DataError`` / ``DatasetNotFoundError`` with a
    path).
    """
    spec = config.data
    if spec == "embedded":
        arrays = embedded_arrays()
        classes = [str(c) for c in arrays["class_names"]]
        full = ArrayImageDataset(arrays["train_images"], arrays["train_labels"], classes)
        a, b = _stratified(full.targets, config.val_fraction, config.seed)
        train, val = _subset(full, a), _subset(full, b)
        test = ArrayImageDataset(arrays["test_images"], arrays["test_labels"], classes)
        description = ("embedded Fashion-MNIST shirt vs not-shirt: 1,200 images split "
                       f"{1 - config.val_fraction:.0%}/{config.val_fraction:.0%} (seed {config.seed}), "
                       "2,000 held-out test images")
    elif spec in ("fashion-mnist", "fashion_mnist", "fashionmnist"):
        full = FashionMNIST(train=True)
        a, b = _stratified(full.targets, config.val_fraction, config.seed)
        train, val = _subset(full, a), _subset(full, b)
        test = FashionMNIST(train=False)
        description = f"Fashion-MNIST from {full.root}: 60,000 training images (10% validation), 10,000 test"
    else:
        path = Path(spec).expanduser()
        if not path.exists():
            raise DataError(f"--data {spec}: no such folder (expected 'embedded', 'fashion-mnist' or a "
                            "folder with one sub-folder per class)")
        train, val, test, description = _folder(path, config)
    if spec == "embedded" or spec.startswith("fashion"):
        if config.channels == 3:
            raise DataError("--channels 3: Fashion-MNIST images are grey (1 channel)")
        if config.image_size:
            train, val, test = (_resize_all(d, config.image_size) for d in (train, val, test))
    train, val, test = _limit(train, config.limit), _limit(val, config.limit), _limit(test, config.limit)
    images = train.images.astype(np.float64) / 255
    channels = 1 if images.ndim == 3 else images.shape[-1]
    axes = (0, 1, 2)  # a scalar for grey N x H x W, one value per channel for N x H x W x C
    mean = np.atleast_1d(images.mean(axis=axes)).tolist()
    std = np.atleast_1d(np.maximum(images.std(axis=axes), 1e-3)).tolist()
    return Data(train, val, test, list(train.classes), channels, int(train.images.shape[1]), mean, std,
                description)


def eval_transform(mean: list[float], std: list[float]) -> T.Compose:
    """uint8 image -> normalised float32 C x H x W array (arrays all the way: the loader wraps each batch once)."""
    return T.Compose([T.ToArray(), T.Normalize(mean, std)])


def train_transform(config: TrainConfig, data: Data) -> T.Compose:
    steps: list[Any] = []
    if "crop" in config.augment:
        steps.append(T.RandomCrop(data.image_size, padding=max(1, data.image_size // 16)))
    if "flip" in config.augment:
        steps.append(T.RandomHorizontalFlip())
    return T.Compose([*steps, T.ToArray(), T.Normalize(data.mean, data.std)])


def with_transform(ds: ArrayImageDataset | None, transform: Any) -> ArrayImageDataset | None:
    if ds is None:
        return None
    return ArrayImageDataset(ds.images, ds.targets, ds.classes, transform)
