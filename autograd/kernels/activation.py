"""ReLU forward and its one-pass backward, and the conv epilogue (bias add, optionally fused with ReLU).

NumPy's ReLU backward ``g * (out > 0).astype(dtype)`` makes three memory passes (compare, cast, multiply);
the compiled one reads g and out once and writes once: measured (issue 11, 16x32x112x112 float32) 1.4 ms vs
4.5 ms (PyTorch's threshold_backward: 2.1 ms).  NaN handling matches NumPy: max(NaN, 0) is NaN, and the
backward multiplies by 0 or 1 (so an inf/NaN upstream gradient behind a zero output gives NaN, as NumPy's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._compile import jit
from ._dispatch import kernel

prange = range  # numba.prange once compiled (see _compile.jit)


def relu_forward_numpy(x: Any) -> Any:
    """max(x, 0), NaN kept."""
    from ..backend import array_module

    return array_module(x).maximum(x, 0)


def relu_backward_numpy(g: Any, out: Any) -> Any:
    """g where the ReLU's output is positive, else 0 (times g, so NaN/inf upstream stays NaN)."""
    return g * (out > 0).astype(g.dtype)


def bias_act_numpy(y: Any, bias: Any, relu: bool) -> Any:
    """In place on (N, O, ...) ``y``: add the (O,) bias (None: none), then max(., 0) when ``relu``."""
    from ..backend import array_module

    if bias is not None:
        y += bias.reshape((1, -1) + (1,) * (y.ndim - 2))
    if relu:
        array_module(y).maximum(y, 0, out=y)
    return y


@jit()
def _relu_forward(x, out):  # noqa: ANN001, ANN202 - Numba
    for k in prange(x.size):
        v = x[k]
        out[k] = v if (v > 0 or v != v) else 0


@jit()
def _relu_backward(g, out, grad):  # noqa: ANN001, ANN202 - Numba
    for k in prange(g.size):
        grad[k] = g[k] * (1 if out[k] > 0 else 0)


@jit()
def _bias_act(y, bias, relu):  # noqa: ANN001, ANN202 - Numba
    n, o, s = y.shape
    for p in prange(n * o):
        b, ch = p // o, p % o
        add = bias[ch]
        for k in range(s):
            v = y[b, ch, k] + add
            if relu and not (v > 0 or v != v):
                v = 0
            y[b, ch, k] = v


def _flat(a: Any) -> Any:
    return a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)


def relu_forward_compiled(x: Any) -> Any:
    out = np.empty(x.shape, dtype=x.dtype)
    _relu_forward(_flat(x), out.reshape(-1))
    return out


def relu_backward_compiled(g: Any, out: Any) -> Any:
    grad = np.empty(g.shape, dtype=g.dtype)
    _relu_backward(_flat(g), _flat(out.astype(g.dtype, copy=False)), grad.reshape(-1))
    return grad


def bias_act_compiled(y: Any, bias: Any, relu: bool) -> Any:
    if not y.flags.c_contiguous or y.ndim < 2 or (bias is not None and bias.dtype != y.dtype):
        return bias_act_numpy(y, bias, relu)
    if bias is None:
        bias = np.zeros(y.shape[1], dtype=y.dtype)
    _bias_act(y.reshape(y.shape[0], y.shape[1], -1), np.ascontiguousarray(bias), bool(relu))
    return y


relu_forward = kernel("relu_forward", relu_forward_numpy, relu_forward_compiled)
relu_backward = kernel("relu_backward", relu_backward_numpy, relu_backward_compiled, arrays=2)
bias_act = kernel("bias_act", bias_act_numpy, bias_act_compiled)
