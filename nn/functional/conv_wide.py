"""Convolution columns without im2col's short rows: "wide" columns over the padded width.

With stride 1, window (oh, ow) and tap (i, j) read padded position (oh + i*dh, ow + j*dw).  Numbering window
positions over the padded width Wp (flat q = oh*Wp + ow), the tap reads the flattened padded plane at
q + i*dh*Wp + j*dw.  So each tap's row of columns is one contiguous copy of the padded plane, and a product with
the weights gives grid_h x Wp outputs, of which the first grid_w of each row are the convolution (the others
are finite values that are never read; a gradient multiplied with these columns is widened with zeros there).

With stride s > 1 the same holds on the input's s x s stride phases (``kernels.phase_columns``: phase (pr, pc)
holds the padded rows pr, pr + s, ... and columns pc, pc + s, ...): window (oh, ow) and tap (i, j) read phase
((i*dh) % s, (j*dw) % s) at (oh + (i*dh)//s, ow + (j*dw)//s), one contiguous copy per tap again, over rows of
the phase width Wq = ceil(Wp / s) (``wide_width``).  The strided im2col it replaces copied 110-element rows at
about 90 ns each (conv case (c), 8x3x224x224 k5 s2: forward 17.4 -> 13.1 ms on one thread).

Measured (2026-12-02, 1 thread, forward 64x64x16x16 k3 / 16x16x112x112 k3 p1): 20 / 60 ms against 36 / 112 ms
through im2col, whose copies of 14-112-element rows ran at 2.6 GB/s (docs/performance.md, "Convolution,
2026-12-02").  Columns come in chunks of about ``CHUNK_BYTES`` of samples, a whole sample up to ``BAND_BYTES``,
or one sample's band of output rows beyond (the 3x3 input gradient of 16 x 112 x 112 channels has 14.7 MB of
columns per sample; a band keeps the scratch buffer small).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tapegrad.autograd import kernels
from tapegrad.autograd.runtime import scratch

from .geometry import Geometry

CHUNK_BYTES = 1 << 20
"""Bytes of columns per chunk of samples: 0.5, 1, 2 and 4 MiB were measured; 1 MiB was best or within 10 %."""

BAND_BYTES = 4 << 20
"""A sample's columns up to this size go whole; larger ones in bands of output rows of about this size.
Bands of 1 MiB made 16x16x64x64 -> 32 k3 p1 (2.4 MB of columns per sample) 20-30 % slower than whole samples
(more, thinner products); 4 MiB bands keep the 14.7 MB per sample of the 112x112 input gradient in check."""


def wide_bands(
    x: Any, geo: Geometry, lo: int, hi: int, side_by_side: bool = False
) -> Iterator[tuple[int, int, int, int, Any]]:
    """Yield ``(start, stop, r0, r1, cols)``: the wide columns of samples ``start:stop`` for output rows
    ``r0:r1``, shaped (stop - start, C*kh*kw, (r1 - r0) * Wp), in this thread's scratch buffer (overwritten by
    the next chunk).

    ``side_by_side``: shaped (C*kh*kw, stop - start, (r1 - r0) * Wp) instead, the chunk's samples next to each
    other along each row, so that one product covers the chunk.  The weight gradient uses it (one
    (K x chunk) @ (chunk x O) product instead of one per sample and a sum: 0.81-0.91x the time on the small
    convolutions of the benchmarks, 2 threads); the forward and the input gradient do not (their copies out of
    the chunk's product ran up to 1.3x slower on small images).
    """
    c, h = x.shape[1:3]
    taps = geo.kh * geo.kw
    strided = geo.sh != 1 or geo.sw != 1
    # the padded plane, or with a larger stride one of the input's stride phases (``kernels.phase_columns``)
    hp, wp = -(-(h + 2 * geo.ph) // geo.sh), wide_width(geo)
    row_bytes = c * taps * wp * x.dtype.itemsize
    samples = wide_samples(c, x.dtype, geo, hi - lo)
    band = geo.grid_h if row_bytes * geo.grid_h <= BAND_BYTES else max(1, BAND_BYTES // row_bytes)
    for start in range(lo, hi, samples):
        stop = min(hi, start + samples)
        nb = stop - start
        if strided:
            planes = scratch("x_phases", (nb, c, geo.sh * geo.sw, hp * wp + (geo.kw - 1) * geo.dw // geo.sw),
                             x.dtype, x)
        else:
            planes = scratch("x_padded", (nb, c, hp * wp + (geo.kw - 1) * geo.dw), x.dtype, x)
        for r0 in range(0, geo.grid_h, band):
            r1 = min(geo.grid_h, r0 + band)
            width = (r1 - r0) * wp
            shape = (c, taps, nb, width) if side_by_side else (nb, c, taps, width)
            cols = scratch("x_cols_wide", shape, x.dtype, x)
            if strided:
                kernels.phase_columns(x[start:stop], planes, cols, geo.ph, geo.pw, geo.kw, geo.sh, geo.sw, geo.dh,
                                      geo.dw, r0, r0 == 0, side_by_side)
            else:
                kernels.wide_columns(x[start:stop], planes, cols, geo.ph, geo.pw, geo.kw, geo.dh, geo.dw, r0,
                                     r0 == 0, side_by_side)
            yield start, stop, r0, r1, cols.reshape((c * taps, nb, width) if side_by_side else (nb, c * taps, width))


def wide_samples(c: int, dtype: Any, geo: Geometry, samples: int) -> int:
    """How many of ``samples`` samples of C channels go in one chunk of wide columns (``wide_bands``): about
    ``CHUNK_BYTES`` of columns, at least one sample (which then goes in bands when over ``BAND_BYTES``)."""
    per_sample = c * geo.kh * geo.kw * wide_width(geo) * geo.grid_h * dtype.itemsize
    if per_sample > BAND_BYTES:
        return 1
    return max(1, min(samples, CHUNK_BYTES // max(per_sample, 1)))


def widen(grad: Any, geo: Geometry, groups: int) -> Any:
    """A band of the gradient, (nb, O, rows, grid_w) -> (groups, O/groups, nb * rows * Wp), the samples side by
    side as in ``wide_bands(..., side_by_side=True)``, zeros past grid_w (so that the columns' extra positions
    add nothing)."""
    nb, o, rows, _ = grad.shape
    out = scratch("grad_widened", (o, nb, rows, wide_width(geo)), grad.dtype, grad)
    kernels.widen(grad, out, True)
    return out.reshape(groups, o // groups, -1)


def wide_rows(product: Any, geo: Geometry, rows: int) -> Any:
    """A wide product (nb, groups, O/groups, rows*Wp) as (nb, O, rows, Wp): its first grid_w columns are the
    convolution's output (``kernels.wide_output`` copies them out)."""
    nb, groups, og, _ = product.shape
    return product.reshape(nb, groups * og, rows, wide_width(geo))


def has_wide_columns(geo: Geometry) -> bool:
    """Whether the forward and the weight gradient build wide columns: always with stride 1; with a larger stride
    when the kernel's taps read every one of the input's stride phases (the phases are written whole).  Measured
    (2026-12-02, one thread, in-process A/B against im2col, forward / weight gradient): 8x3x224x224 k5 s2 0.75 /
    0.80, 32x16x28x28 k3 s2 p1 0.70 / 0.70, 16x64x56x56 k3 s2 p1 0.93 / 0.95, 8x3x224x224 k7 s2 p3 0.93 / 0.84;
    a 1x1 kernel of stride 2, which reads one phase of four, 2.05 / 2.12 (so it keeps im2col)."""
    if geo.sh == geo.sw == 1:
        return True
    rows = {(i * geo.dh) % geo.sh for i in range(geo.kh)}
    columns = {(j * geo.dw) % geo.sw for j in range(geo.kw)}
    return len(rows) == geo.sh and len(columns) == geo.sw


def wide_width(geo: Geometry) -> int:
    """The width of a row of wide columns: the padded width, or for a strided convolution the width of one of the
    input's stride phases (the padded width divided by the stride, rounded up)."""
    return -(-(geo.w + 2 * geo.pw) // geo.sw)
