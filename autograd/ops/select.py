"""Elementwise choice between tensors: where, maximum, minimum."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module
from ..function import Context, Function
from ..tensor import Tensor


class Where(Function):
    @staticmethod
    def forward(ctx: Context, condition: Any, a: Any, b: Any) -> Any:
        xp = array_module(condition, a, b)
        ctx.condition = xp.asarray(condition, dtype=bool)
        return xp.where(ctx.condition, a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        ga = where(ctx.condition, g, 0.0) if ctx.needs_input_grad[1] else None
        gb = where(ctx.condition, 0.0, g) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class Maximum(Function):
    """Elementwise max/min; on ties the gradient is split equally between the two inputs, like PyTorch."""

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any, largest: bool) -> Any:
        xp = array_module(a, b)
        wins = (a > b) if largest else (a < b)
        dtype = xp.result_type(a, b)
        ctx.share_a = (wins + 0.5 * (a == b)).astype(dtype)
        return xp.maximum(a, b) if largest else xp.minimum(a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        ga = g * ctx.share_a if ctx.needs_input_grad[0] else None
        gb = g * (1 - ctx.share_a) if ctx.needs_input_grad[1] else None
        return ga, gb, None


def _operand(x: Any) -> Any:
    if isinstance(x, np.generic):  # a NumPy scalar acts as a Python number (float32 stays float32)
        return x.item()
    return x if isinstance(x, (Tensor, int, float, bool)) else Tensor(x)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise choice: ``a`` where ``condition`` is true, else ``b`` (``torch.where``), with broadcasting.

    Parameters
    ----------
    condition : Tensor or array
        Boolean (or truthy) values; never differentiated.
    a, b
        Tensors, arrays or numbers.  An integer branch meeting a float one takes the float's dtype, as in PyTorch.

    Returns
    -------
    Tensor
        The gradient goes to ``a`` where the condition holds and to ``b`` elsewhere (0 for the other branch).
    """
    cond = condition.data if isinstance(condition, Tensor) else condition
    a, b = _operand(a), _operand(b)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype.kind != b.data.dtype.kind:
        # an integer branch meeting a float one takes the float dtype, as in torch (NumPy: float64)
        if a.data.dtype.kind == "f" and b.data.dtype.kind in "biu":
            b = Tensor._make(b.data.astype(a.data.dtype), None, 0)
        elif b.data.dtype.kind == "f" and a.data.dtype.kind in "biu":
            a = Tensor._make(a.data.astype(b.data.dtype), None, 0)
    return Where.apply(cond, a, b)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise larger of ``a`` and ``b`` with broadcasting (``torch.maximum``); not a reduction (see :func:`max`).

    The gradient goes to the larger input; where the two are equal it is split half-half between them, as in
    PyTorch.  A ``nan`` in either input propagates to the result.
    """
    return Maximum.apply(_operand(a), _operand(b), True)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise smaller of ``a`` and ``b`` with broadcasting (``torch.minimum``); not a reduction (see :func:`min`).

    The gradient goes to the smaller input; where the two are equal it is split half-half between them.
    """
    return Maximum.apply(_operand(a), _operand(b), False)
