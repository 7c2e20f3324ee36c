"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax.

relu, sigmoid and tanh are the autograd Functions ``Relu``, ``Sigmoid`` and ``Tanh`` themselves (the deconvnet
recognises a rectifier by its Function class); leaky_relu is its own Function ``LeakyRelu`` for that reason.
"""

from __future__ import annotations

from typing import Any

from tapegrad.autograd import Function, Tensor
from tapegrad.autograd.backend import array_module
from tapegrad.autograd.function import Context
from tapegrad.autograd.ops import log_softmax as _log_softmax
from tapegrad.autograd.ops import relu as _relu
from tapegrad.autograd.ops import sigmoid as _sigmoid
from tapegrad.autograd.ops import softmax as _softmax
from tapegrad.autograd.ops import tanh as _tanh
from tapegrad.autograd.opspec import Arg, OpSpec


class LeakyRelu(Function):
    """x for x > 0, ``negative_slope * x`` otherwise (the gradient at 0 is the slope, as in PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any, negative_slope: float) -> Any:
        xp = array_module(x)
        positive = x > 0
        ctx.slope = xp.where(positive, 1, negative_slope).astype(x.dtype, copy=False)
        ctx.negative_slope = negative_slope
        return x * ctx.slope

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g * ctx.slope, None


def relu(x: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); ``inplace`` is accepted for PyTorch parity and ignored (tapegrad never mutates inputs)."""
    return _relu(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return LeakyRelu.apply(x, float(negative_slope))


def sigmoid(x: Tensor) -> Tensor:
    return _sigmoid(x)


def tanh(x: Tensor) -> Tensor:
    return _tanh(x)


def _softmax_dim(ndim: int, dim: int | None) -> int:
    """PyTorch's legacy rule when ``dim`` is omitted: 0 for 0-, 1- and 3-D inputs, else 1."""
    if dim is not None:
        return dim
    return 0 if ndim in (0, 1, 3) else 1


def softmax(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    if dtype is not None:
        x = x.astype(dtype)
    return _softmax(x, _softmax_dim(x.ndim, dim))


def log_softmax(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    if dtype is not None:
        x = x.astype(dtype)
    return _log_softmax(x, _softmax_dim(x.ndim, dim))


# How the op is checked (tapegrad.testing turns this into tests, the coverage table and the mutation check).
LeakyRelu.spec = OpSpec(
    "leaky_relu", lambda x, **kw: leaky_relu(x, **kw), "torch.nn.functional.leaky_relu",
    inputs=(Arg(away_from=(0.0,)),),
    kwargs={"negative_slope": 0.2}, notes="values kept 0.01 from the kink at 0",
)
