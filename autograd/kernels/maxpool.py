"""Max pooling: the maximum and its switch in one pass, the backward scatter (overlapping windows add), the
gather (its adjoint), and max-unpooling by flat indices.

Switches are tap codes ``i * kw + j`` of the first maximum in row-major window order (strictly larger wins,
as in PyTorch); a window that starts in the padding defaults to its first tap inside the input.  NaN: the
output is NaN and the switch stays on the largest value before it (the NumPy reference's rule).
The compiled scatter adds taps in the NumPy reference's order (plain stores first), so sums are identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._compile import jit
from ._dispatch import kernel
from ._geometry import taps
from ._threads import in_slices

prange = range  # numba.prange once compiled (see _compile.jit)


def code_dtype(g: Any) -> Any:
    return np.uint8 if g[0] * g[1] <= 256 else np.int32


def _first_inside(g: Any, xp: Any) -> Any:
    """Per output position, the code of the first window tap inside the input (None when it is always 0).

    Geometry only, so it is worked out on the host (NumPy) and uploaded once: on a GPU the two ``bool(...)``
    tests below would each wait for the device (a synchronisation per pooling call, seen on the emulated device).
    """
    kw, ho, wo = g[1], g[10], g[11]
    row_first = np.full(ho, -1, dtype=np.int64)
    col_first = np.full(wo, -1, dtype=np.int64)
    for i, j, (orows, ocols), _ in taps(g):
        if j == 0:
            seg = row_first[orows]
            seg[seg < 0] = i
        if i == 0:
            seg = col_first[ocols]
            seg[seg < 0] = j
    if bool((row_first == 0).all()) and bool((col_first == 0).all()):
        return None
    return xp.asarray(np.maximum(row_first, 0)[:, None] * kw + np.maximum(col_first, 0)[None, :])


def max_pool_numpy(x: Any, g: Any, switches: bool = True) -> tuple[Any, Any]:
    """(N, C, H, W) -> the (N, C, Ho, Wo) maxima and their tap codes (uint8, or int32 past 256 taps); codes
    None when ``switches`` is false (inference: the maximum alone is cheaper in NumPy).

    A running maximum over the taps' strided slices, updated only where a tap is strictly larger; slices of
    the batch run on the runtime's pool (NumPy releases the GIL).
    """
    from ..backend import array_module
    from ..runtime import over_batch

    xp = array_module(x)
    n, c = x.shape[:2]
    kw, ho, wo = g[1], g[10], g[11]
    out = xp.full((n, c, ho, wo), -xp.inf, dtype=x.dtype)
    all_taps = taps(g)
    if not switches:

        def values_only(start: int, stop: int) -> None:
            for _, _, (orows, ocols), (irows, icols) in all_taps:
                best = out[start:stop, :, orows, ocols]
                xp.maximum(best, x[start:stop, :, irows, icols], out=best)

        over_batch(n, out.size * len(all_taps), values_only, like=x)
        return out, None
    codes = xp.zeros((n, c, ho, wo), dtype=code_dtype(g))
    first = _first_inside(g, xp)
    if first is not None:  # windows that start in the padding: the switch defaults to their first real tap
        codes[...] = first
    small_codes = codes.dtype == xp.uint8

    def kernel(start: int, stop: int) -> None:
        for i, j, (orows, ocols), (irows, icols) in all_taps:
            value = x[start:stop, :, irows, icols]
            best = out[start:stop, :, orows, ocols]
            larger = value > best
            xp.maximum(best, value, out=best)
            # taps come in increasing code order: "k where larger, else keep" is a maximum; the bool mask
            # is reused in place as that uint8 k-or-0 array
            if small_codes:
                candidate = larger.view(xp.uint8)
                candidate *= i * kw + j
            else:
                candidate = larger.astype(codes.dtype) * (i * kw + j)
            code = codes[start:stop, :, orows, ocols]
            xp.maximum(code, candidate, out=code)

    over_batch(n, out.size * len(all_taps), kernel, like=x)
    return out, codes


def _scatter_order(g: Any) -> list:
    """Taps that never hit an input twice go first (plain stores), then the others (adds), as the NumPy
    reference does them."""
    sh, sw, dh, dw = g[2], g[3], g[6], g[7]
    all_taps = taps(g)
    stores = [t for t in all_taps if _stores_only(g) or (t[0] * dh < sh and t[1] * dw < sw)]
    return stores + [t for t in all_taps if t not in stores]


def max_pool_scatter_numpy(values: Any, codes: Any, g: Any) -> Any:
    """(N, C, Ho, Wo) values -> (N, C, H, W): each added at its switch, zeros elsewhere.

    A masked store (an add where windows overlap) per tap, no index arrays; value * mask is several times
    faster than a masked copy, but inf * 0 is NaN, so non-finite values take ``where``.
    """
    from ..backend import array_module
    from ..runtime import over_batch

    xp = array_module(values)
    n, c = values.shape[:2]
    kw = g[1]
    out = xp.zeros((n, c, g[8], g[9]), dtype=values.dtype)
    finite = xp is np and bool(xp.isfinite(values).all())  # on a GPU the test would wait for the device
    order = _scatter_order(g)
    stores = _store_count(g)

    def kernel(start: int, stop: int) -> None:
        for index, (i, j, (orows, ocols), (irows, icols)) in enumerate(order):
            mask = codes[start:stop, :, orows, ocols] == i * kw + j
            target = out[start:stop, :, irows, icols]
            source = values[start:stop, :, orows, ocols]
            if not finite:
                target += xp.where(mask, source, 0)
            elif index < stores:
                xp.multiply(source, mask, out=target)
            else:
                target += source * mask

    over_batch(n, out.size * 2, kernel, like=values)
    return out


def _stores_only(g: Any) -> bool:
    kh, kw, sh, sw, dh, dw = g[0], g[1], g[2], g[3], g[6], g[7]
    return not (sh < dh * (kh - 1) + 1 or sw < dw * (kw - 1) + 1)


def _store_count(g: Any) -> int:
    """How many taps of ``_scatter_order`` are plain stores (they never hit an input position twice)."""
    if _stores_only(g):
        return len(taps(g))
    return sum(1 for t in taps(g) if t[0] * g[6] < g[2] and t[1] * g[7] < g[3])


def max_pool_gather_numpy(grad: Any, codes: Any, g: Any) -> Any:
    """(N, C, H, W) -> (N, C, Ho, Wo): the value at each switch (the adjoint of the scatter)."""
    from ..backend import array_module

    xp = array_module(grad)
    n, c = grad.shape[:2]
    kw = g[1]
    out = xp.zeros(codes.shape, dtype=grad.dtype)
    for i, j, (orows, ocols), (irows, icols) in taps(g):
        mask = codes[:, :, orows, ocols] == i * kw + j
        target = out[:, :, orows, ocols]
        target[mask] = grad[:, :, irows, icols][mask]
    return out


def max_unpool_numpy(values: Any, flat: Any, hw: tuple[int, int]) -> Any:
    """(N, C, Ho, Wo) values -> (N, C, H, W), each added at flat index ``h * W + w`` of its plane."""
    n, c = values.shape[:2]
    h, w = hw
    planes = (np.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, 1, 1)
    positions = (np.broadcast_to(flat, values.shape) + planes).ravel()
    out = np.bincount(positions, weights=values.ravel(), minlength=n * c * h * w)
    return out.astype(values.dtype, copy=False).reshape(n, c, h, w)


@jit()
def _max_pool(x, out, codes, kh, kw, sh, sw, ph, pw, dh, dw):  # noqa: ANN001, ANN202 - Numba
    n, c, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    for p in prange(n * c):
        b, ch = p // c, p % c
        for oh in range(ho):
            top = oh * sh - ph
            for ow in range(wo):
                left = ow * sw - pw
                best = -np.inf
                code = -1
                for i in range(kh):
                    ih = top + i * dh
                    if ih < 0 or ih >= h:
                        continue
                    for j in range(kw):
                        iw = left + j * dw
                        if iw < 0 or iw >= w:
                            continue
                        if code < 0:
                            code = i * kw + j  # the first tap inside is the default switch
                        v = x[b, ch, ih, iw]
                        if v > best:
                            best = v
                            code = i * kw + j
                        elif v != v:
                            best = v
                out[b, ch, oh, ow] = best
                codes[b, ch, oh, ow] = max(code, 0)


@jit(parallel=False)
def _max_pool_2x2(x, out, codes):  # noqa: ANN001, ANN202 - Numba
    """2x2 windows at stride 2, all inside the input: the taps unrolled, selects instead of branches, so LLVM
    vectorises along the row (a loop over runtime kh, kw compiled to branches that mispredict on random data:
    4x slower).  The stride and dilation are constants: with them as arguments the strided loads did not
    vectorise (16x16x224x224, 2 threads: 11.0 -> 5.8 ms).  Other strides take the general kernel.
    NaN is counted, not handled: the caller reruns the general kernel when the count is not 0."""
    n, c = x.shape[0], x.shape[1]
    ho, wo = out.shape[2], out.shape[3]
    nan = 0
    for p in range(n * c):
        b, ch = p // c, p % c
        bad = 0
        for oh in range(ho):
            r0, r1 = x[b, ch, 2 * oh], x[b, ch, 2 * oh + 1]
            best, code = out[b, ch, oh], codes[b, ch, oh]
            for ow in range(wo):
                a = 2 * ow
                m = r0[a]
                k = 0
                bad += m != m
                v = r0[a + 1]
                k, m, bad = 1 if v > m else k, v if v > m else m, bad + (v != v)
                v = r1[a]
                k, m, bad = 2 if v > m else k, v if v > m else m, bad + (v != v)
                v = r1[a + 1]
                k, m, bad = 3 if v > m else k, v if v > m else m, bad + (v != v)
                best[ow] = m
                code[ow] = k
        nan += bad
    return nan


@jit(parallel=False)
def _max_pool_3x3(x, out, codes):  # noqa: ANN001, ANN202 - Numba
    """3x3 windows at stride 2 (the overlapping pool), all inside the input: as ``_max_pool_2x2``."""
    n, c = x.shape[0], x.shape[1]
    ho, wo = out.shape[2], out.shape[3]
    nan = 0
    for p in range(n * c):
        b, ch = p // c, p % c
        bad = 0
        for oh in range(ho):
            r0, r1, r2 = x[b, ch, 2 * oh], x[b, ch, 2 * oh + 1], x[b, ch, 2 * oh + 2]
            best, code = out[b, ch, oh], codes[b, ch, oh]
            for ow in range(wo):
                a0 = 2 * ow
                a1, a2 = a0 + 1, a0 + 2
                m = r0[a0]
                k = 0
                bad += m != m
                v = r0[a1]
                k, m, bad = 1 if v > m else k, v if v > m else m, bad + (v != v)
                v = r0[a2]
                k, m, bad = 2 if v > m else k, v if v > m else m, bad + (v != v)
                v = r1[a0]
                k, m, bad = 3 if v > m else k, v if v > m else m, bad + (v != v)
                v = r1[a1]
                k, m, bad = 4 if v > m else k, v if v > m else m, bad + (v != v)
                v = r1[a2]
                k, m, bad = 5 if v > m else k, v if v > m else m, bad + (v != v)
                v = r2[a0]
                k, m, bad = 6 if v > m else k, v if v > m else m, bad + (v != v)
                v = r2[a1]
                k, m, bad = 7 if v > m else k, v if v > m else m, bad + (v != v)
                v = r2[a2]
                k, m, bad = 8 if v > m else k, v if v > m else m, bad + (v != v)
                best[ow] = m
                code[ow] = k
        nan += bad
    return nan


@jit()
def _max_pool_scatter(values, codes, out, rows, cols, sh, sw, ph, pw):  # noqa: ANN001, ANN202 - Numba
    """Each window adds its value at its switch: one add per window (``rows``/``cols``: a code's offsets in
    the window).  Windows go in reverse raster order: a position shared by overlapping windows then receives
    their values by increasing tap code, the NumPy reference's order, so sums are bit-identical.  A loop over
    taps with a select per window and tap was 4-7x slower (branches mispredicted on random switches)."""
    n, c, h, w = out.shape
    ho, wo = values.shape[2], values.shape[3]
    for p in prange(n * c):
        b, ch = p // c, p % c
        plane = out[b, ch]
        plane[:, :] = 0
        for oh in range(ho - 1, -1, -1):
            value, code = values[b, ch, oh], codes[b, ch, oh]
            top = oh * sh - ph
            for ow in range(wo - 1, -1, -1):
                k = code[ow]
                ih, iw = top + rows[k], ow * sw - pw + cols[k]
                if 0 <= ih < h and 0 <= iw < w:
                    plane[ih, iw] += value[ow]


@jit(parallel=False)
def _max_pool_scatter_2x2(values, codes, out, zero):  # noqa: ANN001, ANN202 - Numba
    """2x2 windows at stride 2 without padding (they tile the input): a pair of output rows is zeroed and
    gets its values stored at the switches while it is in cache, without the general kernel's bounds tests
    (16x16x224x224, 2 threads: 11.5 -> 5.9 ms).  A select per tap for the four positions was slower than the
    general kernel (14.1 ms: stride-2 stores).  ``0 + value`` as in the general kernel: the same bits (a -0.0
    value lands as +0.0); ``zero`` is 0 of the values' dtype (a float literal would make the sum float64)."""
    n, c, h, w = out.shape
    ho, wo = values.shape[2], values.shape[3]
    for p in range(n * c):
        b, ch = p // c, p % c
        plane = out[b, ch]
        for oh in range(ho):
            value, code = values[b, ch, oh], codes[b, ch, oh]
            pair = plane[2 * oh : 2 * oh + 2]
            top, bottom = pair[0], pair[1]
            for iw in range(w):
                top[iw] = 0
                bottom[iw] = 0
            for ow in range(wo):
                k = code[ow]
                pair[k >> 1, 2 * ow + (k & 1)] = value[ow] + zero
        for ih in range(2 * ho, h):  # the row past the last window (odd heights)
            row = plane[ih]
            for iw in range(w):
                row[iw] = 0


