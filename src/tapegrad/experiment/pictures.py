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


def new_figure(width: float, height: float) -> Any:
    """A matplotlib figure of ``width`` x ``height`` inches at ``DPI``, drawn by the Agg canvas (files only, no
    display), or an ImportError saying how to get matplotlib.

    pyplot is not used: its global registry of figures is one more thing to close after every picture, and
    importing it took 0.3 s more than the figure alone (2026-12-02).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("the report's plots need matplotlib: pip install 'matplotlib>=3.7,<4' "
                          "(it is a dependency of tapegrad; reinstall with pip install -e .)") from None
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


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

    The panels sit on a fixed grid computed here (every panel the same square, its title above it).  A panel is
    a picture, not a plot (no ticks, no data axes), so it is drawn as an image placed on the figure with a frame
    and a title (``figimage``), each array coloured by the same colour maps and norms ``imshow`` uses and
    enlarged by whole source pixels (nearest neighbour, as ``imshow``'s ``"nearest"``); only the colour bar,
    which has a scale to read, is an axes.  An axes per panel (``add_axes`` + ``imshow``) took 1.5-1.7 s of
    matplotlib's time for the demo's 10x4 misclassified-images figure, 33 ms per panel to create and as much to
    draw (2026-12-02); constrained layout, before that, another 1.2 s.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    columns = max(len(r) for r in rows)
    changes = [p.array for r in rows for p in r if p.kind == "change"]
    limit = change_limit(changes) if changes else None
    lines = max(p.title.count("\n") + 1 for r in rows for p in r)
    extra = COLOUR_BAR_INCHES if limit is not None else 0.0
    top = 0.1 + 0.3 * bool(caption)
    row_inches = PANEL_INCHES + TITLE_LINE_INCHES * lines
    width, height = columns * PANEL_INCHES + extra, len(rows) * row_inches + top + 0.1
    side = round((PANEL_INCHES - GAP_INCHES) * DPI)  # the square a panel's picture fits in, in pixels
    fig = new_figure(width, height)

    def box(left: float, bottom: float, w: float, h: float) -> list[float]:  # inches -> figure fractions
        return [left / width, bottom / height, w / width, h / height]

    title_pad = 4 / 72 / height  # matplotlib's title pad, 4 points, as a fraction of the figure
    for i, row in enumerate(rows):
        bottom = round((height - top - (i + 1) * row_inches + GAP_INCHES / 2) * DPI)
        for j, panel in enumerate(row):
            plane = _plane(panel.array)
            picture = _enlarged(_colours(plane, panel.kind, limit), side)
            h, w = picture.shape[:2]
            x0, y0 = round((j * PANEL_INCHES + GAP_INCHES / 2) * DPI) + (side - w) // 2, bottom + (side - h) // 2
            fig.figimage(picture, x0, y0, origin="upper")
            left, low, w_frac, h_frac = box(x0 / DPI, y0 / DPI, w / DPI, h / DPI)
            fig.add_artist(Rectangle((left, low), w_frac, h_frac, transform=fig.transFigure, fill=False,
                                     linewidth=0.8, edgecolor="black"))
            centre = left + w_frac / 2
            fig.text(centre, low + h_frac + title_pad, panel.title, fontsize=10, ha="center", va="baseline")
            if panel.kind == "change" and float(np.abs(plane).max()) < NO_EFFECT:
                fig.text(centre, low + h_frac / 2, f"no effect\n(|change| < {NO_EFFECT:g})",
                         ha="center", va="center", fontsize=9, color="#333")
    if caption:
        fig.suptitle(caption, fontsize=11, y=1 - 0.08 / height, va="top")
    if limit is not None:
        panels_height = len(rows) * row_inches
        bar_height = max(min(0.9, 2.0 / len(rows) + 0.3) * panels_height - TITLE_LINE_INCHES * lines, 0.5)
        bar_bottom = height - top - panels_height / 2 - bar_height / 2
        cax = fig.add_axes(box(columns * PANEL_INCHES + GAP_INCHES, bar_bottom, 0.18, bar_height))
        bar = fig.colorbar(ScalarMappable(Normalize(-limit, limit), CHANGE_MAP), cax=cax)
        bar.set_label("change of p when occluded (shared scale)", fontsize=10)
        bar.ax.tick_params(labelsize=9)
    path = Path(path)
    fig.savefig(path, dpi=DPI)
    return path


CHANGE_MAP = "RdBu_r"  # occlusion changes: blue where occluding lowers p, red where it raises it


def _colours(a: np.ndarray, kind: str, limit: float | None) -> np.ndarray:
    """A panel's plane (``_plane``) as float RGBA, coloured as ``imshow`` colours it: grey scaled min-max
    (``"image"``), grey symmetric around zero (``"signed"``), or the shared blue-white-red scale (``"change"``);
    an RGB image as it is, clipped to [0, 1].  NaN comes out transparent (the white page), as ``imshow``'s "bad"
    colour."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    if kind == "change":
        return colormaps[CHANGE_MAP](Normalize(-limit, limit)(a))
    if kind == "signed":
        m = float(np.nanmax(np.abs(a))) if np.isfinite(a).any() else 1.0
        return colormaps["gray"](Normalize(-(m or 1.0), m or 1.0)(a))
    if a.ndim == 3:  # RGB
        return np.concatenate([np.clip(a, 0.0, 1.0), np.ones(a.shape[:2] + (1,))], axis=2)
    finite = a[np.isfinite(a)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return colormaps["gray"](Normalize(low, high)(a))


def _enlarged(picture: np.ndarray, side: int) -> np.ndarray:
    """``picture`` (h, w, channels) scaled to fit a ``side`` x ``side`` square, keeping its aspect, each output
    pixel the source pixel under its centre."""
    h, w = picture.shape[:2]
    scale = side / max(h, w)
    out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    rows = ((np.arange(out_h) + 0.5) * h / out_h).astype(int)
    cols = ((np.arange(out_w) + 0.5) * w / out_w).astype(int)
    return picture[rows[:, None], cols[None, :]]


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
