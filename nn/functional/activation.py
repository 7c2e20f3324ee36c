"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax, and relu6, hardsigmoid, hardswish, silu,
mish, gelu, elu, selu, softsign.

The elementwise ones are the autograd ops themselves (each a ``Function`` declared in
``tapegrad.autograd.ops``: the deconvnet recognises a rectifier by its declared projection kind); this module
adds torch's functional signatures (``inplace``, softmax's ``dim`` default and ``dtype``).
"""

from __future__ import annotations

from typing import Any

from tapegrad.autograd import Tensor
from tapegrad.autograd.ops import elu, gelu, hardsigmoid, hardswish, leaky_relu, mish, selu, silu, softsign  # noqa: F401
from tapegrad.autograd.ops import log_softmax as _log_softmax
from tapegrad.autograd.ops import relu as _relu
from tapegrad.autograd.ops import relu6 as _relu6
from tapegrad.autograd.ops import sigmoid as _sigmoid
from tapegrad.autograd.ops import softmax as _softmax
from tapegrad.autograd.ops import tanh as _tanh
from tapegrad.autograd.ops._args import UNSET, either
from tapegrad.autograd.ops.activation import LeakyRelu  # noqa: F401 - its old home; the op lives in autograd


def relu(x: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); ``inplace`` is accepted for PyTorch parity and ignored (tapegrad never mutates inputs)."""
    return _relu(x)


def relu6(x: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6); ``inplace`` is accepted for PyTorch parity and ignored."""
    return _relu6(x)


def sigmoid(x: Tensor) -> Tensor:
    return _sigmoid(x)


def tanh(x: Tensor) -> Tensor:
    return _tanh(x)


def _softmax_dim(ndim: int, dim: int | None) -> int:
    """PyTorch's legacy rule when ``dim`` is omitted: 0 for 0-, 1- and 3-D inputs, else 1."""
    if dim is not None:
        return dim
    return 0 if ndim in (0, 1, 3) else 1


def softmax(x: Tensor, dim: int | None = None, dtype: Any = None, *, axis: Any = UNSET) -> Tensor:
    dim = either("softmax", "dim", dim, "axis", axis, None)
    if dtype is not None:
        x = x.astype(dtype)
    return _softmax(x, _softmax_dim(x.ndim, dim))


def log_softmax(x: Tensor, dim: int | None = None, dtype: Any = None, *, axis: Any = UNSET) -> Tensor:
    dim = either("log_softmax", "dim", dim, "axis", axis, None)
    if dtype is not None:
        x = x.astype(dtype)
    return _log_softmax(x, _softmax_dim(x.ndim, dim))

