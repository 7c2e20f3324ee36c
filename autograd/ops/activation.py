"""Activations beyond relu/sigmoid/tanh: leaky_relu, relu6, hardsigmoid, hardswish, silu, mish, gelu, elu, selu,
softsign, and erf (gelu's building block).

Each forward is one array expression; each backward is written with Tensor ops, so every activation can be
differentiated again (second order, checked against torch).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import array_module, cupyx_module
from ..function import Context, Function
from ..opspec import Arg, OpSpec
from ..tensor import Tensor
from .select import Where
from .unary import _floating

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715
# SELU's constants (Klambauer et al., 2017), as torch spells them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _erf_array(x: Any) -> Any:
    """erf on a backend array: SciPy's (or CuPy's) when installed, else ``math.erf`` per element (exact, slower)."""
    xp = array_module(x)
    if xp is not np:
        try:
            erf = cupyx_module().scipy.special.erf  # the GPU backend's (real or emulated) cupyx
        except AttributeError:  # the real cupyx imports its SciPy part on demand
            from cupyx.scipy.special import erf  # type: ignore[import-not-found]
        return erf(x)
    try:
        from scipy.special import erf
    except ImportError:  # NumPy has no erf: math.erf element by element (correctly rounded, ~0.1 us each)
        return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)
    return erf(x).astype(x.dtype, copy=False)


def _where(condition: Any, a: Any, b: Any) -> Tensor:
    return Where.public(condition, a, b)


class Erf(Function):
    """The error function (``torch.erf``); the gradient is ``g * 2 / sqrt(pi) * exp(-x ** 2)``."""

    names, method, retain_inputs, projection = "erf", True, (0,), None
    spec = OpSpec("erf", lambda x: x.erf(), "torch.erf")

    @staticmethod
    def call(x: Tensor) -> Tensor:
        return Erf.apply(_floating(x))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return _erf_array(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * ((x * x * -1.0).exp() * (2.0 / math.sqrt(math.pi)))


class LeakyRelu(Function):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise (``torch.nn.functional.leaky_relu``).

    The gradient at 0 is the slope, as in PyTorch.  ``inplace`` is accepted for parity and ignored.
    """

    names, method, projection = "leaky_relu", True, "leaky_rectifier"
    spec = OpSpec(
        "leaky_relu",
        lambda x: x.leaky_relu(0.2),
        lambda x: __import__("torch").nn.functional.leaky_relu(x, 0.2),
        (Arg(away_from=(0.0,)),),
    )

    @staticmethod
    def call(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
        return LeakyRelu.apply(x, float(negative_slope))

    @staticmethod
    def forward(ctx: Context, x: Any, negative_slope: float) -> Any:
        ctx.slope = array_module(x).where(x > 0, 1, negative_slope).astype(x.dtype, copy=False)
        ctx.negative_slope = negative_slope
        return x * ctx.slope

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g * ctx.slope, None


class Relu6(Function):
    """``min(max(x, 0), 6)`` (``torch.nn.functional.relu6``); the gradient passes strictly inside (0, 6)."""

    names, method, retain_inputs, projection = "relu6", True, (0,), "rectifier"
    spec = OpSpec(
        "relu6", lambda x: x.relu6(), "torch.nn.functional.relu6", (Arg(low=-2.0, high=8.0, away_from=(0.0, 6.0)),)
    )

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return array_module(x).clip(x, 0, 6)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * ((x.data > 0) & (x.data < 6)).astype(g.dtype)


class Hardsigmoid(Function):
    """``relu6(x + 3) / 6`` (``torch.nn.functional.hardsigmoid``); the gradient is 1/6 strictly inside (-3, 3)."""

    names, method, retain_inputs, projection = "hardsigmoid", True, (0,), None
    spec = OpSpec(
        "hardsigmoid", lambda x: x.hardsigmoid(), lambda x: __import__("torch").nn.functional.relu6(x + 3) / 6,
        (Arg(low=-5.0, high=5.0, away_from=(-3.0, 3.0)),),
        notes="torch's hardsigmoid has no double backward (and a float32 1/6 in float64): the same function composed",
    )

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return (array_module(x).clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * (((x.data > -3) & (x.data < 3)) / 6.0).astype(g.dtype)


class Hardswish(Function):
    """``x * relu6(x + 3) / 6`` (``torch.nn.functional.hardswish``, MobileNetV3).

    The gradient is 0 below -3, 1 above 3 and ``x / 3 + 1 / 2`` between (at 3 too, as in PyTorch).
    """

    names, method, retain_inputs, projection = "hardswish", True, (0,), None
    spec = OpSpec(
        "hardswish", lambda x: x.hardswish(), "torch.nn.functional.hardswish",
        (Arg(low=-5.0, high=5.0, away_from=(-3.0, 3.0)),),
    )

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return (x * array_module(x).clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * _where(x.data < -3, 0.0, _where(x.data <= 3, x / 3.0 + 0.5, 1.0))


class Silu(Function):
    """``x * sigmoid(x)`` (``torch.nn.functional.silu``, swish); the gradient is ``s * (1 + x * (1 - s))``."""

    names, method, retain_inputs, projection = "silu", True, (0,), None
    spec = OpSpec("silu", lambda x: x.silu(), "torch.nn.functional.silu")

    @staticmethod
    def call(x: Tensor, inplace: bool = False) -> Tensor:
        return Silu.apply(_floating(x))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = array_module(x)
        e = xp.exp(-xp.abs(x))
        return (x * xp.where(x >= 0, 1 / (1 + e), e / (1 + e))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return g * (s * (x * (1 - s) + 1))


class Mish(Function):
    """``x * tanh(softplus(x))`` (``torch.nn.functional.mish``).

    The gradient is ``t + x * sigmoid(x) * (1 - t ** 2)`` with ``t = tanh(softplus(x))``.
    """

    names, method, retain_inputs, projection = "mish", True, (0,), None
    spec = OpSpec("mish", lambda x: x.mish(), "torch.nn.functional.mish")

    @staticmethod
    def call(x: Tensor, inplace: bool = False) -> Tensor:
        return Mish.apply(_floating(x))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = array_module(x)
        softplus = xp.where(x > 20, x, xp.logaddexp(0, x))
        return (x * xp.tanh(softplus)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        t = x.softplus().tanh()
        return g * (t + x * x.sigmoid() * (1 - t * t))


class Gelu(Function):
    """``x * Phi(x)`` with ``Phi`` the standard normal CDF (``torch.nn.functional.gelu``).

    ``approximate="tanh"`` uses ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x ** 3)))``, as torch does.
    The gradient is ``Phi(x) + x * phi(x)`` (or the derivative of the tanh form).
    """

    names, method, retain_inputs, projection = "gelu", True, (0,), None
    spec = (
        OpSpec("gelu", lambda x: x.gelu(), "torch.nn.functional.gelu"),
        OpSpec(
            "gelu_tanh", lambda x, **kw: x.gelu(**kw), "torch.nn.functional.gelu",
            kwargs={"approximate": "tanh"},
        ),
    )

    @staticmethod
    def call(x: Tensor, approximate: str = "none") -> Tensor:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return Gelu.apply(_floating(x), approximate)

    @staticmethod
    def forward(ctx: Context, x: Any, approximate: str) -> Any:
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)
            return (0.5 * x * (1 + array_module(x).tanh(inner))).astype(x.dtype, copy=False)
        return (0.5 * x * (1 + _erf_array(x * (1 / math.sqrt(2.0))))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = ((x + x * x * x * _GELU_CUBIC) * _SQRT_2_OVER_PI).tanh()
            slope = (1 + t) * 0.5 + x * (1 - t * t) * (_SQRT_2_OVER_PI * 0.5) * (x * x * (3 * _GELU_CUBIC) + 1)
        else:
            cdf = ((x * (1 / math.sqrt(2.0))).erf() + 1) * 0.5
            pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
            slope = cdf + x * pdf
        return g * slope, None


def _elu_forward(x: Any, alpha: float, scale: float) -> Any:
    xp = array_module(x)
    return (scale * xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))).astype(x.dtype, copy=False)


def _elu_backward(x: Tensor, g: Tensor, alpha: float, scale: float) -> Tensor:
    return g * _where(x.data > 0, scale, x.exp() * (alpha * scale))


class Elu(Function):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (``torch.nn.functional.elu``)."""

    names, method, retain_inputs, projection = "elu", True, (0,), None
    spec = OpSpec(
        "elu", lambda x: x.elu(0.7), lambda x: __import__("torch").nn.functional.elu(x, 0.7), (Arg(away_from=(0.0,)),)
    )

    @staticmethod
    def call(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
        return Elu.apply(_floating(x), float(alpha))

    @staticmethod
    def forward(ctx: Context, x: Any, alpha: float) -> Any:
        ctx.alpha = alpha
        return _elu_forward(x, alpha, 1.0)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        (x,) = ctx.saved_tensors
        return _elu_backward(x, g, ctx.alpha, 1.0), None


class Selu(Function):
    """``scale * elu(x, alpha)`` with SELU's fixed constants (``torch.nn.functional.selu``)."""

    names, method, retain_inputs, projection = "selu", True, (0,), None
    spec = OpSpec("selu", lambda x: x.selu(), "torch.nn.functional.selu", (Arg(away_from=(0.0,)),))

    @staticmethod
    def call(x: Tensor, inplace: bool = False) -> Tensor:
        return Selu.apply(_floating(x))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return _elu_forward(x, _SELU_ALPHA, _SELU_SCALE)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return _elu_backward(x, g, _SELU_ALPHA, _SELU_SCALE)


class Softsign(Function):
    """``x / (1 + |x|)`` (``torch.nn.functional.softsign``); the gradient is ``g / (1 + |x|) ** 2``."""

    names, method, retain_inputs, projection = "softsign", True, (0,), None
    spec = OpSpec("softsign", lambda x: x.softsign(), "torch.nn.functional.softsign", (Arg(away_from=(0.0,)),))

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return x / (1 + array_module(x).abs(x))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        d = x.abs() + 1
        return g / (d * d)
