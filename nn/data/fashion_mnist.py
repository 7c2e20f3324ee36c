"""``FashionMNIST``: Zalando's 70,000 28x28 grey clothing images in 10 classes, read from the IDX files.

No download: the files come from Debian's ``dataset-fashion-mnist`` package
(``/usr/share/datasets/fashion-mnist``), from ``$TAPEGRAD_FASHION_MNIST``, or from any folder passed as
``root`` that holds the four IDX files (plain or ``.gz``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .dataset import ArrayImageDataset
from .errors import DataError, DatasetNotFoundError
from .idx import read_idx

DEFAULT_ROOT = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]


def default_root() -> Path:
    return Path(os.environ.get("TAPEGRAD_FASHION_MNIST", DEFAULT_ROOT))


def _find(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise DatasetNotFoundError(
        f"Fashion-MNIST not found: no {stem}[.gz] in {root}. Install it with `apt-get install "
        "dataset-fashion-mnist` (files in /usr/share/datasets/fashion-mnist), or pass a folder holding "
        "the IDX files from https://github.com/zalandoresearch/fashion-mnist")


class FashionMNIST(ArrayImageDataset):
    """The training (60,000) or test (10,000) images; samples are ``(uint8 28x28 image or transform(it),
    label)``."""

    classes_all = CLASSES

    def __init__(self, root: str | os.PathLike[str] | None = None, train: bool = True,
                 transform: Any = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        stem = "train" if train else "t10k"
        images = read_idx(_find(self.root, f"{stem}-images-idx3-ubyte"))
        labels = read_idx(_find(self.root, f"{stem}-labels-idx1-ubyte"))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{self.root}: images {images.shape} and labels {labels.shape} do not match")
        super().__init__(images, labels, CLASSES, transform)
        self.train = train
