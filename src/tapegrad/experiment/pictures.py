"""The report's composite pictures: tables of image panels with titles (matplotlib, Agg backend) and a labelled
strip of Pillow tiles for ``tapegrad visualize --image``.

Occlusion maps are drawn as the *change* of the class probability, ``p(occluded) - p(unoccluded)``, on one
symmetric scale shared by every map of the figure, with a colour bar.  Each map on its own range (as before)
painted a 0.57-0.57 map from deep blue to deep red: noise looked like structure, and maps could not be compared.
A map whose largest change is below :data:`NO_EFFECT` says "no effect" instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

NO_EFFECT = 0.01  # largest |change of probability| below which an occlusion map is called "no effect"
PANEL_INCHES = 1.9  # one panel; at 100 dpi a 28x28 image is drawn 6x, titles at 10 pt are ~14 px high
DPI = 100


_said: set[str] = set()


def say_once(message: str) -> None:
    """Print ``message`` to stderr the first time it is asked for in this process (a missing tool is said once,
    not per report section or per run of a loop)."""
    if message not in _said:
        _said.add(message)
        print(message, file=sys.stderr, flush=True)


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (files only, no display), or an ImportError saying how to get it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("the report's plots need matplotlib: pip install 'matplotlib>=3.7,<4' "
                          "(it is a dependency of tapegrad; reinstall with pip install -e .)") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


@dataclass
class Panel:
    """One picture of a figure row.

    ``kind``: ``"image"`` (grey, min-max), ``"signed"`` (grey, zero at mid grey: projections have both signs)
    or ``"change"`` (an occlusion map of probability changes, on the figure's shared blue-white-red scale).
    """

    array: np.ndarray
    title: str
    kind: str = "image"


def _plane(array: np.ndarray) -> np.ndarray:
    a = np.asarray(array, dtype=np.float64)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    return a


def change_limit(maps: Sequence[np.ndarray]) -> float:
    """The shared symmetric limit of the occlusion maps: their largest |change|, at least 0.05 (so that maps of
    a hundredth or less stay nearly white instead of being blown up to full colour)."""
    largest = max((float(np.abs(m).max()) for m in maps), default=0.0)
    return max(largest, 0.05)


TITLE_LINE_INCHES = 0.2  # a 10 pt title line with its spacing
GAP_INCHES = 0.12  # between neighbouring panels, and around the figure
COLOUR_BAR_INCHES = 1.1  # the colour bar, its ticks and its label, right of the panels


def panel_figure(rows: Sequence[Sequence[Panel]], path: str | Path, caption: str | None = None) -> Path:
    """Write a figure of ``rows`` of panels; the ``"change"`` panels share one scale and one colour bar.

    The panels sit on a fixed grid computed here (every panel the same square, its title above it), not placed
    by matplotlib's constrained layout: the layout engine measured every axis' tight bounding box and took
    1.2 of the 2.1 s the demo's 8x4 misclassified-images figure needed (2026-12-02); the grid gives the same
    picture in a fraction of that.
    """
    plt = pyplot()
    columns = max(len(r) for r in rows)
    changes = [p.array for r in rows for p in r if p.kind == "change"]
    limit = change_limit(changes) if changes else None
    lines = max(p.title.count("\n") + 1 for r in rows for p in r)
    extra = COLOUR_BAR_INCHES if limit is not None else 0.0
    top = 0.1 + 0.3 * bool(caption)
    row_inches = PANEL_INCHES + TITLE_LINE_INCHES * lines
    width, height = columns * PANEL_INCHES + extra, len(rows) * row_inches + top + 0.1
    side = PANEL_INCHES - GAP_INCHES
    fig = plt.figure(figsize=(width, height))

    def box(left: float, bottom: float, w: float, h: float) -> list[float]:  # inches -> figure fractions
        return [left / width, bottom / height, w / width, h / height]

    mappable = None
    for i, row in enumerate(rows):
        bottom = height - top - (i + 1) * row_inches + GAP_INCHES / 2
        for j, panel in enumerate(row):
            ax = fig.add_axes(box(j * PANEL_INCHES + GAP_INCHES / 2, bottom, side, side))
            ax.set_xticks([])
            ax.set_yticks([])
            a = _plane(panel.array)
            if panel.kind == "change":
                mappable = ax.imshow(a, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
                if float(np.abs(a).max()) < NO_EFFECT:
                    ax.text(0.5, 0.5, f"no effect\n(|change| < {NO_EFFECT:g})", transform=ax.transAxes,
                            ha="center", va="center", fontsize=9, color="#333")
            elif panel.kind == "signed":
                m = float(np.abs(a).max()) or 1.0
                ax.imshow(a, cmap="gray", vmin=-m, vmax=m, interpolation="nearest")
            else:
                ax.imshow(a, cmap="gray" if a.ndim == 2 else None, interpolation="nearest")
            ax.set_title(panel.title, fontsize=10, pad=4)
    if caption:
        fig.suptitle(caption, fontsize=11, y=1 - 0.08 / height, va="top")
    if mappable is not None:
        panels_height = len(rows) * row_inches
        bar_height = max(min(0.9, 2.0 / len(rows) + 0.3) * panels_height - TITLE_LINE_INCHES * lines, 0.5)
        bar_bottom = height - top - panels_height / 2 - bar_height / 2
        cax = fig.add_axes(box(columns * PANEL_INCHES + GAP_INCHES, bar_bottom, 0.18, bar_height))
        bar = fig.colorbar(mappable, cax=cax)
        bar.set_label("change of p when occluded (shared scale)", fontsize=10)
        bar.ax.tick_params(labelsize=9)
    path = Path(path)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def labelled_row(tiles: Sequence[Image.Image], labels: Sequence[str], pad: int = 10) -> Image.Image:
    """Pillow tiles side by side, each with a one-line label above it (scalable font, ``pad`` px around)."""
    from tapegrad.viz.text import draw_text, text_size

    tiles = [t.convert("RGB") for t in tiles]
    widths = [max(t.width, text_size(label)[0]) for t, label in zip(tiles, labels, strict=True)]
    _, line = text_size("Ag")
    width = sum(widths) + pad * (len(tiles) + 1)
    height = max(t.height for t in tiles) + line + 3 * pad
    canvas = Image.new("RGB", (max(width, 1), height), "white")
    x = pad
    for tile, label, w in zip(tiles, labels, widths, strict=True):
        draw_text(canvas, (x, pad), label)
        canvas.paste(tile, (x, 2 * pad + line))
        x += w + pad
    return canvas


def stack_rows(rows: Sequence[Image.Image], background: Any = "white") -> Image.Image:
    """Pillow pictures one under the other, left-aligned."""
    width = max(r.width for r in rows)
    canvas = Image.new("RGB", (width, sum(r.height for r in rows)), background)
    y = 0
    for row in rows:
        canvas.paste(row, (0, y))
        y += row.height
    return canvas
