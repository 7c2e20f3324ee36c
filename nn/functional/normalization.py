"""``batch_norm``: in training one fused Function (compiled kernels), in evaluation two elementwise ops.

Training (batch statistics): ``BatchNormTrain`` runs ``kernels.batch_norm_forward`` (two passes per channel
instead of about eight whole-array ones, and the running statistics updated from the same mean and variance);
its backward is ``BatchNormTrainGrad`` (``kernels.batch_norm_backward``), whose own backward is written with
tensor ops that recompute the statistics from ``x``, so gradients of every order stay right (the pattern of
``Conv2dInputGrad`` / ``Conv2dWeightGrad``).  Evaluation: the layer is exactly the affine map
``x * scale + shift`` with constant per-channel ``scale`` and ``shift``, recorded as two elementwise ops the
deconvnet walks like any other linear op.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tapegrad.autograd import Context, Function, Tensor, kernels
from tapegrad.autograd.errors import ShapeError, describe
from tapegrad.autograd.opspec import OpSpec


def _data(t: Any) -> Any:
    return t.data if isinstance(t, Tensor) else t


def _rows(a: Any) -> Any:
    """(N, C, d1, ...) -> (N, C, S), the kernels' layout (a view when the array is contiguous)."""
    return a.reshape(a.shape[0], a.shape[1], -1)


