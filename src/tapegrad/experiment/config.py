"""The settings of one training run, with the defaults tuned for the embedded data set."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

OPTIMIZERS = ("sgd", "adam", "adamw")
AUGMENTATIONS = ("none", "flip", "crop", "flip+crop")


@dataclass
class TrainConfig:
    """Everything that decides a training run; stored in every checkpoint so ``--resume`` needs nothing else.

    The defaults are the reference experiment's: AdamW (lr 3e-3, weight decay 1e-2) with a cosine schedule
    over 25 epochs, batches of 32, label smoothing 0.1, dropout 0.5 and random horizontal flips.  On the
    28 x 28 garments random crops (shifts) hurt: the images are centred, and a shifted collar looks like a
    different garment, so crops are off by default (``--augment flip+crop`` turns them on for photos).
    """

    data: str = "embedded"
    image_size: int | None = None  # None: the data's own size (28 for the embedded set, 224 for folders)
    channels: int | None = None  # None: 1 for Fashion-MNIST data, 3 for image folders
    epochs: int = 25
    batch_size: int = 32
    lr: float = 3e-3
    optimizer: str = "adamw"
    weight_decay: float | None = None  # None: 1e-2 for AdamW, 5e-4 for SGD, 0 for Adam
    momentum: float = 0.9
    label_smoothing: float = 0.1
    dropout: float = 0.5
    augment: str = "flip"
    val_fraction: float = 0.1
    seed: int = 0
    device: str = "cpu"
    limit: int | None = None  # use only the first N training images (and at most N val/test): quick checks

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}: expected one of {', '.join(OPTIMIZERS)}")
        if self.augment not in AUGMENTATIONS:
            raise ValueError(f"unknown augmentation {self.augment!r}: expected {', '.join(AUGMENTATIONS)}")
        for name in ("epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"--lr must be positive, got {self.lr}")
        if self.image_size is not None and self.image_size < 8:
            raise ValueError(f"--image-size must be at least 8 pixels, got {self.image_size}")
        if self.channels not in (None, 1, 3):
            raise ValueError(f"--channels must be 1 or 3, got {self.channels}")
        if self.limit is not None and self.limit < 2:
            raise ValueError(f"--limit must be at least 2, got {self.limit}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"--val-fraction must be between 0 and 1, got {self.val_fraction}")

    @property
    def decay(self) -> float:
        if self.weight_decay is not None:
            return self.weight_decay
        return {"adamw": 1e-2, "sgd": 5e-4, "adam": 0.0}[self.optimizer]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})
