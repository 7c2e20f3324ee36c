"""Elementwise functions of one tensor: exp, log, sqrt, abs, relu, sigmoid, tanh, softplus, clip, casts."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module, device_of, to_device
from ..errors import DTypeError
from ..function import Context, Function
from ..tensor import Tensor


class Exp(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).log(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g / (out * 2)


class Abs(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).abs(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * array_module(x.data).sign(x.data)


class Relu(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g * (out.data > 0).astype(g.dtype)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = array_module(x)
        # split by sign so exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) for x < 0
        e = xp.exp(-xp.abs(x))
        out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g * out * (1 - out)


class Tanh(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


class Softplus(Function):
    """log(1 + e^(beta x)) / beta, linear above ``threshold`` like ``torch.nn.functional.softplus``."""

    @staticmethod
    def forward(ctx: Context, x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
        xp = array_module(x)
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        bx = x * beta
        soft = xp.logaddexp(0, bx) / beta
        return xp.where(bx > threshold, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        from .select import where

        (x,) = ctx.saved_tensors
        linear = x.data * ctx.beta > ctx.threshold
        return g * where(linear, 1.0, sigmoid(x * ctx.beta))


class Clip(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, low: Any, high: Any) -> Any:
        xp = array_module(x)
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return xp.clip(x, low, high)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        (x,) = ctx.saved_tensors
        inside = np.True_
        if ctx.low is not None:
            inside = x.data >= ctx.low
        if ctx.high is not None:
            inside = inside & (x.data <= ctx.high)
        return g * inside.astype(g.dtype), None, None


class Cast(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, dtype: Any) -> Any:
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g.astype(ctx.dtype), None


class ToDevice(Function):
    """Copy to ``'cpu'`` or ``'cuda'``, differentiably: the gradient is copied back to the input's device.

    Used by :meth:`Tensor.to <tapegrad.autograd.Tensor.to>`: ``ToDevice.apply(x, device="cuda")``.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, device: str) -> Any:
        ctx.device = device_of(x)
        return to_device(x, device)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return ToDevice.apply(g, device=ctx.device)


def _floating(x: Any) -> Any:
    """Integer and bool tensors become float32 before a transcendental function, as in torch (not float64)."""
    if isinstance(x, Tensor) and x.data.dtype.kind in "biu":
        return Tensor._make(x.data.astype(np.float32), None, 0)
    return x


def exp(x: Tensor) -> Tensor:
    """Elementwise ``e ** x`` (``torch.exp``); integer and bool tensors become float32 first, as in PyTorch.

    The gradient is ``g * exp(x)``, reusing the forward's result.
    """
    return Exp.apply(_floating(x))


def log(x: Tensor) -> Tensor:
    """Elementwise natural logarithm (``torch.log``); integers become float32 first.

    ``log(0)`` is ``-inf`` and a negative input gives ``nan``, as in NumPy.  The gradient is ``g / x``.
    """
    return Log.apply(_floating(x))


def sqrt(x: Tensor) -> Tensor:
    """Elementwise square root (``torch.sqrt``); integers become float32 first.

    The gradient is ``g / (2 * sqrt(x))``, which is ``inf`` at ``x == 0``, as in PyTorch.
    """
    return Sqrt.apply(_floating(x))


def abs(x: Tensor) -> Tensor:  # noqa: A001 - mirrors torch.abs
    """Elementwise absolute value (``torch.abs``, ``abs(x)``); keeps the input's dtype.

    The gradient is ``g * sign(x)``, so 0 at ``x == 0`` (the subgradient PyTorch picks).
    """
    return Abs.apply(x)


def relu(x: Tensor) -> Tensor:
    """Elementwise ``max(x, 0)`` (``torch.relu``); keeps the input's dtype.

    The gradient passes where the output is positive and is 0 elsewhere, including at ``x == 0``, as in PyTorch.
    """
    return Relu.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    """Elementwise logistic function ``1 / (1 + e ** -x)`` (``torch.sigmoid``); integers become float32 first.

    Computed separately for negative and non-negative inputs so that ``exp`` never overflows (no warning, no
    ``nan`` for large ``|x|``).  The gradient is ``g * s * (1 - s)`` with ``s`` the output.
    """
    return Sigmoid.apply(_floating(x))


def tanh(x: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent (``torch.tanh``); integers become float32 first.

    The gradient is ``g * (1 - tanh(x) ** 2)``, reusing the forward's result.
    """
    return Tanh.apply(_floating(x))


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Elementwise smooth ReLU ``log(1 + e ** (beta * x)) / beta`` (``torch.nn.functional.softplus``).

    Parameters
    ----------
    x : Tensor
        The input; integers become float32 first.
    beta : float
        Sharpness: the larger, the closer to ReLU.
    threshold : float
        Where ``beta * x > threshold`` the result is ``x`` itself (linear), as in PyTorch, which avoids
        overflow; the gradient there is exactly ``g``, elsewhere ``g * sigmoid(beta * x)``.
    """
    return Softplus.apply(_floating(x), beta=beta, threshold=threshold)


def clip(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - torch's names
    """Limit every element to ``[min, max]`` (``torch.clamp``; also available as ``clamp``).

    Parameters
    ----------
    x : Tensor
        The input.
    min, max : number, optional
        The bounds (Python or NumPy numbers, not tensors: use :func:`maximum` / :func:`minimum` for tensor
        bounds).  Either may be None for no bound on that side, but not both.

    Returns
    -------
    Tensor
        The clipped tensor, of the input's shape and dtype.  The gradient passes where
        ``min <= x <= max``, the bounds included (like ``torch.clamp``), and is 0 outside.
    """
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        raise TypeError("clip: min and max must be numbers; use maximum/minimum for tensors")
    return Clip.apply(x, min, max)


clamp = clip


def cast(x: Tensor, dtype: Any) -> Tensor:
    """Convert to ``dtype`` (``Tensor.astype``, like ``torch.Tensor.to(dtype)``); ``x`` itself when it already has it.

    A cast to a floating dtype is differentiable: the gradient is cast back to the input's dtype.  A cast of a
    tensor that requires grad to an integer or bool dtype gives a result cut from the graph (no gradient), as in
    PyTorch.  An unsupported dtype raises :class:`~tapegrad.autograd.DTypeError`.
    """
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    if x.requires_grad and dtype.kind not in "fc":
        return Tensor._make(x.data.astype(dtype), None, 0)  # an integer result carries no gradient
    if dtype.kind not in "biufc":
        raise DTypeError(f"astype: cannot cast {x.dtype} to {dtype}")
    return Cast.apply(x, dtype)