class BatchNormTrain(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` with the batch's per-channel mean and biased variance
    (over every axis but 1); the running statistics, when given, are updated in place as PyTorch does
    (``running = (1 - momentum) * running + momentum * batch``, the unbiased variance for ``running_var``)."""

    projection = None  # for tapegrad.viz: not linear in x (the statistics are x's); eval mode is the affine map
    retain_inputs = (0, 1)

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any,
                momentum: float, eps: float) -> Any:
        out, mean, invstd, var = kernels.batch_norm_forward(_rows(x), weight, bias, eps)
        if running_mean is not None and running_var is not None:
            count = x.size // x.shape[1]
            running_mean *= 1 - momentum
            running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
            running_var *= 1 - momentum
            running_var += momentum * (var * (count / max(count - 1, 1))).astype(running_var.dtype, copy=False)
        ctx.mean, ctx.invstd, ctx.eps = mean, invstd, eps
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        dx, dw, db = BatchNormTrainGrad.apply(g, x, weight, ctx.mean, ctx.invstd, ctx.eps)
        return (dx if needs[0] else None, dw if needs[1] else None, db if needs[2] else None,
                None, None, None, None)


class BatchNormTrainGrad(Function):
    """The training batch norm's gradients ``(dx, dweight, dbias)`` for the upstream ``g`` (PyTorch's formula,
    ``kernels.batch_norm_backward``): ``dx = w * r * (g - mean(g) - xh * mean(g * xh))``, ``dweight = sum(g * xh)``,
    ``dbias = sum(g)`` per channel, with ``xh = (x - mean) * r`` and ``r = 1 / sqrt(var + eps)``.

    Its backward (the second-order terms) is written with tensor ops, the statistics recomputed from ``x``, so
    it is differentiable again.
    """

    projection = None  # for tapegrad.viz: not linear in x
    retain_inputs = (0, 1, 2)

    @staticmethod
    def forward(ctx: Context, g: Any, x: Any, weight: Any, mean: Any, invstd: Any, eps: float) -> Any:
        ctx.mean, ctx.invstd, ctx.eps = mean, invstd, eps
        dx, dw, db = kernels.batch_norm_backward(_rows(g), _rows(x), mean, invstd, weight)
        return dx.reshape(x.shape), dw, db

    @staticmethod
    def backward(ctx: Context, up_x: Tensor, up_w: Tensor, up_b: Tensor) -> tuple[Any, ...]:
        # L = <up_x, w r P g> + <up_w, xh . g> + <up_b, 1 . g> per channel, P = I - 11'/N - xh xh'/N (symmetric);
        # dL/dg = w r P up_x + up_w xh + up_b, dL/dw = <up_x, r P g>, and dL/dx from dr/dx = -r^2 xh / N and
        # dxh/dx = r P: -(w r^2 / N) (K xh + s (up_x - mean(up_x)) + a (g - mean(g)) - 3 xh a s / N) + up_w r P g
        # with a = <up_x, xh>, s = <g, xh>, K = <up_x, g - mean(g)>.
        g, x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        c = x.shape[1]
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, c) + (1,) * (x.ndim - 2)
        count = x.size // c
        w: Any = 1.0 if weight is None else weight.reshape(shape)
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        r = ((centered * centered).mean(axis=axes, keepdims=True) + ctx.eps) ** -0.5
        xh = centered * r
        uw, ub = up_w.reshape(shape), up_b.reshape(shape)
        d_g = d_x = d_w = None
        if needs[0]:
            d_g = BatchNormTrainGrad.apply(up_x, x, weight, ctx.mean, ctx.invstd, ctx.eps)[0] + xh * uw + ub
        if needs[1] or needs[2]:
            g_c = g - g.mean(axis=axes, keepdims=True)
            s = (g * xh).sum(axis=axes, keepdims=True)
            u = r * (g_c - xh * (s / count))  # r P g
            if needs[2]:
                d_w = (up_x * u).sum(axis=axes)
            if needs[1]:
                up_c = up_x - up_x.mean(axis=axes, keepdims=True)
                a = (up_x * xh).sum(axis=axes, keepdims=True)
                k = (up_x * g_c).sum(axis=axes, keepdims=True)
                inner = k * xh + s * up_c + a * g_c - xh * (a * s * (3.0 / count))
                d_x = inner * (w * r * r * (-1.0 / count)) + uw * u
        return d_g, d_x, d_w, None, None, None


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over every axis but the channel axis 1, like ``torch.nn.functional.batch_norm``.

    In training the batch statistics are used (biased variance) and the running statistics, when given, are
    updated in place with the unbiased variance: ``running = (1 - momentum) * running + momentum * batch``.
    """
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: input must have a batch and a channel axis, got {describe(x)}")
    channels = x.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(
                f"batch_norm: {name} must have shape ({channels},) for input {describe(x)}, got {describe(t)}"
            )
    if eps <= 0:
        raise ValueError(f"batch_norm: eps must be positive (it keeps 1/sqrt(var + eps) finite), got {eps}")
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if x.size == 0:  # an empty batch: an empty output, running statistics untouched (as in PyTorch)
        out = x * 1.0
        out = out if weight is None else out * weight.reshape(shape)
        return out if bias is None else out + bias.reshape(shape)
    if training or running_mean is None or running_var is None:
        count = x.size // channels
        if training and count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input {describe(x)} "
                "(the batch variance would be 0 and the output meaningless)"
            )
        # one dtype for the fused op (PyTorch refuses mixed ones; tapegrad promotes, as its elementwise ops do)
        dtype = np.result_type(*(t.dtype for t in (x, weight, bias) if t is not None))
        x, weight, bias = (t if t is None or t.dtype == dtype else t.astype(dtype) for t in (x, weight, bias))
        stats = (_data(running_mean), _data(running_var)) if training else (None, None)
        return BatchNormTrain.apply(x, weight, bias, *stats, float(momentum), float(eps))
    # eval: one affine map with per-channel constants folded from the running statistics
    xp_mean = _data(running_mean).reshape(shape).astype(x.dtype, copy=False)
    inv_std = 1.0 / (_data(running_var).reshape(shape).astype(x.dtype, copy=False) + eps) ** 0.5
    if weight is None:
        scale: Any = Tensor._make(inv_std, None, 0)
        shift: Any = Tensor._make(-xp_mean * inv_std, None, 0)
    else:
        scale = weight.reshape(shape) * Tensor._make(inv_std, None, 0)
        shift = -(scale * Tensor._make(xp_mean, None, 0))
    if bias is not None:
        shift = shift + bias.reshape(shape)
    return x * scale + shift


# How the op is checked (tapegrad.testing turns this into tests and the coverage table).
SPECS = (
    OpSpec("batch_norm", lambda x, m, v, w, b, **kw: batch_norm(x, m, v, w, b, **kw), "torch.nn.functional.batch_norm",
           inputs="batch_norm", notes="training (batch statistics, no running ones) or evaluation, affine or not"),
)
