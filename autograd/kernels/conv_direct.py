"""A 3x3, stride-1 convolution of few input channels computed directly: no columns.

With C input channels the columns of a 3x3 convolution have 9C rows: for an image of 1-3 channels (a network's
first layer) they are nine times the input, and the product (K = 9C <= 27) spends its time writing them and
reading them back.  Here each output row is the sum of 9C shifted rows of the zero-padded input, the nine taps
of a channel in one pass; the weight gradient is, per output and input channel, three dot products of a gradient
row with shifted input rows for each kernel row.  Measured (2026-12-02, in-process A/B, 16x3x224x224 -> 16, ms,
wide columns -> direct; PyTorch's oneDNN for scale): forward 36-43 -> 22-23 on one thread (PyTorch 23), 24 ->
13 on two (13-14); weight gradient 48 -> 23.5 on one (25-26), 30 -> 14.3 on two (16-18).  Each output is also
closer to a float64 computation (relative error 1.0e-7 against the columns' 3.0e-7 on that weight gradient).

The weight gradient keeps three sums in registers per loop: with all nine, LLVM's vectorised loop spilled them to
the stack, and the same call ran 20 or 54 ms depending on the stack's address (the Python call path that reached
it; the spills presumably aliased the input rows' loads).  Three sums: 10-13 ms for those 8 samples either way.

Each call computes whole samples (the caller splits the batch over the pool).  The weight gradient sums a row's
products in the input's dtype (``fastmath`` reassociation: vectorised) and the rows and samples in float64, then
writes the (O, C, 3, 3) sum: its bits depend only on the samples it is given.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._compile import jit
from ._dispatch import kernel


def conv3x3_forward_numpy(x: Any, weight: Any, bias: Any, out: Any, ph: int, pw: int) -> None:
    """``out`` (N, O, Ho, Wo) = the stride-1 cross-correlation of ``x`` (N, C, H, W), zero-padded by (ph, pw),
    with ``weight`` (O, C, 3, 3), plus ``bias`` (O,) when not None: a sum of nine per-tap products."""
    from ..backend import array_module

    xp = array_module(x)
    padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = out.shape[2], out.shape[3]
    total = xp.zeros(out.shape, dtype=out.dtype) if bias is None else xp.broadcast_to(
        bias.reshape(1, -1, 1, 1).astype(out.dtype), out.shape).copy()
    for i in range(3):
        for j in range(3):
            total += xp.einsum("oc,nchw->nohw", weight[:, :, i, j], padded[:, :, i : i + ho, j : j + wo])
    out[...] = total


def conv3x3_weight_grad_numpy(grad: Any, x: Any, out: Any, ph: int, pw: int) -> None:
    """``out`` (O, C, 3, 3) = Σ over the samples of ``grad`` (N, O, Ho, Wo) times the zero-padded ``x``
    (N, C, H, W) shifted by each tap: the weight gradient of :func:`conv3x3_forward_numpy`."""
    from ..backend import array_module

    xp = array_module(x)
    padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = grad.shape[2], grad.shape[3]
    for i in range(3):
        for j in range(3):
            out[:, :, i, j] = xp.einsum("nohw,nchw->oc", grad, padded[:, :, i : i + ho, j : j + wo])


@jit(parallel=False)
def _pad(x, ph, pw, padded):  # noqa: ANN001, ANN202 - Numba
    c, h, w = x.shape
    padded[:] = 0
    for ch in range(c):
        for r in range(h):
            for q in range(w):
                padded[ch, r + ph, q + pw] = x[ch, r, q]


@jit(parallel=False)
def _forward(padded, weight, bias, out):  # noqa: ANN001, ANN202 - Numba
    c = padded.shape[0]
    o, ho, wo = out.shape
    for oc in range(o):
        for y in range(ho):
            row = out[oc, y]
            start = bias[oc]
            for q in range(wo):
                row[q] = start
            for ch in range(c):
                r0, r1, r2 = padded[ch, y], padded[ch, y + 1], padded[ch, y + 2]
                w00, w01, w02 = weight[oc, ch, 0, 0], weight[oc, ch, 0, 1], weight[oc, ch, 0, 2]
                w10, w11, w12 = weight[oc, ch, 1, 0], weight[oc, ch, 1, 1], weight[oc, ch, 1, 2]
                w20, w21, w22 = weight[oc, ch, 2, 0], weight[oc, ch, 2, 1], weight[oc, ch, 2, 2]
                for q in range(wo):
                    row[q] += (w00 * r0[q] + w01 * r0[q + 1] + w02 * r0[q + 2]
                               + w10 * r1[q] + w11 * r1[q + 1] + w12 * r1[q + 2]
                               + w20 * r2[q] + w21 * r2[q + 1] + w22 * r2[q + 2])


@jit(parallel=False, fastmath={"reassoc"})
def _weight_grad(grad, padded, total):  # noqa: ANN001, ANN202 - Numba
    c = padded.shape[0]
    o, ho, wo = grad.shape
    zero = np.zeros(1, padded.dtype)[0]
    for oc in range(o):
        for ch in range(c):
            t = total[oc, ch]
            for y in range(ho):
                g = grad[oc, y]
                for i in range(3):  # one kernel row at a time: three sums stay in registers (nine spilled)
                    r = padded[ch, y + i]
                    a0 = a1 = a2 = zero
                    for q in range(wo):
                        v = g[q]
                        a0 += v * r[q]
                        a1 += v * r[q + 1]
                        a2 += v * r[q + 2]
                    t[i, 0] += a0
                    t[i, 1] += a1
                    t[i, 2] += a2


def _padded_plane(x: Any, ph: int, pw: int) -> Any:
    return np.empty((x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), dtype=x.dtype)


def conv3x3_forward_compiled(x: Any, weight: Any, bias: Any, out: Any, ph: int, pw: int) -> None:
    b = np.zeros(weight.shape[0], x.dtype) if bias is None else np.ascontiguousarray(bias, dtype=x.dtype)
    w = np.ascontiguousarray(weight, dtype=x.dtype)
    padded = _padded_plane(x, ph, pw)
    for i in range(x.shape[0]):  # a call per sample: its padded planes stay in cache for its outputs
        _pad(x[i], int(ph), int(pw), padded)
        _forward(padded, w, b, out[i])


def conv3x3_weight_grad_compiled(grad: Any, x: Any, out: Any, ph: int, pw: int) -> None:
    total = np.zeros(out.shape, np.float64)
    padded = _padded_plane(x, ph, pw)
    for i in range(x.shape[0]):
        _pad(x[i], int(ph), int(pw), padded)
        _weight_grad(grad[i], padded, total)
    out[...] = total


conv3x3_forward = kernel("conv3x3_forward", conv3x3_forward_numpy, conv3x3_forward_compiled, arrays=2)
conv3x3_weight_grad = kernel("conv3x3_weight_grad", conv3x3_weight_grad_numpy, conv3x3_weight_grad_compiled,
                             arrays=2)
