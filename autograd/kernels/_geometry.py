"""Window geometry as the kernels see it: a tuple starting (kh, kw, sh, sw, ph, pw, dh, dw, h, w, ho, wo).

``nn.functional``'s ``Geometry`` (``nn/functional/geometry.py``) is a NamedTuple that starts with exactly these
fields (``h, w`` the image, ``grid_h, grid_w`` the window positions, then a ``transposed`` flag the kernels do not
need), so it is passed as is and read through its first 12 values; the kernel layer does not import nn (layers
point one way).
"""

from __future__ import annotations

import functools
from typing import Any

Taps = tuple[tuple[int, int, tuple[slice, slice], tuple[slice, slice]], ...]


def taps(g: Any) -> Taps:
    """For each kernel tap (i, j) in row-major order: the output positions whose window puts that tap inside
    the input, and the strided input slice those positions read (padding is never read, never copied)."""
    return _taps(tuple(int(v) for v in tuple(g)[:12]))


@functools.lru_cache(maxsize=256)
def _taps(g: tuple[int, ...]) -> Taps:
    kh, kw, sh, sw, ph, pw, dh, dw, h, w, ho, wo = g
    rows = [_tap_range(i * dh, ph, sh, h, ho) for i in range(kh)]
    columns = [_tap_range(j * dw, pw, sw, w, wo) for j in range(kw)]
    return tuple((i, j, (r[0], c[0]), (r[1], c[1])) for i, r in enumerate(rows) for j, c in enumerate(columns))


def _tap_range(offset: int, padding: int, stride: int, size: int, out: int) -> tuple[slice, slice]:
    """Output positions o with 0 <= o*stride - padding + offset < size, and the input slice they read."""
    lo = min(out, max(0, -(-(padding - offset) // stride)))
    hi = max(lo, min(out, (size - 1 + padding - offset) // stride + 1))
    start = lo * stride - padding + offset
    return slice(lo, hi), slice(start, start + (hi - lo - 1) * stride + 1 if hi > lo else start, stride)
