"""Pictures with Pillow: normalisation, image grids, the ZF Fig. 2 grid, feature maps, first-layer filters.

Normalisation decides what a picture shows, so it is always a stated choice (``mode``):

* ``"minmax"`` (default): each image on its own, ``(x - min) / (max - min)``.  Shows the structure of every
  image, but hides how strong one is compared to another.
* ``"symmetric"``: zero maps to mid grey and ``+-max|x|`` to white/black: the sign is kept (a deconvnet
  projection has both signs; ZF show it this way).
* ``"percentile"``: like minmax, but between the ``(100 - p)``-th and ``p``-th percentiles (``p=99`` by
  default), clipping the few extreme pixels that would otherwise squash the rest into a flat grey.

A constant image maps to mid grey in every mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tapegrad.autograd import Tensor

MODES = ("minmax", "symmetric", "percentile")


def _array(x: Any) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def normalize(x: Any, mode: str = "minmax", percentile: float = 99.0) -> np.ndarray:
    """One image (any shape) to floats in [0, 1] with the chosen ``mode`` (see the module docstring)."""
    a = _array(x).astype(np.float64)
    if mode == "minmax":
        lo, hi = a.min(), a.max()
    elif mode == "percentile":
        if not 50.0 < percentile <= 100.0:
            raise ValueError(f"normalize: percentile must be in (50, 100], got {percentile}")
        lo, hi = np.percentile(a, 100.0 - percentile), np.percentile(a, percentile)
    elif mode == "symmetric":
        m = np.abs(a).max()
        lo, hi = -m, m
    else:
        raise ValueError(f"normalize: unknown mode {mode!r}; expected one of {MODES}")
    if not hi > lo:
        return np.full(a.shape, 0.5)
    return np.clip((a - lo) / (hi - lo), 0.0, 1.0)


def to_pil(image: Any, mode: str | None = "minmax", percentile: float = 99.0, scale: int = 1) -> Image.Image:
    """A (C, H, W) or (H, W) image as a Pillow image (grey for 1 channel, RGB for 3).

    ``mode=None`` takes values already in [0, 1]; ``scale`` enlarges with nearest neighbours (small MNIST-size
    patches are unreadable otherwise).
    """
    a = _array(image)
    if a.ndim == 3 and a.shape[0] not in (1, 3):
        raise ValueError(f"to_pil: expected 1 or 3 channels (C, H, W), got shape {a.shape}")
    a = a.astype(np.float64) if mode is None else normalize(a, mode, percentile)
    a = np.clip(a, 0.0, 1.0)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    pil = Image.fromarray(np.round(a * 255).astype(np.uint8))
    if scale != 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), Image.NEAREST)
    return pil


def grid(
    images: Sequence[Any],
    columns: int | None = None,
    pad: int = 2,
    background: int = 255,
    mode: str | None = "minmax",
    percentile: float = 99.0,
    scale: int = 1,
) -> Image.Image:
    """Tile images (each normalised on its own) into rows of ``columns``; cells fit the largest image."""
    if not images:
        raise ValueError("grid: no images")
    tiles = [im if isinstance(im, Image.Image) else to_pil(im, mode, percentile, scale) for im in images]
    colour = any(t.mode == "RGB" for t in tiles)
    tiles = [t.convert("RGB") if colour else t for t in tiles]
    columns = columns or int(np.ceil(np.sqrt(len(tiles))))
    rows = int(np.ceil(len(tiles) / columns))
    cw, ch = max(t.width for t in tiles), max(t.height for t in tiles)
    canvas = Image.new(
        "RGB" if colour else "L",
        (columns * (cw + pad) + pad, rows * (ch + pad) + pad),
        (background,) * 3 if colour else background,
    )
    for n, tile in enumerate(tiles):
        r, c = divmod(n, columns)
        canvas.paste(tile, (pad + c * (cw + pad), pad + r * (ch + pad)))
    return canvas


def top_activations_grid(
    result: Any,
    mode: str = "minmax",
    patch_mode: str = "minmax",
    percentile: float = 99.0,
    scale: int = 3,
    pad: int = 2,
    channels: Sequence[int] | None = None,
    layout: str = "rows",
) -> Image.Image:
    """ZF Fig. 2 for one layer: each hit's deconvnet projection with its image patch.

    ``layout="rows"``: a row per channel, each projection right beside its patch.  ``layout="zf"``: the
    paper's arrangement, per channel a square of the k projections beside the square of their k patches, the
    channels tiled in a grid.  ``mode`` normalises the projections (each on its own), ``patch_mode`` the
    image patches.
    """
    if layout not in ("rows", "zf"):
        raise ValueError(f"top_activations_grid: layout must be 'rows' or 'zf', got {layout!r}")
    blocks = []
    for channel in list(result.channels if channels is None else channels):
        hits = result.hits[channel]
        if not hits:
            continue
        projections = [to_pil(h.projection, mode, percentile, scale) for h in hits]
        patches = [to_pil(h.patch, patch_mode, percentile, scale) for h in hits]
        if layout == "rows":
            pairs = [_beside(a, b, pad) for a, b in zip(projections, patches, strict=True)]
            blocks.append(grid(pairs, columns=len(pairs), pad=pad * 2, mode=None))
        else:
            side = int(np.ceil(np.sqrt(len(hits))))
            left = grid(projections, columns=side, pad=pad, mode=None)
            right = grid(patches, columns=side, pad=pad, mode=None)
            blocks.append(_beside(left, right, pad * 2))
    if not blocks:
        raise ValueError("top_activations_grid: no hits to draw")
    columns = 1 if layout == "rows" else int(np.ceil(np.sqrt(len(blocks))))
    return grid(blocks, columns=columns, pad=pad * 2, background=200, mode=None)


def _beside(left: Image.Image, right: Image.Image, pad: int) -> Image.Image:
    colour = "RGB" if "RGB" in (left.mode, right.mode) else "L"
    left, right = left.convert(colour), right.convert(colour)
    canvas = Image.new(
        colour,
        (left.width + right.width + pad, max(left.height, right.height)),
        (255,) * 3 if colour == "RGB" else 255,
    )
    canvas.paste(left, (0, 0))
    canvas.paste(right, (left.width + pad, 0))
    return canvas


def feature_map_grid(
    activation: Any, mode: str = "minmax", scale: int = 2, columns: int | None = None
) -> Image.Image:
    """Every channel of one image's feature map (C, H, W) as a grey tile."""
    a = _array(activation)
    if a.ndim == 4:
        if a.shape[0] != 1:
            raise ValueError(
                f"feature_map_grid: give one image's feature maps (C, H, W), got shape {a.shape}"
            )
        a = a[0]
    if a.ndim != 3:
        raise ValueError(f"feature_map_grid: expected (C, H, W), got shape {a.shape}")
    return grid([c for c in a], columns=columns, mode=mode, scale=scale)


