"""Reductions: sum, mean, var, max/min (ties split like ``torch.amax``), argmax, logsumexp, (log-)softmax."""

from __future__ import annotations

import builtins
from typing import Any

from ..backend import array_module
from ..errors import ShapeError
from ..function import Context, Function
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``None`` -> all axes; ints and tuples -> sorted non-negative axes; out of range -> a clear error."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    result = []
    bound = ndim if ndim else 1  # a 0-d tensor accepts axis 0 and -1, like torch
    for a in axes:
        if not -bound <= a < bound:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        result.append(a % bound if ndim else 0)
    if len(set(result)) != len(result):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(result)) if ndim else ()


def reduced_count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """How many elements each result of a reduction over ``axes`` combines."""
    count = 1
    for a in axes:
        count *= shape[a]
    return count


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class Sum(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
        ctx.shape, ctx.axes = x.shape, axis
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g.reshape(kept_shape(ctx.shape, ctx.axes)).broadcast_to(ctx.shape), None, None


class Extremum(Function):
    """max or min over axes; the gradient is shared equally among tied extrema, like ``torch.amax``."""

    @staticmethod
    def forward(ctx: Context, x: Any, axis: tuple[int, ...], keepdims: bool, largest: bool) -> Any:
        if x.size == 0 and (x.ndim == 0 or any(x.shape[a] == 0 for a in axis)):
            raise ShapeError(
                f"{'max' if largest else 'min'}: no value to reduce: shape {x.shape}, axes {axis}"
            )
        out = x.max(axis=axis, keepdims=True) if largest else x.min(axis=axis, keepdims=True)
        xp = array_module(x)
        mask = (x == out).astype(x.dtype)
        ctx.weights = mask / mask.sum(axis=axis, keepdims=True)
        ctx.shape, ctx.axes = x.shape, axis
        return out if keepdims else xp.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g.reshape(kept_shape(ctx.shape, ctx.axes)) * ctx.weights, None, None, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
        xp = array_module(x)
        if x.size:
            m = x.max(axis=axis, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) along an axis: no shift
        else:  # the log of an empty sum is -inf, as in torch
            m = xp.zeros(kept_shape(x.shape, axis), dtype=x.dtype)
        out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
        ctx.save_for_backward(x)
        ctx.kept = out
        ctx.shape, ctx.axes = x.shape, axis
        return out if keepdims else xp.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        (x,) = ctx.saved_tensors
        # recording (create_graph): recompute so the result is differentiable in x; else reuse forward's
        out = logsumexp(x, ctx.axes, keepdims=True) if is_grad_enabled() else ctx.kept
        return g.reshape(kept_shape(ctx.shape, ctx.axes)) * (x - out).exp(), None, None


class Softmax(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, axis: int) -> Any:
        xp = array_module(x)
        if x.size == 0:  # nothing to normalise (max over an empty axis would fail)
            ctx.save_for_backward(x)
            ctx.axis = axis
            return x.copy()
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        (out,) = ctx.saved_tensors
        return out * (g - (g * out).sum(axis=ctx.axis, keepdims=True)), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, axis: int) -> Any:
        xp = array_module(x)
        if x.size == 0:
            ctx.save_for_backward(x)
            ctx.axis = axis
            return x.copy()
        shifted = x - x.max(axis=axis, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        (out,) = ctx.saved_tensors
        return g - out.exp() * g.sum(axis=ctx.axis, keepdims=True), None


def sum(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - mirrors torch.sum
    """Sum over ``axis`` (``torch.sum``).

    Parameters
    ----------
    x : Tensor
        The input.
    axis : int, tuple of int or None
        The axes to reduce (``dim`` in PyTorch); None reduces all of them.  Negative axes count from the end.
    keepdims : bool
        Keep the reduced axes with size 1 (``keepdim`` in PyTorch), so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        The sums.  The gradient is the upstream gradient broadcast back over the reduced axes.
    """
    return Sum.apply(x, normalize_axis(axis, x.ndim, "sum"), keepdims)


def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (``torch.mean``); the mean over no elements is ``nan``, as in PyTorch.

    Parameters
    ----------
    x : Tensor
        The input.
    axis : int, tuple of int or None
        The axes to reduce (``dim`` in PyTorch); None reduces all of them.  Negative axes count from the end.
    keepdims : bool
        Keep the reduced axes with size 1 (``keepdim`` in PyTorch), so the result broadcasts against ``x``.
    """
    axes = normalize_axis(axis, x.ndim, "mean")
    count = reduced_count(x.shape, axes)
    total = Sum.apply(x, axes, keepdims)
    return total / count if count else total * float("nan")  # the mean of nothing is NaN, as in torch


def var(x: Tensor, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """Variance with Bessel's correction by default (``torch.var``); ``correction=0`` for the biased one.

    Parameters
    ----------
    x : Tensor
        The input.
    axis : int, tuple of int or None
        The axes to reduce (``dim`` in PyTorch); None reduces all of them.
    keepdims : bool
        Keep the reduced axes with size 1 (``keepdim`` in PyTorch).
    correction : int
        Divide the sum of squared deviations by ``count - correction`` (clamped at 0, so too few elements give
        ``inf`` or ``nan``, as in PyTorch).
    """
    axes = normalize_axis(axis, x.ndim, "var")
    count = reduced_count(x.shape, axes)
    centered = x - mean(x, axes, keepdims=True)
    return (centered * centered).sum(axes, keepdims) / builtins.max(count - correction, 0)


def max(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - mirrors torch.max
    """Largest value over ``axis`` (``torch.amax``; also available as ``amax``).

    Unlike ``torch.max(x, dim)`` this returns only the values, not ``(values, indices)``: use :func:`argmax` for
    the indices.  Reducing an empty axis raises :class:`~tapegrad.autograd.ShapeError`.

    Parameters
    ----------
    x : Tensor
        The input.
    axis : int, tuple of int or None
        The axes to reduce (``dim`` in PyTorch); None reduces all of them.  Negative axes count from the end.
    keepdims : bool
        Keep the reduced axes with size 1 (``keepdim`` in PyTorch), so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        The maxima.  The gradient goes to the elements equal to the maximum; when several tie, it is split
        evenly among them (each gets ``g / count``), like ``torch.amax``, so it still sums to ``g``.
    """
    return Extremum.apply(x, normalize_axis(axis, x.ndim, "max"), keepdims, True)


def min(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - mirrors torch.min
    """Smallest value over ``axis`` (``torch.amin``; also available as ``amin``).

    The counterpart of :func:`max`: same parameters, values only, and the gradient split evenly among tied minima.
    """
    return Extremum.apply(x, normalize_axis(axis, x.ndim, "min"), keepdims, False)


amax, amin = max, min


def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the first largest value (over the flattened tensor when ``axis`` is None); no gradient.

    ``axis`` is one int (``dim`` in ``torch.argmax``); the result is int64.  An empty tensor or axis raises
    :class:`~tapegrad.autograd.ShapeError`.
    """
    data = x.data if isinstance(x, Tensor) else x
    if axis is not None:
        axes = normalize_axis(axis, data.ndim, "argmax")
        if len(axes) > 1:
            raise ShapeError(f"argmax: axis must be one int or None, got {axis}")
        axis = axes[0] if axes else None
        if axis is not None and data.shape[axis] == 0:
            raise ShapeError(f"argmax: axis {axis} of shape {data.shape} is empty: there is no largest value")
    elif data.size == 0:
        raise ShapeError(f"argmax: cannot take the argmax of an empty tensor of shape {data.shape}")
    out = data.argmax(axis=axis)
    if keepdims:
        out = array_module(data).expand_dims(out, axis) if axis is not None else out.reshape((1,) * data.ndim)
    return Tensor._make(array_module(data).asarray(out).astype("int64"), None, 0)


def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the first smallest value (``torch.argmin``), as int64; over the flattened tensor when ``axis`` is None.

    Not differentiable: the result never requires grad.
    """
    return argmax(-x.detach(), axis, keepdims)


def logsumexp(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) computed stably: exact for logits of +-1e4 where a naive version overflows.

    ``axis`` and ``keepdims`` are as in :func:`sum` (``torch.logsumexp`` calls them ``dim`` and ``keepdim``).
    An all ``-inf`` slice gives ``-inf``; an empty one gives ``-inf`` too.  The gradient is ``g * softmax(x)``
    over the reduced axes.
    """
    return LogSumExp.apply(x, normalize_axis(axis, x.ndim, "logsumexp"), keepdims)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along one axis (``torch.softmax``, whose ``dim`` is ``axis`` here).

    Shifted by the maximum before ``exp``, so large logits do not overflow.  The gradient is
    ``s * (g - sum(g * s))`` along ``axis``, with ``s`` the output.
    """
    normalize_axis(axis, x.ndim, "softmax")
    return Softmax.apply(x, axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along one axis (``torch.log_softmax``, whose ``dim`` is ``axis`` here).

    Computed stably (never the log of an underflowed softmax), which is why losses should use it rather than
    ``softmax(x).log()``.  The gradient is ``g - softmax(x) * sum(g)`` along ``axis``.
    """
    normalize_axis(axis, x.ndim, "log_softmax")
    return LogSoftmax.apply(x, axis)
