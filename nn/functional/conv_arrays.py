"""The array computations of 2-D convolution: the forward, the input gradient and the weight gradient.

Plain functions on NumPy/CuPy arrays, no autograd: the Functions of ``conv.py`` call them (and a compiled kernel
can replace one without touching the tape).  All three are im2col + matrix products, with the columns laid out
(C, kh, kw, grid_h, grid_w) per sample:

* forward: the columns of each sample times the weight matrix (O, C*kh*kw) give the (O, grid) NCHW output
  directly, one BLAS call per sample;
* input gradient (also the forward of the transposed convolution): col2im(Wᵀ @ grad); for stride 1 over whole
  flattened padded planes, see ``_input_gradient_stride1``;
* weight gradient: Σₙ colsₙ @ gradₙᵀ, accumulated per sample (the columns are rebuilt, not kept by the forward:
  the tape then holds only the input and the weight).

The batch goes in chunks of about ``CHUNK_BYTES`` of columns, built in a reused scratch buffer so the product
reads them from cache.  Groups split channels into independent blocks: one more stacked (batch) axis of the
product.  Threads: slices of the batch run on tapegrad's kernel pool when the BLAS runs one thread per call
(``autograd/runtime.py``); weight gradients of the slices are summed in batch order, so the result does not
depend on the thread count.  The measurements behind these choices, and what was tried and not kept:
docs/performance.md, "Convolution".
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterator
from typing import Any

from tapegrad.autograd.runtime import array_module, over_batch, scratch

from .geometry import Geometry
from .im2col import fold_array, unfold_array

CHUNK_BYTES = 1 << 20
"""Columns are built for this many bytes' worth of samples at a time, so that they are still in cache when
the matrix product reads them (a whole batch's columns would go to memory and back)."""

MIN_COLUMNS_PER_THREAD = 1 << 21
"""Column elements below which a convolution stays on one thread (a smaller hand-off was measured slower)."""


def conv2d_forward(x: Any, weight: Any, geo: Geometry, groups: int, bias: Any = None) -> Any:
    """(N, C, H, W) cross-correlated with (O, C/groups, kh, kw) -> (N, O, grid_h, grid_w), plus the (O,) bias
    if given (added per chunk while the output is in cache: the separate pass over the output it replaced took
    3 ms of the 224x224 step)."""
    xp = array_module(x)
    n, c = x.shape[:2]
    o = weight.shape[0]
    b4 = None if bias is None else bias.reshape(1, o, 1, 1)
    k, spatial = c * geo.kh * geo.kw // groups, geo.grid_h * geo.grid_w
    w3 = weight.reshape(groups, o // groups, k)
    out = xp.empty((n, o, geo.grid_h, geo.grid_w), dtype=x.dtype)

    def kernel(lo: int, hi: int) -> None:
        if geo.sh == geo.sw == 1:
            for start, stop in _wide_chunks(c, x.dtype, geo, lo, hi):
                cols = _wide_columns(x[start:stop], geo)
                wide = cols.shape[-1]
                product = scratch("out_wide", (stop - start, groups, o // groups, wide), x.dtype, x)
                xp.matmul(w3, cols.reshape(stop - start, groups, k, wide), out=product)
                rows = product.reshape(stop - start, o, geo.grid_h, wide // geo.grid_h)[..., : geo.grid_w]
                if b4 is None:
                    out[start:stop] = rows
                else:
                    xp.add(rows, b4, out=out[start:stop])
            return
        for start, stop, cols in _chunks(n, c, x.dtype, x, geo, lo, hi):
            unfold_array(x[start:stop], geo, cols)
            target = out[start:stop].reshape(stop - start, groups, o // groups, spatial)
            xp.matmul(w3, cols.reshape(stop - start, groups, k, spatial), out=target)
            if b4 is not None:
                out[start:stop] += b4

    _over_batch(n, n * c * geo.kh * geo.kw * spatial, kernel, x)
    return out


def conv2d_input_grad(grad: Any, weight: Any, geo: Geometry, groups: int) -> Any:
    """col2im(Wᵀ @ grad): (N, O, grid_h, grid_w) and (O, C/groups, kh, kw) -> (N, C, H, W).

    The gradient of a convolution with respect to its input, and the forward of the transposed convolution.
    """
    xp = array_module(grad)
    n, o = grad.shape[:2]
    c = weight.shape[1] * groups
    full = _full_correlation(geo)
    if full is not None:
        # stride 1: the correlation of the zero-padded gradient with the flipped, transposed kernel, computed
        # by the forward (wide columns, one product per chunk); this replaced Wᵀ @ grad followed by kh*kw
        # shifted adds over the whole plane (n2 of the benchmark: input gradient 40 -> 20 ms per call)
        og, cg = o // groups, c // groups
        flipped = weight.reshape(groups, og, cg, geo.kh, geo.kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
        return conv2d_forward(grad, xp.ascontiguousarray(flipped).reshape(c, og, geo.kh, geo.kw), full, groups)
    k, spatial = c * geo.kh * geo.kw // groups, geo.grid_h * geo.grid_w
    grad4 = grad.reshape(n, groups, o // groups, spatial)
    w_t = xp.ascontiguousarray(weight.reshape(groups, o // groups, k).transpose(0, 2, 1))  # small; BLAS-friendly
    out = xp.empty((n, c, geo.h, geo.w), dtype=grad.dtype)

    def kernel(lo: int, hi: int) -> None:
        if geo.sh == geo.sw == 1:
            size = _chunk_size(c, grad.dtype, geo, hi - lo)
            for start in range(lo, hi, size):
                stop = min(hi, start + size)
                _input_gradient_stride1(w_t, grad4[start:stop], geo, out[start:stop])
            return
        for start, stop, cols in _chunks(n, c, grad.dtype, grad, geo, lo, hi):
            xp.matmul(w_t, grad4[start:stop], out=cols.reshape(stop - start, groups, k, spatial))
            fold_array(cols, geo, out[start:stop])

    _over_batch(n, n * c * geo.kh * geo.kw * spatial, kernel, grad)
    return out


def conv2d_weight_grad(grad: Any, x: Any, geo: Geometry, groups: int) -> Any:
    """Σₙ colsₙ(x) @ gradₙᵀ: (N, O, grid_h, grid_w) and (N, C, H, W) -> the (O, C/groups, kh, kw) weight gradient.

    Accumulated transposed, (K, O/groups) per group: in OpenBLAS that product runs faster than gradₙ @ colsₙᵀ
    for the usual few-output-channels, many-pixels shapes.
    """
    xp = array_module(x)
    n, c = x.shape[:2]
    o = grad.shape[1]
    k, spatial = c * geo.kh * geo.kw // groups, geo.grid_h * geo.grid_w
    grad4 = grad.reshape(n, groups, o // groups, spatial)
    partial: dict[int, Any] = {}  # one weight gradient per pool thread's slice, summed in batch order

    def kernel(lo: int, hi: int) -> None:
        total = xp.zeros((groups, k, o // groups), dtype=x.dtype)
        product = xp.empty_like(total)
        if geo.sh == geo.sw == 1:
            for start, stop in _wide_chunks(c, x.dtype, geo, lo, hi):
                cols = _wide_columns(x[start:stop], geo)
                wide = cols.shape[-1]
                cols4 = cols.reshape(stop - start, groups, k, wide)
                grad_wide = _widen(grad4[start:stop], geo, wide)
                for i in range(stop - start):
                    xp.matmul(cols4[i], grad_wide[i].transpose(0, 2, 1), out=product)
                    total += product
            partial[lo] = total
            return
        for start, stop, cols in _chunks(n, c, x.dtype, x, geo, lo, hi):
            unfold_array(x[start:stop], geo, cols)
            cols4 = cols.reshape(stop - start, groups, k, spatial)
            for i in range(start, stop):
                xp.matmul(cols4[i - start], grad4[i].transpose(0, 2, 1), out=product)
                total += product
        partial[lo] = total

    _over_batch(n, n * c * geo.kh * geo.kw * spatial, kernel, x)
    total = functools.reduce(operator.add, (partial[lo] for lo in sorted(partial)))
    return total.transpose(0, 2, 1).reshape(o, c // groups, geo.kh, geo.kw)


def _input_gradient_stride1(w_t: Any, grad: Any, geo: Geometry, out: Any) -> None:
    """col2im(Wᵀ @ grad) for a stride-1 convolution, with every col2im add running over whole image planes.

    With stride 1, window position (oh, ow) and kernel tap (i, j) read padded input position
    (oh + i*dh, ow + j*dw).  Give grad the padded width Wp (zeros in the extra columns): in the flattened padded
    plane the tap is then a constant offset i*dh*Wp + j*dw, so each of the kh*kw adds is one long contiguous
    run instead of grid_h short rows (NumPy's per-row overhead dominated the ordinary col2im on small images).
    The extra columns hold Wᵀ @ 0 = 0, so wherever they land they add nothing.
    """
    xp = array_module(grad)
    nb, groups, og, _ = grad.shape
    c, h, w = out.shape[1:]
    hp, wp = h + 2 * geo.ph, w + 2 * geo.pw
    wide = geo.grid_h * wp
    grad_wide = scratch("grad_wide", (nb, groups, og, geo.grid_h, wp), grad.dtype, grad)
    grad_wide[..., geo.grid_w :] = 0
    grad_wide[..., : geo.grid_w] = grad.reshape(nb, groups, og, geo.grid_h, geo.grid_w)
    cols = scratch("cols_wide", (nb, groups, w_t.shape[1], wide), grad.dtype, grad)
    xp.matmul(w_t, grad_wide.reshape(nb, groups, og, wide), out=cols)
    taps = cols.reshape(nb, c, geo.kh * geo.kw, wide)
    padded = scratch("padded", (nb, c, hp * wp + (geo.kw - 1) * geo.dw), grad.dtype, grad)
    padded[...] = 0
    for t in range(geo.kh * geo.kw):
        offset = (t // geo.kw) * geo.dh * wp + (t % geo.kw) * geo.dw
        padded[:, :, offset : offset + wide] += taps[:, :, t]
    out[...] = padded[:, :, : hp * wp].reshape(nb, c, hp, wp)[:, :, geo.ph : geo.ph + h, geo.pw : geo.pw + w]


def _full_correlation(geo: Geometry) -> Geometry | None:
    """For a stride-1 geometry, the geometry of the correlation that gives its input gradient (the gradient
    padded by (k-1)*d - p); None where that padding would be negative or the sizes do not come back."""
    if geo.sh != 1 or geo.sw != 1:
        return None
    pad_h, pad_w = (geo.kh - 1) * geo.dh - geo.ph, (geo.kw - 1) * geo.dw - geo.pw
    if pad_h < 0 or pad_w < 0:
        return None
    full = Geometry.make("conv2d", (geo.grid_h, geo.grid_w), (geo.kh, geo.kw), 1, (pad_h, pad_w), (geo.dh, geo.dw))
    return full if (full.grid_h, full.grid_w) == (geo.h, geo.w) else None


def _wide_columns(x: Any, geo: Geometry) -> Any:
    """Stride-1 columns without im2col's short rows: (nb, C*kh*kw, grid_h * Wp) from the padded image.

    With stride 1, window (oh, ow) and tap (i, j) read padded position (oh + i*dh, ow + j*dw); numbering window
    positions over the padded width Wp (flat q = oh*Wp + ow), the tap reads flat q + i*dh*Wp + j*dw.  So each
    tap's row of columns is one contiguous copy of the flattened padded plane, and the product gives grid_h x Wp
    outputs of which the first grid_w of each row are the convolution (the rest is never read).  Measured
    (2026-12-02, 1 thread, forward 64x64x16x16 k3 / 16x16x112x112 k3 p1): 20 / 60 ms against 36 / 112 ms
    through im2col, whose per-row copies of 14-112 elements ran at 2.6 GB/s.  The scratch buffers are reused.
    """
    nb, c, h, w = x.shape
    hp, wp = h + 2 * geo.ph, w + 2 * geo.pw
    wide = geo.grid_h * wp
    padded = scratch("x_padded", (nb, c, hp * wp + (geo.kw - 1) * geo.dw), x.dtype, x)
    if geo.ph or geo.pw:
        padded[...] = 0
    else:
        padded[:, :, hp * wp :] = 0  # the tail that the last taps' copies run into
    plane = padded[:, :, : hp * wp].reshape(nb, c, hp, wp)
    plane[:, :, geo.ph : geo.ph + h, geo.pw : geo.pw + w] = x
    cols = scratch("x_cols_wide", (nb, c, geo.kh * geo.kw, wide), x.dtype, x)
    for t in range(geo.kh * geo.kw):
        offset = (t // geo.kw) * geo.dh * wp + (t % geo.kw) * geo.dw
        cols[:, :, t] = padded[:, :, offset : offset + wide]
    return cols.reshape(nb, c * geo.kh * geo.kw, wide)


def _widen(grad: Any, geo: Geometry, wide: int) -> Any:
    """(nb, groups, O/g, grid_h*grid_w) -> (nb, groups, O/g, grid_h*Wp): zeros in the columns past grid_w, so
    that the wide columns' extra positions add nothing."""
    nb, groups, og, _ = grad.shape
    wp = wide // geo.grid_h
    out = scratch("grad_widened", (nb, groups, og, geo.grid_h, wp), grad.dtype, grad)
    out[..., geo.grid_w :] = 0
    out[..., : geo.grid_w] = grad.reshape(nb, groups, og, geo.grid_h, geo.grid_w)
    return out.reshape(nb, groups, og, wide)


def _wide_chunks(c: int, dtype: Any, geo: Geometry, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    wide = geo.grid_h * (geo.w + 2 * geo.pw)
    per_sample = c * geo.kh * geo.kw * wide * dtype.itemsize
    size = max(1, min(hi - lo, CHUNK_BYTES // max(per_sample, 1)))
    for start in range(lo, hi, size):
        yield start, min(hi, start + size)


def _over_batch(n: int, columns: int, kernel: Any, like: Any) -> None:
    """Run ``kernel(lo, hi)`` over the batch, on the pool when the BLAS is single-threaded and it pays."""
    over_batch(n, columns, kernel, like=like, blas=True, min_elements=MIN_COLUMNS_PER_THREAD)


def _chunk_size(c: int, dtype: Any, geo: Geometry, samples: int) -> int:
    per_sample = c * geo.kh * geo.kw * geo.grid_h * geo.grid_w * dtype.itemsize
    return max(1, min(samples, CHUNK_BYTES // max(per_sample, 1)))


def _chunks(
    n: int, c: int, dtype: Any, like: Any, geo: Geometry, lo: int = 0, hi: int | None = None
) -> Iterator[tuple[int, int, Any]]:
    """Yield (start, stop, columns buffer) over samples lo..hi (default: the batch) of a C-channel image; the
    buffer is this thread's scratch, sized for a chunk."""
    hi = n if hi is None else hi
    size = _chunk_size(c, dtype, geo, hi - lo)
    full = scratch("cols", (size, c, geo.kh, geo.kw, geo.grid_h, geo.grid_w), dtype, like)
    for start in range(lo, hi, size):
        stop = min(hi, start + size)
        yield start, stop, full[: stop - start]
