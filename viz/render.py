"""Pictures with Pillow: normalisation, image grids, the ZF Fig. 2 grid, feature maps, first-layer filters.

Normalisation decides what a picture shows, so it is always a stated choice (``mode``):

* ``"minmax"`` (default): each image on its own, ``(x - min) / (max - min)``.  Shows the structure of every
  image, but hides how strong one is compared to another.
* ``"symmetric"``: zero maps to mid grey and ``+-max|x|`` to white/black: the sign is kept (a deconvnet
  projection has both signs; ZF show it this way).
* ``"percentile"``: like minmax, but between the ``(100 - p)``-th and ``p``-th percentiles (``p=99`` by
  default), clipping the few extreme pixels that would otherwise squash the rest into a flat grey.

A constant image maps to mid grey in every mode.

Sizes: small patches are enlarged (nearest neighbour) to at least ``min_tile`` pixels (64 by default): a 5x5
receptive-field patch of a 224x224 run drew as a 15-pixel postage stamp before.  Labels use a scalable font
(:mod:`tapegrad.viz.text`), so a grid written by ``tapegrad visualize`` reads without any page around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from tapegrad.autograd import Tensor

from .text import draw_text, text_size

MODES = ("minmax", "symmetric", "percentile")
MIN_TILE = 64  # px: the smallest side a patch, projection or filter is drawn at
SEPARATOR = (70, 130, 180)  # steel blue: between filters drawn grey-on-grey, a grey gap would not show


def fit_scale(size: int, scale: int = 1, min_tile: int = MIN_TILE) -> int:
    """The nearest-neighbour factor that draws ``size`` pixels at least ``min_tile`` wide (and at least ``scale``)."""
    return max(int(scale), -(-int(min_tile) // max(int(size), 1)))


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
    background: int | tuple[int, int, int] = 255,
    mode: str | None = "minmax",
    percentile: float = 99.0,
    scale: int = 1,
) -> Image.Image:
    """Tile images (each normalised on its own) into rows of ``columns``; cells fit the largest image.

    ``background`` (the gaps) is a grey level or an RGB colour (then the grid is RGB).
    """
    if not images:
        raise ValueError("grid: no images")
    tiles = [im if isinstance(im, Image.Image) else to_pil(im, mode, percentile, scale) for im in images]
    colour = any(t.mode == "RGB" for t in tiles) or isinstance(background, tuple)
    if isinstance(background, tuple) and len(background) == 3:
        background_rgb = background
        background = int(sum(background) / 3)
    else:
        background_rgb = (int(background),) * 3
    tiles = [t.convert("RGB") if colour else t for t in tiles]
    columns = columns or int(np.ceil(np.sqrt(len(tiles))))
    rows = int(np.ceil(len(tiles) / columns))
    cw, ch = max(t.width for t in tiles), max(t.height for t in tiles)
    canvas = Image.new(
        "RGB" if colour else "L",
        (columns * (cw + pad) + pad, rows * (ch + pad) + pad),
        background_rgb if colour else background,
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
    min_tile: int = MIN_TILE,
    labels: bool = True,
    title: str | None = None,
) -> Image.Image:
    """ZF Fig. 2 for one layer: each hit's deconvnet projection with its image patch.

    ``layout="rows"``: a row per channel, each projection right beside its patch, or, with ``labels``, above
    it; then the channel is written left of its row, the rank above each column and the activation value under
    each pair, and a ``title`` line (by default the layer and what the halves are) on top.  ``layout="zf"``: the paper's
    arrangement, per channel a square of the k projections beside the square of their k patches, the channels
    tiled in a grid (unlabelled).  ``mode`` normalises the projections (each on its own), ``patch_mode`` the
    image patches.  Tiles are enlarged to at least ``min_tile`` pixels (``scale`` is the least factor).
    """
    if layout not in ("rows", "zf"):
        raise ValueError(f"top_activations_grid: layout must be 'rows' or 'zf', got {layout!r}")
    chosen = [c for c in list(result.channels if channels is None else channels) if result.hits[c]]
    if not chosen:
        raise ValueError("top_activations_grid: no hits to draw")
    side = max(max(h.patch.shape[-2:]) for c in chosen for h in result.hits[c])
    scale = fit_scale(side, scale, min_tile)
    blocks = []
    for channel in chosen:
        hits = result.hits[channel]
        projections = [to_pil(h.projection, mode, percentile, scale) for h in hits]
        patches = [to_pil(h.patch, patch_mode, percentile, scale) for h in hits]
        if layout == "rows":
            if labels:  # a grey frame shows where a patch with white borders ends
                projections = [ImageOps.expand(t.convert("RGB"), border=1, fill=(150, 150, 150)) for t in projections]
                patches = [ImageOps.expand(t.convert("RGB"), border=1, fill=(150, 150, 150)) for t in patches]
            # labelled: the projection above its patch, so that nine pairs of >= 64 px tiles fit a 1000 px page
            # (side by side, conv3's grid was 1485 px wide and the page scaled its labels down to 10 px)
            join = _above if labels else _beside
            blocks.append([join(a, b, pad + int(labels)) for a, b in zip(projections, patches, strict=True)])
        else:
            square = int(np.ceil(np.sqrt(len(hits))))
            left = grid(projections, columns=square, pad=pad, mode=None)
            right = grid(patches, columns=square, pad=pad, mode=None)
            blocks.append(_beside(left, right, pad * 2))
    if layout == "zf":
        return grid(blocks, columns=int(np.ceil(np.sqrt(len(blocks)))), pad=pad * 2, background=200, mode=None)
    if not labels:
        rows = [grid(pairs, columns=len(pairs), pad=pad * 2, mode=None) for pairs in blocks]
        return grid(rows, columns=1, pad=pad * 2, background=200, mode=None)
    values = {c: [h.value for h in result.hits[c]] for c in chosen}
    heading = title if title is not None else f"{result.layer}: projection (top) above its image patch (bottom)"
    return _labelled_rows(blocks, [f"ch {c}" for c in chosen], values, heading)


def _labelled_rows(blocks: list[list[Image.Image]], row_labels: list[str], values: dict[Any, list[float]],
                   heading: str, gap: int = 8) -> Image.Image:
    """Rows of tiles with a label left of each row, ``#rank`` above each column and a value under each tile."""
    _, line = text_size("Ag")
    label_w = max(text_size(t)[0] for t in row_labels) + 2 * gap
    cell_w = max(t.width for pairs in blocks for t in pairs)
    cell_h = max(t.height for pairs in blocks for t in pairs)
    columns = max(len(pairs) for pairs in blocks)
    top = 2 * line + 2 * gap  # the heading, then the rank line
    row_h = cell_h + line + gap  # a tile, the value under it, a gap
    width = max(label_w + columns * (cell_w + gap) + gap, text_size(heading)[0] + 2 * gap)
    canvas = Image.new("RGB", (width, top + len(blocks) * row_h + gap), "white")
    draw_text(canvas, (gap, gap // 2), heading)
    for j in range(columns):
        draw_text(canvas, (label_w + j * (cell_w + gap), gap + line), f"#{j + 1}", fill=(90, 90, 90))
    for i, (pairs, label, vals) in enumerate(zip(blocks, row_labels, values.values(), strict=True)):
        y = top + i * row_h
        draw_text(canvas, (gap, y + cell_h // 2 - line // 2), label)
        for j, (tile, value) in enumerate(zip(pairs, vals, strict=True)):
            x = label_w + j * (cell_w + gap)
            canvas.paste(tile.convert("RGB"), (x, y))
            draw_text(canvas, (x, y + cell_h + 1), f"{value:.2f}", size=12, fill=(90, 90, 90))
    return canvas


def _above(top: Image.Image, bottom: Image.Image, pad: int) -> Image.Image:
    colour = "RGB" if "RGB" in (top.mode, bottom.mode) else "L"
    top, bottom = top.convert(colour), bottom.convert(colour)
    canvas = Image.new(colour, (max(top.width, bottom.width), top.height + bottom.height + pad),
                       (255,) * 3 if colour == "RGB" else 255)
    canvas.paste(top, (0, 0))
    canvas.paste(bottom, (0, top.height + pad))
    return canvas


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
    weight: Any, mode: str = "symmetric", scale: int = 8, columns: int | None = None, min_tile: int = MIN_TILE,
    pad: int = 3,
) -> Image.Image:
    """First-layer filters (O, C, kh, kw) as tiles; C = 3 shows colour filters, C = 1 grey ones.

    Symmetric by default: a filter's negative weights are as meaningful as its positive ones.  The tiles are
    separated by ``pad`` pixels of :data:`SEPARATOR` blue (a white or grey gap vanishes between grey filters)
    and drawn at least ``min_tile`` pixels wide.
    """
    w = _array(weight)
    if w.ndim != 4 or w.shape[1] not in (1, 3):
        raise ValueError(
            f"filter_grid: expected first-layer weights (O, 1 or 3, kh, kw), got shape {w.shape}"
        )
    scale = fit_scale(max(w.shape[-2:]), scale, min_tile)
    return grid([f for f in w], columns=columns, mode=mode, scale=scale, pad=pad, background=SEPARATOR)


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
