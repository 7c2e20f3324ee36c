"""Elementwise functions of one tensor: exp, log, sqrt, abs, sign, relu, sigmoid, tanh, softplus, clip, casts."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from ..backend import array_module, device_of, to_device
from ..errors import DTypeError
from ..function import Context, Function
from ..opspec import Arg, OpSpec
from ..tensor import Tensor


def _floating(x: Any) -> Any:
    """Integer and bool tensors become float32 before a transcendental function, as in torch (not float64)."""
    if isinstance(x, Tensor) and x.data.dtype.kind in "biu":
        return Tensor._make(x.data.astype(np.float32), None, 0)
    return x


class Exp(Function):
    """Elementwise ``e ** x`` (``torch.exp``); integer and bool tensors become float32 first, as in PyTorch.

    The gradient is ``g * exp(x)``, reusing the forward's result.
    """

    names, method, retain_outputs, projection = "exp", True, (0,), None
    spec = OpSpec("exp", lambda x: x.exp(), "torch.exp")

    @staticmethod
    def call(x: Tensor) -> Tensor:
        return Exp.apply(_floating(x))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return array_module(x).exp(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    """Elementwise natural logarithm (``torch.log``); integers become float32 first.

    ``log(0)`` is ``-inf`` and a negative input gives ``nan``, as in NumPy.  The gradient is ``g / x``.
    """

    names, method, retain_inputs, projection = "log", True, (0,), None
    spec = OpSpec("log", lambda x: x.log(), "torch.log", (Arg(low=0.1, high=5.0),))

    @staticmethod
    def call(x: Tensor) -> Tensor:
        return Log.apply(_floating(x))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return array_module(x).log(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    """Elementwise square root (``torch.sqrt``); integers become float32 first.

    The gradient is ``g / (2 * sqrt(x))``, which is ``inf`` at ``x == 0``, as in PyTorch.
    """

    names, method, retain_outputs, projection = "sqrt", True, (0,), None
    spec = OpSpec("sqrt", lambda x: x.sqrt(), "torch.sqrt", (Arg(low=0.1, high=5.0),))

    @staticmethod
    def call(x: Tensor) -> Tensor:
        return Sqrt.apply(_floating(x))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return array_module(x).sqrt(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g / (out * 2)


class Abs(Function):
    """Elementwise absolute value (``torch.abs``, ``abs(x)``); keeps the input's dtype.

    The gradient is ``g * sign(x)``, so 0 at ``x == 0`` (the subgradient PyTorch picks).
    """

    names, method, operators, retain_inputs, projection = "abs", True, ("__abs__",), (0,), None
    spec = OpSpec(
        "abs", lambda x: x.abs(), "torch.abs", (Arg(away_from=(0.0,)),), second_order=False,
        notes="the second derivative is 0; torch returns it as a ZeroTensor, which has no .numpy()",
    )

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return array_module(x).abs(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * array_module(x.data).sign(x.data)


class Sign(Function):
    """Elementwise sign, -1, 0 or 1 in the input's dtype (``torch.sign``); the gradient is 0 everywhere."""

    names, method, projection = "sign", True, None
    spec = OpSpec("sign", lambda x: x.sign(), "torch.sign", (Arg(away_from=(0.0,)),))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return array_module(x).sign(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g * 0.0


class Relu(Function):
    """Elementwise ``max(x, 0)`` (``torch.relu``); keeps the input's dtype.

    The gradient passes where the output is positive and is 0 elsewhere, including at ``x == 0``, as in PyTorch.
    """

    names, method, retain_outputs, projection = "relu", True, (0,), "rectifier"
    spec = OpSpec("relu", lambda x: x.relu(), "torch.relu", (Arg(away_from=(0.0,)),))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return kernels.relu_forward(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return ReluGrad.apply(g, out.data)


class ReluGrad(Function):
    """``g * (out > 0)``: ReLU's backward as one op, so the compiled kernel does it in one memory pass
    (NumPy: compare, cast, multiply).  Linear in ``g`` with a constant mask: its own backward is itself, so
    gradients of any order work."""

    projection = "linear"

    @staticmethod
    def forward(ctx: Context, g: Any, out: Any) -> Any:
        ctx.out = out
        return kernels.relu_backward(g, out)

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> tuple[Any, ...]:
        return ReluGrad.apply(gg, ctx.out), None


class Sigmoid(Function):
    """Elementwise logistic function ``1 / (1 + e ** -x)`` (``torch.sigmoid``); integers become float32 first.

    Computed separately for negative and non-negative inputs so that ``exp`` never overflows (no warning, no
    ``nan`` for large ``|x|``).  The gradient is ``g * s * (1 - s)`` with ``s`` the output.
    """

    names, method, retain_outputs, projection = "sigmoid", True, (0,), None
    spec = OpSpec("sigmoid", lambda x: x.sigmoid(), "torch.sigmoid")

    @staticmethod
    def call(x: Tensor) -> Tensor:
        return Sigmoid.apply(_floating(x))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = array_module(x)
        # split by sign so exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) for x < 0
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g * out * (1 - out)


class Tanh(Function):
    """Elementwise hyperbolic tangent (``torch.tanh``); integers become float32 first.

    The gradient is ``g * (1 - tanh(x) ** 2)``, reusing the forward's result.
    """

    names, method, retain_outputs, projection = "tanh", True, (0,), None
    spec = OpSpec("tanh", lambda x: x.tanh(), "torch.tanh")

    @staticmethod
    def call(x: Tensor) -> Tensor:
        return Tanh.apply(_floating(x))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return array_module(x).tanh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


class Softplus(Function):
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

    names, method, retain_inputs, projection = "softplus", True, (0,), None
    spec = OpSpec("softplus", lambda x: x.softplus(), "torch.nn.functional.softplus")

    @staticmethod
    def call(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        return Softplus.apply(_floating(x), beta=beta, threshold=threshold)

    @staticmethod
    def forward(ctx: Context, x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
        xp = array_module(x)
        ctx.beta, ctx.threshold = beta, threshold
        bx = x * beta
        soft = xp.logaddexp(0, bx) / beta
        return xp.where(bx > threshold, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        from .select import Where

        (x,) = ctx.saved_tensors
        linear = x.data * ctx.beta > ctx.threshold
        return g * Where.public(linear, 1.0, (x * ctx.beta).sigmoid())


class Clip(Function):
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

    names, method, retain_inputs, projection = ("clip", "clamp"), True, (0,), None
    spec = OpSpec(
        "clip", lambda x: x.clip(-1.0, 1.0), lambda x: x.clamp(-1.0, 1.0), (Arg(away_from=(-1.0, 1.0)),)
    )

    @staticmethod
    def call(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - torch's names
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            raise TypeError("clip: min and max must be numbers; use maximum/minimum for tensors")
        return Clip.apply(x, min, max)

    @staticmethod
    def forward(ctx: Context, x: Any, low: Any, high: Any) -> Any:
        ctx.low, ctx.high = low, high
        return array_module(x).clip(x, low, high)

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
    """Convert to ``dtype`` (``Tensor.astype``, like ``torch.Tensor.to(dtype)``); ``x`` itself when it already has it.

    A cast to a floating dtype is differentiable: the gradient is cast back to the input's dtype.  A cast of a
    tensor that requires grad to an integer or bool dtype gives a result cut from the graph (no gradient), as in
    PyTorch.  An unsupported dtype raises :class:`~tapegrad.autograd.DTypeError`.
    """

    names, method, projection = "cast", "astype", "linear"
    spec = OpSpec(
        "cast", lambda x: x.astype("float64"), lambda x: x.to(__import__("torch").float64), dtypes=("float32",)
    )

    @staticmethod
    def call(x: Tensor, dtype: Any) -> Tensor:
        dtype = np.dtype(dtype)
        if dtype == x.dtype:
            return x
        if x.requires_grad and dtype.kind not in "fc":
            return Tensor._make(x.data.astype(dtype), None, 0)  # an integer result carries no gradient
        if dtype.kind not in "biufc":
            raise DTypeError(f"astype: cannot cast {x.dtype} to {dtype}")
        return Cast.apply(x, dtype)

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

    projection = "linear"

    @staticmethod
    def forward(ctx: Context, x: Any, device: str) -> Any:
        ctx.device = device_of(x)
        return to_device(x, device)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return ToDevice.apply(g, device=ctx.device)
