"""The reference path of the slides: convolution as an explicit matrix, deconvolution as its transpose, and
max-unpooling with recorded switches, all in plain NumPy.

A convolution is linear, so for a fixed filter bank it is one matrix ``M`` with ``conv(x).ravel() == M @
x.ravel()``: for the slides' 5x5 input and 2x2 kernel ``M`` is 16x25, and its rows are the kernel laid out at
each output position.  The deconvolution of Zeiler & Fergus is ``M.T`` (25x16): each output value is spread
back over the input pixels that produced it, weighted by the same filter.  That is ``conv_transpose2d``, and
also the vjp of ``conv2d`` with respect to its input; the tests check all three agree.  These functions are
slow (dense matrices) and meant for checking and teaching, not for projecting real networks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tapegrad.autograd.errors import ShapeError
from tapegrad.nn.functional.geometry import pair


def _weight4(weight: Any) -> np.ndarray:
    w = np.asarray(weight.data if hasattr(weight, "data") and not isinstance(weight, np.ndarray) else weight)
    if w.ndim == 2:
        w = w[None, None]
    if w.ndim != 4:
        raise ShapeError(
            f"deconv_matrix: weight must be (kh, kw) or (C_out, C_in, kh, kw), got shape {w.shape}"
        )
    return w


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_matrix(
    weight: Any,
    input_shape: tuple[int, ...],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """The (C_out*Ho*Wo, C_in*H*W) matrix of a cross-correlation (``conv2d``, no bias).

    ``weight`` is (kh, kw) or (C_out, C_in, kh, kw); ``input_shape`` is (H, W) or (C_in, H, W).  Zero padding
    contributes nothing, so padded positions simply have no column.
    """
    w = _weight4(weight)
    c_out, c_in, kh, kw = w.shape
    shape = tuple(input_shape)
    if len(shape) == 2:
        shape = (c_in,) + shape
    if len(shape) != 3 or shape[0] != c_in:
        raise ShapeError(
            f"deconv_matrix: input shape {input_shape} does not match weight {w.shape} (C_in={c_in})"
        )
    _, h, wd = shape
    (sh, sw), (ph, pw) = pair(stride, "stride", "deconv_matrix", 0), pair(padding, "padding", "deconv_matrix", 0)
    if sh == 0 or sw == 0:
        raise ValueError("deconv_matrix: stride must be positive")
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    if ho <= 0 or wo <= 0:
        raise ShapeError(f"deconv_matrix: kernel {kh}x{kw} is larger than the padded input {h}x{wd}")
    m = np.zeros((c_out, ho, wo, c_in, h, wd), dtype=np.result_type(w.dtype, np.float32))
    for i in range(ho):
        for j in range(wo):
            for u in range(kh):
                for v in range(kw):
                    r, c = i * sh - ph + u, j * sw - pw + v
                    if 0 <= r < h and 0 <= c < wd:
                        m[:, i, j, :, r, c] = w[:, :, u, v]
    return m.reshape(c_out * ho * wo, c_in * h * wd)


def deconv_matrix(
    weight: Any,
    input_shape: tuple[int, ...],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """The deconvolution matrix: the transpose of :func:`conv_matrix` (the slides' 25x16 for 5x5 and 2x2)."""
    return conv_matrix(weight, input_shape, stride, padding).T


def deconvolve(
    y: Any,
    weight: Any,
    input_shape: tuple[int, ...],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """Project a feature map (C_out, Ho, Wo) back to the input's shape through ``deconv_matrix``."""
    w = _weight4(weight)
    shape = tuple(input_shape)
    if len(shape) == 2:
        shape = (w.shape[1],) + shape
    return (deconv_matrix(w, shape, stride, padding) @ np.asarray(y).ravel()).reshape(shape)


def max_pool_switches(
    x: np.ndarray, kernel: int | tuple[int, int], stride: int | tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Max-pool a (H, W) map and record the switches (the flat index of each window's maximum; first on
    ties)."""
    x = np.asarray(x)
    (kh, kw) = pair(kernel, "kernel", "deconv_matrix", 0)
    (sh, sw) = pair(kernel if stride is None else stride, "stride", "deconv_matrix", 0)
    ho, wo = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    pooled = np.empty((ho, wo), dtype=x.dtype)
    switches = np.empty((ho, wo), dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            window = x[i * sh : i * sh + kh, j * sw : j * sw + kw]
            u, v = np.unravel_index(int(window.argmax()), window.shape)
            pooled[i, j] = window[u, v]
            switches[i, j] = (i * sh + u) * x.shape[1] + (j * sw + v)
    return pooled, switches


def unpool(
    pooled: Any, switches: np.ndarray, output_shape: tuple[int, int], accumulate: bool = True
) -> np.ndarray:
    """Place each pooled value at its switch, zeros elsewhere.

    With overlapping windows several pooled values can share a switch.  ``accumulate=True`` adds them: that is
    the adjoint of max pooling (its vjp), what the deconvnet walk uses, and what makes the projection equal
    to a backward pass with the relu rule replaced.  ``accumulate=False`` writes the value once (the slides'
    picture, which shows the forward maximum at its location; the shared values there are equal, so
    overwriting is well defined).
    """
    out = np.zeros(int(np.prod(output_shape)), dtype=np.asarray(pooled).dtype)
    flat_values, flat_switches = np.asarray(pooled).ravel(), np.asarray(switches).ravel()
    if accumulate:
        np.add.at(out, flat_switches, flat_values)
    else:
        out[flat_switches] = flat_values
    return out.reshape(output_shape)
