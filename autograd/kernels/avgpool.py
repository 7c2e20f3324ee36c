"""Average pooling and its adjoint: window sums times a per-position scale (1/divisor, an (Ho, Wo) array).

Both versions add the taps in the same (i, j) order from zero, so the compiled results are bit-identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._compile import jit
from ._dispatch import kernel
from ._geometry import taps

prange = range  # numba.prange once compiled (see _compile.jit)


def avg_pool_numpy(x: Any, g: Any, scale: Any) -> Any:
    """(N, C, H, W) -> (N, C, Ho, Wo): each window's sum times ``scale`` (a scalar or (Ho, Wo)).

    Zero padding is never materialised; slices of the batch run on the runtime's pool.
    """
    from ..backend import array_module
    from ..runtime import over_batch

    xp = array_module(x)
    n, c = x.shape[:2]
    out = xp.zeros((n, c, g[10], g[11]), dtype=x.dtype)
    all_taps = taps(g)
    factor = scale if np.isscalar(scale) else xp.asarray(scale, dtype=x.dtype)

    def kernel(start: int, stop: int) -> None:
        for _, _, (orows, ocols), (irows, icols) in all_taps:
            out[start:stop, :, orows, ocols] += x[start:stop, :, irows, icols]
        out[start:stop] *= factor

    over_batch(n, out.size * len(all_taps), kernel, like=x)
    return out


def avg_unpool_numpy(grad: Any, g: Any, scale: Any) -> Any:
    """(N, C, Ho, Wo) -> (N, C, H, W): each scaled value added back onto every input of its window."""
    from ..backend import array_module
    from ..runtime import over_batch

    xp = array_module(grad)
    n, c = grad.shape[:2]
    factor = scale if np.isscalar(scale) else xp.asarray(scale, dtype=grad.dtype)
    out = xp.zeros((n, c, g[8], g[9]), dtype=grad.dtype)
    all_taps = taps(g)

    def kernel(start: int, stop: int) -> None:
        scaled = grad[start:stop] * factor
        for _, _, (orows, ocols), (irows, icols) in all_taps:
            out[start:stop, :, irows, icols] += scaled[:, :, orows, ocols]

    over_batch(n, grad.size * len(all_taps), kernel, like=grad)
    return out


@jit()
def _avg_pool(x, scale, out, kh, kw, sh, sw, ph, pw, dh, dw):  # noqa: ANN001, ANN202 - Numba
    n, c, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    zero = scale[0, 0] - scale[0, 0]  # of the array's dtype, so float32 sums stay float32 as in NumPy
    for p in prange(n * c):
        b, ch = p // c, p % c
        for oh in range(ho):
            for ow in range(wo):
                total = zero
                for i in range(kh):
                    ih = oh * sh - ph + i * dh
                    if ih < 0 or ih >= h:
                        continue
                    for j in range(kw):
                        iw = ow * sw - pw + j * dw
                        if 0 <= iw < w:
                            total += x[b, ch, ih, iw]
                out[b, ch, oh, ow] = total * scale[oh, ow]


@jit()
def _avg_unpool(grad, scale, out, kh, kw, sh, sw, ph, pw, dh, dw):  # noqa: ANN001, ANN202 - Numba
    n, c, h, w = out.shape
    ho, wo = grad.shape[2], grad.shape[3]
    for p in prange(n * c):
        b, ch = p // c, p % c
        for ih in range(h):
            for iw in range(w):
                out[b, ch, ih, iw] = 0
        for i in range(kh):
            for j in range(kw):
                for oh in range(ho):
                    ih = oh * sh - ph + i * dh
                    if ih < 0 or ih >= h:
                        continue
                    for ow in range(wo):
                        iw = ow * sw - pw + j * dw
                        if 0 <= iw < w:
                            out[b, ch, ih, iw] += grad[b, ch, oh, ow] * scale[oh, ow]


def _scale(scale: Any, g: Any, dtype: Any) -> Any:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(scale, dtype=dtype), (g[10], g[11])))


def avg_pool_compiled(x: Any, g: Any, scale: Any) -> Any:
    n, c = x.shape[:2]
    out = np.empty((n, c, g[10], g[11]), dtype=x.dtype)
    _avg_pool(x, _scale(scale, g, x.dtype), out, *(int(v) for v in g[:8]))
    return out


def avg_unpool_compiled(grad: Any, g: Any, scale: Any) -> Any:
    n, c = grad.shape[:2]
    out = np.empty((n, c, g[8], g[9]), dtype=grad.dtype)
    _avg_unpool(grad, _scale(scale, g, grad.dtype), out, *(int(v) for v in g[:8]))
    return out


avg_pool = kernel("avg_pool", avg_pool_numpy, avg_pool_compiled)
avg_unpool = kernel("avg_unpool", avg_unpool_numpy, avg_unpool_compiled)