@jit()
def _max_pool_gather(grad, codes, out, kh, kw, sh, sw, ph, pw, dh, dw):  # noqa: ANN001, ANN202 - Numba
    n, c, h, w = grad.shape
    ho, wo = out.shape[2], out.shape[3]
    for p in prange(n * c):
        b, ch = p // c, p % c
        for oh in range(ho):
            for ow in range(wo):
                code = codes[b, ch, oh, ow]
                ih = oh * sh - ph + (code // kw) * dh
                iw = ow * sw - pw + (code % kw) * dw
                out[b, ch, oh, ow] = grad[b, ch, ih, iw] if 0 <= ih < h and 0 <= iw < w else 0


@jit()
def _max_unpool(values, flat, out):  # noqa: ANN001, ANN202 - Numba
    n, c, ho, wo = values.shape
    h, w = out.shape[2], out.shape[3]
    for p in prange(n * c):
        b, ch = p // c, p % c
        plane = out[b, ch].reshape(h * w)
        plane[:] = 0
        for oh in range(ho):
            for ow in range(wo):
                plane[flat[b, ch, oh, ow]] += values[b, ch, oh, ow]


def _geo(g: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in g[:8])


def _inside(g: Any) -> bool:
    """No padding and every window inside the input (also with ceil_mode): the bounds-free kernels apply."""
    kh, kw, sh, sw, ph, pw, dh, dw, h, w, ho, wo = (int(v) for v in g[:12])
    return ph == pw == 0 and (ho - 1) * sh + (kh - 1) * dh < h and (wo - 1) * sw + (kw - 1) * dw < w


def _inside_geo(g: Any) -> tuple[int, ...]:
    kh, kw, sh, sw, _, _, dh, dw = _geo(g)
    return kh, kw, sh, sw, dh, dw


def max_pool_compiled(x: Any, g: Any, switches: bool = True) -> tuple[Any, Any]:
    n, c = x.shape[:2]
    out = np.empty((n, c, g[10], g[11]), dtype=x.dtype)
    codes = np.empty((n, c, g[10], g[11]), dtype=code_dtype(g))
    kh, kw, sh, sw, dh, dw = _inside_geo(g)
    fast = None if (sh, sw, dh, dw) != (2, 2, 1, 1) else {(2, 2): _max_pool_2x2, (3, 3): _max_pool_3x3}.get((kh, kw))
    nan: list[int] = []  # NaN counts of the slices (list.append is atomic across the pool's threads)
    if fast is not None and _inside(g):
        in_slices(n, x.size, lambda lo, hi: nan.append(fast(x[lo:hi], out[lo:hi], codes[lo:hi])))
    if fast is None or not _inside(g) or sum(nan) != 0:
        _max_pool(x, out, codes, *_geo(g))  # any window shape, padding, and NaN's rule
    return out, codes


def max_pool_scatter_compiled(values: Any, codes: Any, g: Any) -> Any:
    n, c = values.shape[:2]
    kh, kw, sh, sw, ph, pw, dh, dw = _geo(g)
    out = np.empty((n, c, g[8], g[9]), dtype=values.dtype)
    if (kh, kw, sh, sw, ph, pw, dh, dw) == (2, 2, 2, 2, 0, 0, 1, 1) and _inside(g):
        zero = values.dtype.type(0)
        in_slices(n, out.size, lambda lo, hi: _max_pool_scatter_2x2(values[lo:hi], codes[lo:hi], out[lo:hi], zero))
        return out
    taps_ = np.arange(kh * kw, dtype=np.int64)
    _max_pool_scatter(values, codes, out, taps_ // kw * dh, taps_ % kw * dw, sh, sw, ph, pw)
    return out


def max_pool_gather_compiled(grad: Any, codes: Any, g: Any) -> Any:
    out = np.empty(codes.shape, dtype=grad.dtype)
    _max_pool_gather(grad, codes, out, *_geo(g))
    return out


def max_unpool_compiled(values: Any, flat: Any, hw: tuple[int, int]) -> Any:
    n, c = values.shape[:2]
    out = np.empty((n, c, int(hw[0]), int(hw[1])), dtype=values.dtype)
    flat = np.ascontiguousarray(np.broadcast_to(flat, values.shape), dtype=np.int64)
    _max_unpool(values, flat, out)
    return out


max_pool = kernel("max_pool", max_pool_numpy, max_pool_compiled)
max_pool_scatter = kernel("max_pool_scatter", max_pool_scatter_numpy, max_pool_scatter_compiled)
max_pool_gather = kernel("max_pool_gather", max_pool_gather_numpy, max_pool_gather_compiled)
max_unpool = kernel("max_unpool", max_unpool_numpy, max_unpool_compiled)
