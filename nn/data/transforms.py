"""Image transforms for data sets, composable with ``Compose`` (names and semantics follow torchvision's).

Two layouts, told apart by type so that no flag is needed:

- *image layout*: a Pillow image, or a **uint8** array ``H x W`` or ``H x W x C`` (what data sets return);
- *tensor layout*: a ``Tensor`` or a **float** array ``C x H x W`` (what ``ToTensor`` returns).

Geometric transforms (resize, crops, flip) accept both and keep the layout and type they were given, so they
can go before or after ``ToTensor``.  Random transforms draw from tapegrad's default generator (seeded by
``tapegrad.autograd.manual_seed`` and saved in training checkpoints) unless given their own ``rng``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PIL import Image
from tapegrad.autograd import Tensor
from tapegrad.autograd.random import default_generator
from tapegrad.nn.functional.geometry import pair

from .errors import DataError


def _unwrap(x: Any) -> tuple[np.ndarray, str]:
    """The array behind ``x`` and its kind: 'pil', 'tensor', 'chw' (float array) or 'hwc' (uint8 array)."""
    if isinstance(x, Image.Image):
        return np.asarray(x), "pil"
    if isinstance(x, Tensor):
        return x.numpy(), "tensor"
    array = np.asarray(x)
    if array.dtype == np.uint8 or array.ndim == 2:
        return array, "hwc"
    return array, "chw"


def _wrap(array: np.ndarray, kind: str, like: Any = None) -> Any:
    if kind == "pil":
        return Image.fromarray(np.ascontiguousarray(array))
    if kind == "tensor":
        return Tensor(np.ascontiguousarray(array))
    return array


def _hw_axes(array: np.ndarray, kind: str) -> tuple[int, int]:
    """The height and width axes: the last two in tensor layout, the first two in image layout."""
    if kind in ("tensor", "chw"):
        if array.ndim not in (2, 3):
            raise DataError(f"expected a C x H x W image, got an array of shape {array.shape}")
        return array.ndim - 2, array.ndim - 1
    if array.ndim not in (2, 3):
        raise DataError(f"expected an H x W or H x W x C image, got an array of shape {array.shape}")
    return 0, 1


class Compose:
    """Apply transforms one after the other."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class ToArray:
    """Image layout -> a float32 ``C x H x W`` NumPy array; uint8 values are scaled from 0..255 to 0..1.

    ``ToTensor`` without the Tensor: a pipeline that ends in arrays is batched by ``default_collate`` into one
    Tensor per batch, instead of wrapping every sample and unwrapping it again to stack it.
    """

    def __call__(self, x: Any) -> np.ndarray:
        array, kind = _unwrap(x)
        if kind in ("tensor", "chw"):
            return np.asarray(array, dtype=np.float32)
        if array.ndim == 2:
            array = array[:, :, None]
        out = array.transpose(2, 0, 1).astype(np.float32)
        if array.dtype == np.uint8:
            out *= np.float32(1 / 255)
        return np.ascontiguousarray(out)

    def __repr__(self) -> str:
        return "ToArray()"


