"""The copies of the stride-1 convolution's "wide" layout: the output (plus the bias) out of a wide product, and a
gradient widened with zeros into one.

A stride-1 convolution multiplies the weights with "wide" columns (``nn/functional/conv_wide.py``) and gets
rows of the padded width Wp, of which the first ``grid_w`` are the output; its weight gradient multiplies the
columns with the output gradient widened to Wp (zeros past ``grid_w``).  NumPy does both as strided copies of
short rows, with a broadcast for the bias.  Measured (2026-12-02, 8 samples of 16x32x32 against a 16x32x34
wide layout, 1 thread): ``np.add(rows, bias, out=...)`` 130 µs, the plain copy 48 µs, ``wide_output`` 20 µs;
widening (zero the tail, copy the rows) 78 µs.  Serial: each runs on one chunk of samples inside a pool
slice, which is already one thread's share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._compile import jit
from ._dispatch import kernel


def wide_output_numpy(product: Any, bias: Any, out: Any) -> None:
    """``out[...] = product[..., :W] + bias`` per channel (``bias`` may be None): ``product`` is (N, O, rows, Wp)
    and ``out`` (N, O, rows, W) with W <= Wp, any strides."""
    from ..backend import array_module

    rows = product[..., : out.shape[-1]]
    if bias is None:
        out[...] = rows
    else:
        array_module(product).add(rows, bias.reshape(1, -1, 1, 1), out=out)


@jit(parallel=False)
def _wide_output(product, bias, has_bias, out):  # noqa: ANN001, ANN202 - Numba
    n, o, rows = out.shape[0], out.shape[1], out.shape[2]
    width = out.shape[3]
    for b in range(n):
        for c in range(o):
            for r in range(rows):
                source, target = product[b, c, r], out[b, c, r]
                if has_bias:
                    add = bias[c]
                    for k in range(width):
                        target[k] = source[k] + add
                else:
                    for k in range(width):
                        target[k] = source[k]


def wide_output_compiled(product: Any, bias: Any, out: Any) -> None:
    if bias is None:
        _wide_output(product, np.zeros(1, dtype=product.dtype), False, out)
    else:
        _wide_output(product, np.ascontiguousarray(bias, dtype=product.dtype).reshape(-1), True, out)


def widen_numpy(source: Any, out: Any, side_by_side: bool = False) -> None:
    """``out[..., :W] = source`` and zeros in ``out[..., W:]``: ``source`` is (N, O, rows, W), any strides, and
    ``out`` (N, O, rows, Wp) with Wp >= W, or (O, N, rows, Wp) when ``side_by_side`` (the weight gradient's
    layout: the samples of a chunk next to each other)."""
    target = out.transpose(1, 0, 2, 3) if side_by_side else out
    width = source.shape[-1]
    target[..., width:] = 0
    target[..., :width] = source


@jit(parallel=False)
def _widen(source, out, side_by_side):  # noqa: ANN001, ANN202 - Numba
    n, o, rows, width = source.shape
    wide = out.shape[3]
    for b in range(n):
        for c in range(o):
            for r in range(rows):
                row = source[b, c, r]
                target = out[c, b, r] if side_by_side else out[b, c, r]
                for k in range(width):
                    target[k] = row[k]
                for k in range(width, wide):
                    target[k] = 0


def widen_compiled(source: Any, out: Any, side_by_side: bool = False) -> None:
    _widen(source, out, bool(side_by_side))


wide_output = kernel("wide_output", wide_output_numpy, wide_output_compiled, arrays=2)
widen = kernel("widen", widen_numpy, widen_compiled, arrays=2)