def filter_grid(
    weight: Any, mode: str = "symmetric", scale: int = 8, columns: int | None = None
) -> Image.Image:
    """First-layer filters (O, C, kh, kw) as tiles; C = 3 shows colour filters, C = 1 grey ones.

    Symmetric by default: a filter's negative weights are as meaningful as its positive ones.
    """
    w = _array(weight)
    if w.ndim != 4 or w.shape[1] not in (1, 3):
        raise ValueError(
            f"filter_grid: expected first-layer weights (O, 1 or 3, kh, kw), got shape {w.shape}"
        )
    return grid([f for f in w], columns=columns, mode=mode, scale=scale)


def heatmap_overlay(image: Any, heat: Any, alpha: float = 0.5, scale: int = 4) -> Image.Image:
    """A heat map (h, w) in [0, 1] (e.g. occlusion probabilities) blended in red over a grey/colour image."""
    base = to_pil(image, "minmax", scale=scale).convert("RGB")
    h = normalize(_array(heat), "minmax")
    red = np.zeros(h.shape + (3,), dtype=np.uint8)
    red[..., 0] = np.round(h * 255).astype(np.uint8)
    red[..., 2] = np.round((1 - h) * 255).astype(np.uint8)
    overlay = Image.fromarray(red).resize(base.size, Image.BILINEAR)
    return Image.blend(base, overlay, alpha)


def save(image: Image.Image, path: str | Path) -> Path:
    """Write a picture (PNG unless the suffix says otherwise), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
