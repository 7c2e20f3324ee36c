"""Average pooling (PyTorch's padding, ceil_mode and divisor rules) and adaptive average pooling.

Average pooling is linear, so it is a pair of Functions that are each other's vjp: ``AvgPool2d`` sums the
kh*kw strided taps and divides, ``AvgUnpool2d`` divides and adds each output back onto its window.  Zero
padding is never materialised: each tap only touches the output positions where it falls inside the input.

Adaptive average pooling is separable: with PyTorch's windows (start = floor(i*H/Ho), end = ceil((i+1)*H/Ho))
it is P_h @ x @ P_wᵀ for two small averaging matrices, i.e. two tapegrad matmuls, differentiable to any order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tapegrad.autograd import Context, Function, Tensor, kernels
from tapegrad.autograd.backend import array_module
from tapegrad.autograd.errors import ArgumentError, ShapeError, describe
from tapegrad.autograd.opspec import OpSpec

from ._utils import check_input
from .geometry import Geometry, pair


def _axis_divisor(
    out: int, size: int, kernel: int, stride: int, padding: int, include_pad: bool
) -> np.ndarray:
    """PyTorch's per-axis window length: clipped to the padded input (the input without ``include_pad``)."""
    start = np.arange(out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, size) - np.maximum(start, 0)).astype(np.float64)


class AvgPool2d(Function):
    """Mean over windows: sum of the strided taps times 1/divisor (an (Ho, Wo) array or a constant)."""

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, x: Any, geometry: Geometry, scale: Any) -> Any:
        ctx.geometry, ctx.scale = geometry, scale
        return kernels.avg_pool(x, geometry, scale)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        return AvgUnpool2d.apply(grad, ctx.geometry, ctx.scale), None, None


class AvgUnpool2d(Function):
    """The adjoint of ``AvgPool2d``: each output's scaled value added back onto every input of its window."""

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, grad: Any, geometry: Geometry, scale: Any) -> Any:
        ctx.geometry, ctx.scale = geometry, scale
        return kernels.avg_unpool(grad, geometry, scale)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        return AvgPool2d.apply(grad, ctx.geometry, ctx.scale), None, None


def avg_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """``torch.nn.functional.avg_pool2d``: the mean of each window, zero padding, PyTorch's divisor rules.

    The divisor is the window size clipped to the padded input (``count_include_pad=True``), or the number of
    real inputs in the window (``False``), or ``divisor_override``.
    """
    op = "avg_pool2d"
    x, batched = check_input(input, op)
    geometry = Geometry.make(op, x.shape[2:], kernel_size, stride, padding, 1, ceil_mode, input=describe(x))
    if divisor_override is not None and int(divisor_override) <= 0:
        raise ArgumentError(f"{op}: divisor_override must be positive, got {divisor_override!r}")
    (h, w), (ho, wo) = geometry.in_hw, geometry.out_hw
    if divisor_override is not None:
        scale: Any = 1.0 / float(divisor_override)
    else:
        rows = _axis_divisor(ho, h, geometry.kh, geometry.sh, geometry.ph, count_include_pad)
        cols = _axis_divisor(wo, w, geometry.kw, geometry.sw, geometry.pw, count_include_pad)
        divisor = rows[:, None] * cols[None, :]
        if np.all(divisor == divisor.flat[0]):
            scale = 1.0 / float(divisor.flat[0])
        else:
            scale = array_module(x.data).asarray(1.0 / divisor)
    out = AvgPool2d.apply(x, geometry, scale)
    return out if batched else out.reshape(out.shape[1:])


def _adaptive_matrix(out: int, size: int, dtype: Any, xp: Any) -> Any:
    """(out, size) averaging matrix with PyTorch's adaptive windows."""
    matrix = np.zeros((out, size), dtype=np.float64)
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return xp.asarray(matrix.astype(dtype))


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """``torch.nn.functional.adaptive_avg_pool2d``: average pooling to a fixed (Ho, Wo) output.

    ``output_size`` is an int or a pair; ``None`` in a pair keeps that input dimension.
    """
    op = "adaptive_avg_pool2d"
    x, batched = check_input(input, op)
    h, w = x.shape[2:]
    sizes = tuple(output_size) if isinstance(output_size, (list, tuple)) else (output_size, output_size)
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    ho, wo = (h if sizes[0] is None else sizes[0]), (w if sizes[1] is None else sizes[1])
    ho, wo = pair((ho, wo), "output_size", op, 1)
    if h == 0 or w == 0:
        raise ShapeError(f"{op}: cannot pool an empty input {describe(x)}")
    if h % ho == 0 and w % wo == 0:
        out = avg_pool2d(x, (h // ho, w // wo))
    else:
        xp = array_module(x.data)
        rows = Tensor._make(_adaptive_matrix(ho, h, x.dtype, xp), None, 0)
        cols = Tensor._make(_adaptive_matrix(wo, w, x.dtype, xp).T.copy(), None, 0)
        out = rows @ x @ cols
    return out if batched else out.reshape(out.shape[1:])


# How the ops are checked (tapegrad.testing turns these into tests, the coverage table and the mutation check).
AvgPool2d.spec = OpSpec(
    "avg_pool2d", lambda x, **kw: avg_pool2d(x, **kw), "torch.nn.functional.avg_pool2d", inputs="avg_pool2d",
    notes="padding, ceil_mode, count_include_pad and divisor_override drawn together",
)
SPECS = (
    OpSpec("adaptive_avg_pool2d", lambda x, **kw: adaptive_avg_pool2d(x, **kw),
           "torch.nn.functional.adaptive_avg_pool2d",
           inputs="adaptive_avg_pool2d", notes="divisible sizes take avg_pool2d, others the averaging matrices"),
)
