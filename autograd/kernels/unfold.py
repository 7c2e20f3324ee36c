"""im2col / col2im: (N, C, H, W) <-> columns (N, C, kh, kw, Ho, Wo), any stride, padding and dilation.

Groups need nothing here: they are a reshape of the channel axis of the columns.
NumPy: kh*kw strided slice copies (adds for col2im), each moving a whole (N, C, Ho, Wo) block.
Compiled: one pass over the (n, c) planes, valid ranges computed per row instead of tested per element;
col2im adds taps in the same (i, j) order as the NumPy version, so both give bit-identical sums.  Serial
(``parallel=False``): convolution calls these per cache-sized chunk between BLAS calls, and on the shared
2-core machine a parallel region there fought the BLAS threads (conv forward 3x slower, load average 12);
convolution parallelises over the batch with the runtime's pool instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._compile import jit
from ._dispatch import kernel
from ._geometry import taps

prange = range  # numba.prange once compiled (see _compile.jit)


def im2col_numpy(x: Any, g: Any, out: Any = None) -> Any:
    """Columns of every window of ``x`` (N, C, H, W) -> (N, C, kh, kw, Ho, Wo), into ``out`` if given."""
    from ..backend import array_module

    xp = array_module(x)
    kh, kw, ho, wo = g[0], g[1], g[10], g[11]
    n, c = x.shape[:2]
    cols = xp.empty((n, c, kh, kw, ho, wo), dtype=x.dtype) if out is None else out
    for i, j, (orows, ocols), (irows, icols) in taps(g):
        tap = cols[:, :, i, j]
        if orows.stop - orows.start < ho or ocols.stop - ocols.start < wo:
            tap[:, :, : orows.start] = 0
            tap[:, :, orows.stop :] = 0
            tap[:, :, :, : ocols.start] = 0
            tap[:, :, :, ocols.stop :] = 0
        tap[:, :, orows, ocols] = x[:, :, irows, icols]
    return cols


def col2im_numpy(cols: Any, g: Any, out: Any = None) -> Any:
    """Add the columns (N, C, kh, kw, Ho, Wo) back onto their windows -> (N, C, H, W) (into ``out``)."""
    from ..backend import array_module

    xp = array_module(cols)
    n, c = cols.shape[:2]
    if out is None:
        out = xp.zeros((n, c, g[8], g[9]), dtype=cols.dtype)
    else:
        out[...] = 0
    for i, j, (orows, ocols), (irows, icols) in taps(g):
        out[:, :, irows, icols] += cols[:, :, i, j, orows, ocols]
    return out


@jit(parallel=False)
def _im2col(x, out, kh, kw, sh, sw, ph, pw, dh, dw):  # noqa: ANN001, ANN202 - Numba
    n, c, h, w = x.shape
    ho, wo = out.shape[4], out.shape[5]
    for p in prange(n * c):
        b, ch = p // c, p % c
        for i in range(kh):
            # output rows [rlo, rhi) whose tap lands inside the input (no per-element test)
            rlo = min(ho, max(0, -((i * dh - ph) // sh)))
            rhi = max(rlo, min(ho, (h - 1 + ph - i * dh) // sh + 1))
            for j in range(kw):
                clo = min(wo, max(0, -((j * dw - pw) // sw)))
                chi = max(clo, min(wo, (w - 1 + pw - j * dw) // sw + 1))
                dst = out[b, ch, i, j]
                for oh in range(ho):
                    row = dst[oh]
                    if oh < rlo or oh >= rhi:
                        row[:] = 0
                        continue
                    src = x[b, ch, oh * sh - ph + i * dh]
                    row[:clo] = 0
                    start = clo * sw - pw + j * dw
                    if sw == 1:
                        row[clo:chi] = src[start : start + chi - clo]
                    else:
                        row[clo:chi] = src[start : start + (chi - clo - 1) * sw + 1 : sw]
                    row[chi:] = 0


@jit(parallel=False)
def _col2im(cols, out, kh, kw, sh, sw, ph, pw, dh, dw):  # noqa: ANN001, ANN202 - Numba
    n, c, h, w = out.shape
    ho, wo = cols.shape[4], cols.shape[5]
    for p in prange(n * c):
        b, ch = p // c, p % c
        plane = out[b, ch]
        plane[:, :] = 0
        for i in range(kh):
            # output rows [rlo, rhi) whose tap lands inside the input (no per-element test)
            rlo = min(ho, max(0, -((i * dh - ph) // sh)))
            rhi = max(rlo, min(ho, (h - 1 + ph - i * dh) // sh + 1))
            for j in range(kw):
                clo = min(wo, max(0, -((j * dw - pw) // sw)))
                chi = max(clo, min(wo, (w - 1 + pw - j * dw) // sw + 1))
                src = cols[b, ch, i, j]
                start = clo * sw - pw + j * dw
                for oh in range(rlo, rhi):
                    dst = plane[oh * sh - ph + i * dh]
                    row = src[oh]
                    for ow in range(clo, chi):
                        dst[start + (ow - clo) * sw] += row[ow]


def im2col_compiled(x: Any, g: Any, out: Any = None) -> Any:
    n, c = x.shape[:2]
    if out is None:
        out = np.empty((n, c, g[0], g[1], g[10], g[11]), dtype=x.dtype)
    _im2col(x, out, *(int(v) for v in g[:8]))
    return out


def col2im_compiled(cols: Any, g: Any, out: Any = None) -> Any:
    n, c = cols.shape[:2]
    if out is None:
        out = np.empty((n, c, g[8], g[9]), dtype=cols.dtype)
    _col2im(cols, out, *(int(v) for v in g[:8]))
    return out


im2col = kernel("im2col", im2col_numpy, im2col_compiled)
col2im = kernel("col2im", col2im_numpy, col2im_compiled)
