"""The convolution's epilogue: a wide product's output columns, plus the bias, into the output, in one pass.

A stride-1 convolution multiplies the weights with "wide" columns (``nn/functional/conv_wide.py``) and gets
rows of the padded width Wp, of which the first ``grid_w`` are the output.  NumPy adds the bias to that strided
view with a broadcast over short rows, and that was most of the forward's epilogue: measured (2026-12-02,
8 samples of 16x32x32 out of a 16x34 wide product, 1 thread) 130 µs through ``np.add(rows, bias, out=...)``,
48 µs for the copy alone, 20 µs for this kernel (copy and add in one pass).  Serial: it runs on one chunk of
samples inside a pool slice, which is already one thread's share.
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


wide_output = kernel("wide_output", wide_output_numpy, wide_output_compiled, arrays=2)
