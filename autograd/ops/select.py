"""Elementwise choice between tensors: where, maximum, minimum."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module
from ..function import Context, Function
from ..opspec import Arg, OpSpec
from ..tensor import Tensor

_DISTINCT_PAIR = (Arg("broadcast", distinct=True), Arg("broadcast", distinct=True))


def _operand(x: Any) -> Any:
    if isinstance(x, np.generic):  # a NumPy scalar acts as a Python number (float32 stays float32)
        return x.item()
    return x if isinstance(x, (Tensor, int, float, bool)) else Tensor(x)


class Where(Function):
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

    names, projection = "where", "linear"
    spec = OpSpec(
        "where",
        lambda c, a, b: Where.public(c > 0, a, b),
        lambda c, a, b: __import__("torch").where(c > 0, a, b),
        (Arg("broadcast", grad=False), Arg("broadcast"), Arg("broadcast")),
    )

    @staticmethod
    def call(condition: Any, a: Any, b: Any) -> Tensor:
        cond = condition.data if isinstance(condition, Tensor) else condition
        a, b = _operand(a), _operand(b)
        if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype.kind != b.data.dtype.kind:
            # an integer branch meeting a float one takes the float dtype, as in torch (NumPy: float64)
            if a.data.dtype.kind == "f" and b.data.dtype.kind in "biu":
                b = Tensor._make(b.data.astype(a.data.dtype), None, 0)
            elif b.data.dtype.kind == "f" and a.data.dtype.kind in "biu":
                a = Tensor._make(a.data.astype(b.data.dtype), None, 0)
        return Where.apply(cond, a, b)

    @staticmethod
    def forward(ctx: Context, condition: Any, a: Any, b: Any) -> Any:
        xp = array_module(condition, a, b)
        ctx.condition = xp.asarray(condition, dtype=bool)
        return xp.where(ctx.condition, a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        where = Where.public
        ga = where(ctx.condition, g, 0.0) if ctx.needs_input_grad[1] else None
        gb = where(ctx.condition, 0.0, g) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def _tie_split_backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
    ga = g * ctx.share_a if ctx.needs_input_grad[0] else None
    gb = g * (1 - ctx.share_a) if ctx.needs_input_grad[1] else None
    return ga, gb


class Maximum(Function):
    """Elementwise larger of ``a`` and ``b`` with broadcasting (``torch.maximum``); not a reduction (see :func:`max`).

    The gradient goes to the larger input; where the two are equal it is split half-half between them, as in
    PyTorch.  A ``nan`` in either input propagates to the result.
    """

    names, method, projection = "maximum", True, "linear"
    spec = OpSpec("maximum", lambda a, b: a.maximum(b), "torch.maximum", _DISTINCT_PAIR)

    @staticmethod
    def call(a: Any, b: Any) -> Tensor:
        return Maximum.apply(_operand(a), _operand(b))

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        xp = array_module(a, b)
        ctx.share_a = ((a > b) + 0.5 * (a == b)).astype(xp.result_type(a, b))
        return xp.maximum(a, b)

    backward = staticmethod(_tie_split_backward)


class Minimum(Function):
    """Elementwise smaller of ``a`` and ``b`` with broadcasting (``torch.minimum``); not a reduction (see :func:`min`).

    The gradient goes to the smaller input; where the two are equal it is split half-half between them.
    """

    names, method, projection = "minimum", True, "linear"
    spec = OpSpec("minimum", lambda a, b: a.minimum(b), "torch.minimum", _DISTINCT_PAIR)

    @staticmethod
    def call(a: Any, b: Any) -> Tensor:
        return Minimum.apply(_operand(a), _operand(b))

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        xp = array_module(a, b)
        ctx.share_a = ((a < b) + 0.5 * (a == b)).astype(xp.result_type(a, b))
        return xp.minimum(a, b)

    backward = staticmethod(_tie_split_backward)
