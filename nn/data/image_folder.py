"""``ImageFolder``: one sub-folder per class (``cat/``, ``not_cat/``), any size and format Pillow reads.

Every image is decoded once, when the data set is made, converted to the chosen number of channels and resized
to ``image_size``: a corrupt or unreadable file is found then and reported by its path (skipped with a
warning, or an error, as ``on_error`` says) instead of failing in the middle of an epoch.  The resized images
are kept in memory as uint8 (600 + 600 photos at 224 x 224 x 3 are about 180 MB).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from .dataset import ArrayImageDataset
from .errors import DataError, DatasetNotFoundError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm")


class CorruptImageWarning(UserWarning):
    """An image file could not be read and was skipped (the message names it)."""


def _eight_bit(image: Image.Image) -> Image.Image:
    """A 16-bit or 32-bit grey image scaled to 8 bits (``convert`` would clip every value above 255 to white).

    ``I;16*`` (16-bit PNG/TIFF) and ``I`` (how Pillow opens some 16-bit files) are taken as 0..65535 and
    divided by 257; ``F`` (float TIFF) as 0..1 when it stays in it, else clipped to 0..255.
    """
    if image.mode.startswith("I;16") or image.mode == "I":
        pixels = np.asarray(image, dtype=np.float64)
        return Image.fromarray(np.round(np.clip(pixels, 0, 65535) / 257.0).astype(np.uint8), "L")
    if image.mode == "F":
        pixels = np.nan_to_num(np.asarray(image, dtype=np.float64))
        scale = 255.0 if pixels.size and 0 <= pixels.min() and pixels.max() <= 1 else 1.0
        return Image.fromarray(np.round(np.clip(pixels * scale, 0, 255)).astype(np.uint8), "L")
    return image


# What decoding an untrusted file may raise: Pillow's own errors, and a decompression bomb (a small file
# whose header claims ~10^8+ pixels), which is not an OSError and used to crash `tapegrad train`.
UNREADABLE = (OSError, UnidentifiedImageError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


def load_image(path: Path, size: tuple[int, int] | None, channels: int) -> np.ndarray:
    """Decode ``path`` into a uint8 ``H x W`` (1 channel) or ``H x W x 3`` array, resized to ``size``."""
    with Image.open(path) as image:
        image.load()
        image = _eight_bit(image).convert("L" if channels == 1 else "RGB")
        if size is not None and image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR, reducing_gap=3.0)
        return np.asarray(image, dtype=np.uint8)


class ImageFolder(ArrayImageDataset):
    """Images in ``root/<class>/<file>``; the classes are the sub-folder names in sorted order.

    Parameters
    ----------
    root : the folder holding one sub-folder per class
    image_size : every image is resized to this (int: square; (height, width); None: keep, all must match)
    channels : 3 (RGB; grey images are repeated) or 1 (grey; colour images become luma)
    transform : applied to each uint8 ``H x W x C`` image when a sample is read (e.g. ``ToTensor()``)
    on_error : ``'warn'`` skips an unreadable file with a ``CorruptImageWarning`` naming it; ``'raise'`` stops
        with a ``DataError`` naming it
    """

    def __init__(self, root: str | os.PathLike[str], image_size: int | tuple[int, int] | None = 224,
                 channels: int = 3, transform: Any = None, on_error: str = "warn") -> None:
        if on_error not in ("warn", "raise"):
            raise DataError(f"ImageFolder: on_error must be 'warn' or 'raise', got {on_error!r}")
        if channels not in (1, 3):
            raise DataError(f"ImageFolder: channels must be 1 or 3, got {channels!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetNotFoundError(f"{self.root}: no such folder (expected one sub-folder per class)")
        size = (image_size, image_size) if isinstance(image_size, int) else image_size
        classes = sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if len(classes) < 2:
            raise DataError(f"{self.root}: found {len(classes)} class sub-folder(s) {classes}; a classifier "
                            "needs at least two (e.g. cat/ and not_cat/)")
        images, labels, self.samples, self.skipped = [], [], [], []
        for label, name in enumerate(classes):
            files = sorted(p for p in (self.root / name).rglob("*")
                           if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if not files:
                raise DataError(f"{self.root / name}: no images (looked for {', '.join(IMAGE_EXTENSIONS)})")
            for path in files:
                try:
                    array = load_image(path, size, channels)
                except UNREADABLE as exc:
                    message = f"{path}: cannot read this image ({type(exc).__name__}: {exc})"
                    if on_error == "raise":
                        raise DataError(message) from None
                    warnings.warn(message + "; skipped", CorruptImageWarning, stacklevel=2)
                    self.skipped.append(path)
                    continue
                images.append(array)
                labels.append(label)
                self.samples.append((path, label))
        shapes = {a.shape for a in images}
        if len(shapes) > 1:
            raise DataError(f"{self.root}: images of different sizes {sorted(shapes)[:3]}: pass image_size=")
        if not images:
            raise DataError(f"{self.root}: none of the images could be read")
        super().__init__(np.stack(images), np.asarray(labels), classes, transform)
        self.image_size = images[0].shape[:2]
        self.channels = channels
