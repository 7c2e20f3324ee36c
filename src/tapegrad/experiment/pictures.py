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


def heat_image(values: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """A (rows, cols) map in [0, 1] drawn at ``size`` (width, height) with nearest-neighbour cells."""
    return Image.fromarray(heat_colours(values)).resize(size, Image.Resampling.NEAREST)


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