class ToTensor(ToArray):
    """Image layout -> a float32 ``C x H x W`` Tensor; uint8 values are scaled from 0..255 to 0..1."""

    def __call__(self, x: Any) -> Tensor:
        return Tensor(super().__call__(x))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean) / std`` per channel of a tensor-layout image."""

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float32))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float32))
        if np.any(self.std <= 0):
            raise DataError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def __call__(self, x: Any) -> Any:
        array, kind = _unwrap(x)
        if kind not in ("tensor", "chw"):
            raise DataError("Normalize expects a C x H x W tensor: put ToTensor() (or ToArray()) before it")
        channels = array.shape[0]
        if len(self.mean) not in (1, channels) or len(self.std) not in (1, channels):
            raise DataError(f"Normalize: {len(self.mean)} means, {len(self.std)} stds, {channels} channels")
        out = (array - self.mean[:, None, None]) / self.std[:, None, None]
        return _wrap(out.astype(array.dtype, copy=False), kind)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Resize:
    """Resize to ``size`` = ``(height, width)`` (an int means a square) with bilinear interpolation.

    Unlike torchvision, an int gives a square image rather than matching the shorter edge: the models here
    want one fixed input size.  Photos are resampled with Pillow's antialiasing filter, so shrinking a
    4000-pixel photo to 224 does not alias.
    """

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = pair(size, "size", "Resize", 1)

    def __call__(self, x: Any) -> Any:
        h, w = self.size
        if isinstance(x, Image.Image):
            return x.resize((w, h), Image.Resampling.BILINEAR)
        array, kind = _unwrap(x)
        if kind == "hwc" and array.dtype == np.uint8:
            return np.asarray(Image.fromarray(array).resize((w, h), Image.Resampling.BILINEAR))
        chw = array if array.ndim == 3 else array[None]
        planes = [np.asarray(Image.fromarray(np.ascontiguousarray(p, dtype=np.float32))
                             .resize((w, h), Image.Resampling.BILINEAR))
                  for p in (chw if kind != "hwc" else chw.transpose(2, 0, 1))]
        out = np.stack(planes).astype(array.dtype if array.dtype.kind == "f" else np.float32)
        if kind == "hwc":
            out = out.transpose(1, 2, 0)
        return _wrap(out if array.ndim == 3 else out[0], kind)

    def __repr__(self) -> str:
        return f"Resize(size={self.size})"


def _crop(x: Any, top: int, left: int, h: int, w: int, padding: int = 0, fill: float = 0) -> Any:
    array, kind = _unwrap(x)
    ah, aw = _hw_axes(array, kind)
    if padding:
        pads = [(0, 0)] * array.ndim
        pads[ah] = pads[aw] = (padding, padding)
        array = np.pad(array, pads, constant_values=fill)
    index: list[Any] = [slice(None)] * array.ndim
    index[ah], index[aw] = slice(top, top + h), slice(left, left + w)
    return _wrap(array[tuple(index)], kind, x)


def _size_of(x: Any) -> tuple[int, int]:
    array, kind = _unwrap(x)
    ah, aw = _hw_axes(array, kind)
    return array.shape[ah], array.shape[aw]


class CenterCrop:
    """Cut the central ``size`` region (the image must be at least that big)."""

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = pair(size, "size", "CenterCrop", 1)

    def __call__(self, x: Any) -> Any:
        (H, W), (h, w) = _size_of(x), self.size
        if h > H or w > W:
            raise DataError(f"CenterCrop{self.size}: the image is only {H}x{W}")
        return _crop(x, (H - h) // 2, (W - w) // 2, h, w)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class RandomCrop:
    """Cut a random ``size`` region, after padding every side by ``padding`` pixels of value ``fill``."""

    def __init__(self, size: int | Sequence[int], padding: int = 0, fill: float = 0,
                 rng: np.random.Generator | None = None) -> None:
        self.size = pair(size, "size", "RandomCrop", 1)
        self.padding = int(padding)
        self.fill = fill
        self.rng = rng

    def __call__(self, x: Any) -> Any:
        H, W = _size_of(x)
        H, W = H + 2 * self.padding, W + 2 * self.padding
        h, w = self.size
        if h > H or w > W:
            raise DataError(f"RandomCrop{self.size}: the (padded) image is only {H}x{W}")
        rng = self.rng or default_generator()
        top, left = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
        return _crop(x, top, left, h, w, self.padding, self.fill)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        self.p = p
        self.rng = rng

    def __call__(self, x: Any) -> Any:
        if (self.rng or default_generator()).random() >= self.p:
            return x
        array, kind = _unwrap(x)
        axis = _hw_axes(array, kind)[1]
        return _wrap(np.flip(array, axis=axis), kind, x)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


def _to_channels(x: Any, channels: int) -> Any:
    if isinstance(x, Image.Image):
        return x.convert("L" if channels == 1 else "RGB")
    array, kind = _unwrap(x)
    if kind == "hwc":
        chw = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    else:
        chw = array if array.ndim == 3 else array[None]
    if chw.shape[0] == 4:  # drop alpha
        chw = chw[:3]
    if chw.shape[0] not in (1, 3):
        raise DataError(f"expected a 1-, 3- or 4-channel image, got {chw.shape[0]} channels")
    if channels == 1 and chw.shape[0] == 3:  # ITU-R 601-2 luma, as Pillow's "L"
        luma = np.tensordot(np.array([0.299, 0.587, 0.114], dtype=np.float32), chw.astype(np.float32), axes=1)
        chw = (np.clip(np.rint(luma), 0, 255).astype(np.uint8) if array.dtype == np.uint8
               else luma.astype(array.dtype))[None]
    elif channels == 3 and chw.shape[0] == 1:
        chw = np.repeat(chw, 3, axis=0)
    if kind == "hwc":
        return chw[0] if channels == 1 and array.ndim == 2 else chw.transpose(1, 2, 0)
    return _wrap(chw, kind)


class Grayscale:
    """Convert to ``num_output_channels`` grey channels (1, or 3 identical ones)."""

    def __init__(self, num_output_channels: int = 1) -> None:
        if num_output_channels not in (1, 3):
            raise DataError(f"Grayscale: num_output_channels must be 1 or 3, got {num_output_channels}")
        self.num_output_channels = num_output_channels

    def __call__(self, x: Any) -> Any:
        grey = _to_channels(x, 1)
        if self.num_output_channels == 3:
            return _to_channels(grey, 3)
        return grey

    def __repr__(self) -> str:
        return f"Grayscale(num_output_channels={self.num_output_channels})"


class ToRGB:
    """Convert to three channels (grey is repeated; an alpha channel is dropped)."""

    def __call__(self, x: Any) -> Any:
        return _to_channels(x, 3)

    def __repr__(self) -> str:
        return "ToRGB()"


__all__ = ["CenterCrop", "Compose", "Grayscale", "Normalize", "RandomCrop", "RandomHorizontalFlip", "Resize",
           "ToArray", "ToRGB", "ToTensor"]
