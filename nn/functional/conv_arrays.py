"""The array computations of 2-D convolution: the forward, the input gradient and the weight gradient.

Plain functions on NumPy/CuPy arrays, no autograd: the Functions of ``conv.py`` call them.  All three are
column building + matrix products:

* the forward and the weight gradient build "wide" columns (``conv_wide.py``: one contiguous copy per tap of
  the padded plane, or with a larger stride of one of the input's stride phases; no short rows) wherever
  ``has_wide_columns`` says so (stride 1, and larger strides whose taps read every phase); the forward is
  W @ cols per sample (the bias added while the output is in cache), the weight gradient Σₙ colsₙ @ gradₙᵀ;
* otherwise (a 1x1 kernel of stride 2, say) im2col columns laid out (C, kh, kw, grid_h, grid_w) per sample;
* the input gradient (also the forward of the transposed convolution): with stride 1, the forward of the full
  correlation (the gradient padded by (k-1)*d - p with the flipped kernel, channels swapped) where that builds
  fewer columns, else col2im(Wᵀ @ grad) over whole flattened padded planes (``_input_gradient_stride1``); with
  other strides col2im(Wᵀ @ grad) through im2col's layout;
* the columns are rebuilt for the weight gradient, not kept by the forward: the tape then holds only the input
  and the weight;
* no columns at all for a 3x3 stride-1 convolution of at most ``DIRECT_MAX_CHANNELS`` input channels on an
  image at least ``DIRECT_MIN_WIDTH`` wide (a first layer): the forward and the weight gradient run the direct
  loops of ``kernels.conv3x3_forward`` / ``conv3x3_weight_grad`` (its columns would be nine times the input).

The batch goes in chunks of about ``CHUNK_BYTES`` of columns, built in a reused scratch buffer so the product
reads them from cache.  Groups split channels into independent blocks: one more stacked (batch) axis of the
product.  Threads: slices of the batch run on tapegrad's kernel pool with one BLAS thread each
(``autograd/runtime.py``, ``over_batch``); the weight gradient sums fixed blocks of the batch (``WEIGHT_BLOCKS``),
so no result depends on the thread count.  The measurements behind these choices, and what was tried and not kept:
docs/performance.md, "Convolution".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from tapegrad.autograd import kernels
from tapegrad.autograd.runtime import array_module, over_batch, scratch

from .conv_wide import BAND_BYTES, CHUNK_BYTES, has_wide_columns, wide_bands, wide_rows, wide_samples, widen
from .geometry import Geometry
from .im2col import fold_array, unfold_array

MIN_COLUMNS_PER_THREAD = 1 << 18
"""Column elements per pool thread below which a convolution stays on one thread.  It was 2^21 while NumPy built
the columns (its copies hold the GIL, so two threads ran small convolutions no faster than one); with the
compiled column kernels and the weight gradient through ``dot``, 2^18 made the 64x3x32x32 training step of the
benchmark 36.5 -> 31.8 ms at 2 threads (in-process A/B, medians of 9 interleaved blocks; 2^16 gave 31.8)."""


DIRECT_MAX_CHANNELS = 3
"""Input channels up to which a 3x3 stride-1 convolution is computed directly (``kernels.conv3x3_forward``):
its columns (9C rows) are then nine times a small input, and the product (K <= 27) is bound by writing and
reading them.  Measured (2026-12-02, in-process A/B against wide columns, medians of 5 interleaved blocks, one
/ two threads): 3 channels at 224x224, forward 0.54-0.62 / 0.55-0.58x the time, weight gradient 0.49-0.56 /
0.47-0.55x; at 112x112 0.80 / 0.77x and 0.81 / 0.76x; 4 channels at 112x112 0.96 / 0.78x but the weight
gradient 1.18 / 1.07x, so four channels keep the columns."""

DIRECT_MIN_WIDTH = 64
"""Output width from which the direct loops run: on smaller images a row is too short for them.  Same A/B:
64 wide 0.74-0.90x (forward and weight gradient, one and two threads); 56 wide forward 0.82-0.90x but weight
gradient 1.07-1.10x; 32x3x32x32 -> 16 1.02-1.24x, 64x3x32x32 -> 16 0.89-1.45x, 32x1x28x28 -> 16 (the demo's first
layer) 1.30-1.49x."""


def _direct(x: Any, weight: Any, geo: Geometry, groups: int) -> bool:
    """Whether to compute this convolution with the direct 3x3 loops: few input channels, a wide enough image,
    and the compiled kernels serving these arrays (as NumPy loops, or on a GPU, the columns are faster)."""
    return (geo.kh == geo.kw == 3 and geo.sh == geo.sw == 1 and geo.dh == geo.dw == 1 and groups == 1
            and x.shape[1] <= DIRECT_MAX_CHANNELS and geo.grid_w >= DIRECT_MIN_WIDTH
            and kernels.conv3x3_forward.compiled_for(x, weight))


def conv2d_forward(x: Any, weight: Any, geo: Geometry, groups: int, bias: Any = None) -> Any:
    """(N, C, H, W) cross-correlated with (O, C/groups, kh, kw) -> (N, O, grid_h, grid_w), plus the (O,) bias
    if given (added per chunk while the output is in cache: the separate pass over the output it replaced took
    3 ms of the 224x224 step)."""
    xp = array_module(x)
    n, c = x.shape[:2]
    o = weight.shape[0]
    if _direct(x, weight, geo, groups):
        direct = xp.empty((n, o, geo.grid_h, geo.grid_w), dtype=x.dtype)

        def samples(lo: int, hi: int) -> None:
            kernels.conv3x3_forward(x[lo:hi], weight, bias, direct[lo:hi], geo.ph, geo.pw)

        _over_batch(n, n * c * 9 * geo.grid_h * geo.grid_w, samples, x)
        return direct
    b4 = None if bias is None else bias.reshape(1, o, 1, 1)
    k, spatial = c * geo.kh * geo.kw // groups, geo.grid_h * geo.grid_w
    w3 = weight.reshape(groups, o // groups, k)
    out = xp.empty((n, o, geo.grid_h, geo.grid_w), dtype=x.dtype)

    wide = has_wide_columns(geo)

    def kernel(lo: int, hi: int) -> None:
        if wide:
            for start, stop, r0, r1, cols in wide_bands(x, geo, lo, hi):
                width = cols.shape[-1]
                product = scratch("out_wide", (stop - start, groups, o // groups, width), x.dtype, x)
                xp.matmul(w3, cols.reshape(stop - start, groups, k, width), out=product)
                kernels.wide_output(wide_rows(product, geo, r1 - r0), bias, out[start:stop, :, r0:r1])
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
    if full is not None and not _full_correlation_pays(geo, full, o, c):
        full = None
    if full is not None:
        # the correlation of the zero-padded gradient with the flipped, transposed kernel, computed by the
        # forward (wide columns); chosen only where it builds fewer columns than col2im (see below)
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
    for the usual few-output-channels, many-pixels shapes.  The products go through ``dot``: ``matmul``
    with the transposed gradient ran 0.85x as fast on two threads as on one (27x1088 by 1088x16, each thread its
    own products), ``dot`` 1.28-1.84x; the 16x3x224x224 -> 16 weight gradient went 38.6 -> 22.2 ms at 2 threads
    (in-process A/B, 2026-12-02).
    """
    xp = array_module(x)
    n, c = x.shape[:2]
    o = grad.shape[1]
    if _direct(x, grad, geo, groups):
        return _direct_weight_grad(grad, x, geo)
    k, spatial = c * geo.kh * geo.kw // groups, geo.grid_h * geo.grid_w
    grad4 = grad.reshape(n, groups, o // groups, spatial)
    wide = has_wide_columns(geo)
    chunk = wide_samples(c, x.dtype, geo, n) if wide else _chunk_size(c, x.dtype, geo, n)
    bounds = _weight_blocks(n, chunk)
    partial = xp.zeros((len(bounds) - 1, groups, k, o // groups), dtype=x.dtype)  # one sum per block (an empty
    # batch has one empty block: zeros)

    def kernel(first: int, last: int) -> None:  # blocks first..last-1
        product = xp.empty_like(partial[0])
        for block in range(first, last):
            lo, hi, total = bounds[block], bounds[block + 1], partial[block]
            target = total  # the block's first product is written into its sum, the others added
            if wide:
                for start, stop, r0, r1, cols in wide_bands(x, geo, lo, hi, side_by_side=True):
                    cols3 = cols.reshape(groups, k, -1)
                    grad_wide = widen(grad[start:stop, :, r0:r1], geo, groups)
                    for gi in range(groups):  # dot, not matmul: see the docstring
                        xp.dot(cols3[gi], grad_wide[gi].T, out=target[gi])
                    if target is product:
                        total += product
                    target = product
                continue
            for start, stop, cols in _chunks(n, c, x.dtype, x, geo, lo, hi):
                unfold_array(x[start:stop], geo, cols)
                cols4 = cols.reshape(stop - start, groups, k, spatial)
                for i in range(start, stop):
                    for gi in range(groups):  # dot, not matmul: see the docstring
                        xp.dot(cols4[i - start, gi], grad4[i, gi].T, out=target[gi])
                    if target is product:
                        total += product
                    target = product

    _over_batch(len(bounds) - 1, n * c * geo.kh * geo.kw * spatial, kernel, x)
    return _in_batch_order(partial).transpose(0, 2, 1).reshape(o, c // groups, geo.kh, geo.kw)


WEIGHT_BLOCKS = 8
"""The weight gradient sums the batch in at most this many blocks (``_weight_blocks``), fixed by the shapes
alone: each block's products are summed in order, the blocks' sums added in batch order at the end, and the
pool's threads take whole blocks.  So its bits are the same on any thread count (up to 8, the most the budget
gives).  It summed each thread's slice before, and the last bits changed between one thread and two (up to
1.3e-4 on the 64x64x16x16 -> 64 weight gradient, entries of about 10), and with them a training run's.
In-process A/B against the per-slice sums (2026-12-02, medians of 9-15 interleaved blocks): one thread
0.90-1.00x the time on nine convolutions of the benchmarks and the training steps; two threads 0.97-1.02x on
the 224x224 step's layers, 0.99-1.14x over three runs on 64x16x16x16 -> 32 (docs/performance.md, sixth pass)."""


def _weight_blocks(n: int, chunk: int) -> list[int]:
    """Sample bounds of the weight gradient's blocks: a power of two of them (so that 2, 4 or 8 threads take
    equal shares), at most ``WEIGHT_BLOCKS``, each about two chunks of ``chunk`` samples or more (smaller blocks
    cut the chunks short: thinner products)."""
    blocks = 1
    while blocks * 2 <= min(WEIGHT_BLOCKS, -(-n // chunk) // 2):
        blocks *= 2
    return [n * b // blocks for b in range(blocks + 1)]


def _direct_weight_grad(grad: Any, x: Any, geo: Geometry) -> Any:
    """The weight gradient by the direct 3x3 loops, summed over fixed blocks of the batch (as the columns' sums:
    the same bits on any thread count)."""
    n, c = x.shape[:2]
    bounds = _weight_blocks(n, 1)
    partial = np.zeros((len(bounds) - 1, grad.shape[1], c, 3, 3), dtype=x.dtype)

    def blocks(first: int, last: int) -> None:
        for block in range(first, last):
            lo, hi = bounds[block], bounds[block + 1]
            kernels.conv3x3_weight_grad(grad[lo:hi], x[lo:hi], partial[block], geo.ph, geo.pw)

    _over_batch(len(bounds) - 1, n * c * 9 * geo.grid_h * geo.grid_w, blocks, x)
    return _in_batch_order(partial)


def _in_batch_order(partial: Any) -> Any:
    """The blocks' sums ``partial`` (blocks first) added in batch order, whatever the threads that made them."""
    total = partial[0]
    for block in range(1, len(partial)):
        total += partial[block]
    return total


def _input_gradient_stride1(w_t: Any, grad: Any, geo: Geometry, out: Any) -> None:
    """col2im(Wᵀ @ grad) for a stride-1 convolution, with every col2im add running over whole image planes.

    With stride 1, window position (oh, ow) and kernel tap (i, j) read padded input position
    (oh + i*dh, ow + j*dw).  Give grad the padded width Wp (zeros in the extra columns): in the flattened padded
    plane the tap is then a constant offset i*dh*Wp + j*dw, so each of the kh*kw adds is one long contiguous
    run instead of grid_h short rows (NumPy's per-row overhead dominated the ordinary col2im on small images).
    The extra columns hold Wᵀ @ 0 = 0, so wherever they land they add nothing.

    A sample's columns of more than ``BAND_BYTES`` go in bands of output rows (fixed by the shapes, so the bits
    do not depend on how many samples a thread's chunk holds), each folded while in cache (the 16x16x112x112
    input gradient of the 224x224 step has 7.4 MB of columns per sample; two bands: 0.76-0.90x the time on one
    thread, 0.67-0.82x on two, three in-process A/Bs of 5 blocks, 2026-12-02).  Bands of 1 MiB and less were
    up to 1.8x slower on the smaller images of the benchmarks (thinner products), so smaller columns stay
    whole.  The scratch buffer is still sized for the whole sample: sized for a band, it left glibc's heap laid
    out so that the 224 step's peak memory grew by 40 MB (260 -> 302 MB on one thread, 280 -> 316 on two);
    sized whole, 274-277 MB with or without bands.
    """
    xp = array_module(grad)
    nb, groups, og, _ = grad.shape
    c, h, w = out.shape[1:]
    hp, wp = h + 2 * geo.ph, w + 2 * geo.pw
    k = w_t.shape[1]
    grad_wide = scratch("grad_wide", (nb, groups * og, geo.grid_h, wp), grad.dtype, grad)
    kernels.widen(grad.reshape(nb, groups * og, geo.grid_h, geo.grid_w), grad_wide)
    padded = scratch("padded", (nb, c, hp * wp + (geo.kw - 1) * geo.dw), grad.dtype, grad)
    band = max(1, BAND_BYTES // (groups * k * wp * grad.dtype.itemsize))  # a sample's columns over BAND_BYTES
    whole = scratch("cols_wide", (nb * groups * k * geo.grid_h * wp,), grad.dtype, grad)  # see the docstring
    for r0 in range(0, geo.grid_h, band):
        r1 = min(geo.grid_h, r0 + band)
        cols = whole[: nb * groups * k * (r1 - r0) * wp].reshape(nb, groups, k, (r1 - r0) * wp)
        xp.matmul(w_t, grad_wide[:, :, r0:r1].reshape(nb, groups, og, (r1 - r0) * wp), out=cols)
        kernels.wide_fold(cols.reshape(nb, c, geo.kh * geo.kw, (r1 - r0) * wp), padded, out, geo.kw, geo.ph, geo.pw,
                          geo.dh, geo.dw, r0, r0 == 0, r1 == geo.grid_h)


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


def _full_correlation_pays(geo: Geometry, full: Geometry, o: int, c: int) -> bool:
    """Whether the stride-1 input gradient builds fewer columns as the full correlation (O*kh*kw rows, over the
    input's H x (W + 2 * its padding)) than through col2im (C*kh*kw rows over grid_h x (W + 2p)); a tie goes
    to col2im.  Measured (2026-12-02, in-process A/B, 1 and 2 threads): more output than input channels, 3 -> 16
    at 32x32, 6.3 -> 2.6 ms through col2im, 16 -> 32 at 64x64 18.3 -> 11.4 ms; no padding (the full
    correlation then computes 16x16 outputs where col2im's products cover 14x14), 64 -> 64 at 16x16, conv
    case (d): 27.9 -> 19.9 ms (1 thread), 18.3 -> 12.7 ms (2); ties ("same" convolutions with O = C) within
    +-10 % either way, most a little faster through col2im."""
    full_columns = o * geo.h * (geo.w + 2 * full.pw)
    col2im_columns = c * geo.grid_h * (geo.w + 2 * geo.pw)
    return full_columns < col2im_columns


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
