"""The stride-1 convolution's "wide" columns: images zero-padded into flat planes, one contiguous copy of the
plane per kernel tap (``nn/functional/conv_wide.py`` explains the layout), and the adjoint of both, which sums
the taps' columns back into an image (the input gradient's col2im).

Why compiled: NumPy's copies hold the GIL, so the kernel pool's threads wait on each other while they build
columns.  Measured (2026-12-02, a chunk of 8x3x32x32 with a 3x3 kernel: 940 KB of columns, 4000 chunks per
thread): NumPy's zero + plane copy + nine tap copies 62-81 µs per chunk on one thread and 94-96 µs on two
(threads slow each other down), these kernels 40 µs on one thread and 25 µs on two.  The loops copy between
one-dimensional views with a plain index, which LLVM vectorises; indexing the flat plane at ``offset + q``
instead ran 4x slower (163-204 µs per chunk).  Serial: each call is one pool thread's chunk.
"""

from __future__ import annotations

from typing import Any

from ._compile import jit
from ._dispatch import kernel


def pad_planes_numpy(x: Any, padded: Any, ph: int, pw: int) -> None:
    """Write (N, C, H, W) ``x`` (any strides) zero-padded by ``ph``/``pw`` into the flat planes ``padded``,
    (N, C, L) with L >= (H + 2ph) * (W + 2pw); everything past the padded plane is zeroed too (the last taps'
    copies run into it)."""
    nb, c, h, w = x.shape
    hp, wp = h + 2 * ph, w + 2 * pw
    padded[...] = 0
    padded[:, :, : hp * wp].reshape(nb, c, hp, wp)[:, :, ph : ph + h, pw : pw + w] = x


def wide_taps_numpy(padded: Any, cols: Any, kw: int, dh: int, dw: int, wp: int, r0: int) -> None:
    """``cols[:, :, t]`` = the flat planes from tap t's offset, for output rows from ``r0``: ``padded`` is
    (N, C, L) of rows ``wp`` long, ``cols`` (N, C, kh*kw, width)."""
    width = cols.shape[3]
    for t in range(cols.shape[2]):
        offset = (t // kw) * dh * wp + (t % kw) * dw + r0 * wp
        cols[:, :, t] = padded[:, :, offset : offset + width]


@jit(parallel=False)
def _pad_planes(x, padded, ph, pw):  # noqa: ANN001, ANN202 - Numba
    nb, c, h, w = x.shape
    wp = w + 2 * pw
    for b in range(nb):
        for ch in range(c):
            plane = padded[b, ch]
            top = plane[: ph * wp + pw]
            for q in range(top.shape[0]):
                top[q] = 0
            for r in range(h):
                start = (r + ph) * wp + pw
                source, target = x[b, ch, r], plane[start : start + w]
                for q in range(w):
                    target[q] = source[q]
                gap = plane[start + w : start + w + 2 * pw]  # this row's right and the next row's left padding
                for q in range(gap.shape[0]):
                    gap[q] = 0
            rest = plane[(h + ph) * wp + pw :]
            for q in range(rest.shape[0]):
                rest[q] = 0


@jit(parallel=False)
def _wide_taps(padded, cols, kw, dh, dw, wp, r0):  # noqa: ANN001, ANN202 - Numba
    nb, c, taps, width = cols.shape
    for b in range(nb):
        for ch in range(c):
            for t in range(taps):
                offset = (t // kw) * dh * wp + (t % kw) * dw + r0 * wp
                source, target = padded[b, ch, offset : offset + width], cols[b, ch, t]
                for q in range(width):
                    target[q] = source[q]


def wide_fold_numpy(taps: Any, padded: Any, out: Any, kw: int, ph: int, pw: int, dh: int, dw: int) -> None:
    """``out`` (N, C, H, W) = the sum of the taps' columns ``taps`` (N, C, kh*kw, grid_h*Wp) at their offsets in
    the zero-padded flat planes ``padded`` (N, C, L; scratch, overwritten), cropped to the image."""
    nb, c, h, w = out.shape
    hp, wp = h + 2 * ph, w + 2 * pw
    wide = taps.shape[3]
    padded[...] = 0
    for t in range(taps.shape[2]):
        offset = (t // kw) * dh * wp + (t % kw) * dw
        padded[:, :, offset : offset + wide] += taps[:, :, t]
    out[...] = padded[:, :, : hp * wp].reshape(nb, c, hp, wp)[:, :, ph : ph + h, pw : pw + w]


@jit(parallel=False)
def _wide_fold(taps, padded, out, kw, ph, pw, dh, dw):  # noqa: ANN001, ANN202 - Numba
    nb, c, h, w = out.shape
    wp = w + 2 * pw
    count, wide = taps.shape[2], taps.shape[3]
    for b in range(nb):
        for ch in range(c):
            plane = padded[b, ch]
            for q in range(plane.shape[0]):
                plane[q] = 0
            for t in range(count):
                offset = (t // kw) * dh * wp + (t % kw) * dw
                source, target = taps[b, ch, t], plane[offset : offset + wide]
                for q in range(wide):
                    target[q] += source[q]
            for r in range(h):
                start = (r + ph) * wp + pw
                source, target = plane[start : start + w], out[b, ch, r]
                for q in range(w):
                    target[q] = source[q]


def wide_fold_compiled(taps: Any, padded: Any, out: Any, kw: int, ph: int, pw: int, dh: int, dw: int) -> None:
    _wide_fold(taps, padded, out, kw, ph, pw, dh, dw)


def pad_planes_compiled(x: Any, padded: Any, ph: int, pw: int) -> None:
    _pad_planes(x, padded, ph, pw)


def wide_taps_compiled(padded: Any, cols: Any, kw: int, dh: int, dw: int, wp: int, r0: int) -> None:
    _wide_taps(padded, cols, kw, dh, dw, wp, r0)


pad_planes = kernel("pad_planes", pad_planes_numpy, pad_planes_compiled, arrays=2)
wide_taps = kernel("wide_taps", wide_taps_numpy, wide_taps_compiled, arrays=2)
wide_fold = kernel("wide_fold", wide_fold_numpy, wide_fold_compiled, arrays=3)
