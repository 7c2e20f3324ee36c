"""Small Pillow helpers for the report: labelled strips of pictures and a heat map with a fixed colour
scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw


def heat_colours(values: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Values -> RGB uint8 on a fixed blue (lo) .. white .. red (hi) scale, so maps are comparable."""
    t = np.clip((np.asarray(values, dtype=np.float64) - lo) / ((hi - lo) or 1.0), 0, 1)
    r = np.where(t < 0.5, 2 * t, 1.0)
    b = np.where(t < 0.5, 1.0, 2 * (1 - t))
    g = 1 - np.abs(2 * t - 1)
    return np.round(np.stack([r, g, b], axis=-1) * 255).astype(np.uint8)


def heat_image(values: np.ndarray, size: tuple[int, int], lo: float = 0.0, hi: float = 1.0) -> Image.Image:
    """A (rows, cols) map drawn at ``size`` (width, height): ``lo`` blue, ``hi`` red."""
    return Image.fromarray(heat_colours(values, lo, hi)).resize(size, Image.Resampling.NEAREST)


def occlusion_tile(probabilities: np.ndarray, size: tuple[int, int]) -> tuple[Image.Image, str]:
    """The occlusion map on its own range (blue = its lowest, red = its highest probability) and that range.

    A fixed 0..1 scale hides the structure: a confident network loses only a little probability to any one
    occluder, so the range is printed instead of being imposed.
    """
    lo, hi = float(probabilities.min()), float(probabilities.max())
    return heat_image(probabilities, size, lo, max(hi, lo + 1e-6)), f"{lo:.2f}-{hi:.2f}"


def labelled_row(tiles: Sequence[Image.Image], labels: Sequence[str], pad: int = 6,
                 label_height: int = 14) -> Image.Image:
    """Tiles side by side, each with a one-line label above it."""
    tiles = [t.convert("RGB") for t in tiles]
    width = sum(t.width for t in tiles) + pad * (len(tiles) + 1)
    height = max(t.height for t in tiles) + label_height + 2 * pad
    canvas = Image.new("RGB", (max(width, 1), height), "white")
    draw = ImageDraw.Draw(canvas)
    x = pad
    for tile, label in zip(tiles, labels, strict=True):
        draw.text((x, pad // 2), label, fill=(0, 0, 0))
        canvas.paste(tile, (x, pad + label_height))
        x += tile.width + pad
    return canvas


def stack_rows(rows: Sequence[Image.Image], background: Any = "white") -> Image.Image:
    width = max(r.width for r in rows)
    canvas = Image.new("RGB", (width, sum(r.height for r in rows)), background)
    y = 0
    for row in rows:
        canvas.paste(row, (0, y))
        y += row.height
    return canvas
