"""Text on Pillow pictures: a scalable font, so labels read at 100 % zoom.

Pillow's built-in bitmap font is about 10 px high with 1 px letter gaps ("says shirt" reads "saysshirt"). DejaVu
Sans (shipped by most Linux distributions and by matplotlib) is used where Pillow finds it, else Pillow's own
scalable default font (``ImageFont.load_default(size=...)``, Pillow >= 10.1), else the bitmap font.
"""

from __future__ import annotations

import functools
from typing import Any

from PIL import Image, ImageDraw, ImageFont

LABEL_SIZE = 14  # px: the x-height is then about 7 px, readable on a 96-dpi screen without zooming


@functools.lru_cache(maxsize=16)
def font(size: int = LABEL_SIZE) -> Any:
    """A font ``size`` pixels high: DejaVu Sans, Pillow's scalable default, or (old Pillow) the bitmap font."""
    for name in ("DejaVuSans.ttf", _matplotlib_dejavu()):
        if name:
            try:
                return ImageFont.truetype(name, size)
            except OSError:
                pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the bitmap font
        return ImageFont.load_default()


def _matplotlib_dejavu() -> str | None:
    """matplotlib's copy of DejaVu Sans, found without importing matplotlib (it costs 0.3 s)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    return str(path) if path.is_file() else None


def text_size(text: str, size: int = LABEL_SIZE) -> tuple[int, int]:
    """(width, height) in pixels of ``text`` in :func:`font`; the height is the font's line height."""
    f = font(size)
    left, _, right, _ = f.getbbox(text)
    ascent, descent = f.getmetrics() if hasattr(f, "getmetrics") else (size, 0)
    return int(right - left), int(ascent + descent)


def draw_text(image: Image.Image, xy: tuple[int, int], text: str, size: int = LABEL_SIZE,
              fill: Any = (0, 0, 0)) -> None:
    """Write ``text`` with its top-left corner at ``xy``."""
    draw = ImageDraw.Draw(image)
    if image.mode == "L" and isinstance(fill, tuple):
        fill = int(sum(fill) / 3)
    draw.text(xy, text, fill=fill, font=font(size))
