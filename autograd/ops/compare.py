"""Comparisons: boolean tensors, never differentiable."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from ..function import Context, Function, declare
from ..tensor import Tensor


class Compare(Function):
    """Elementwise comparison (``op`` from :mod:`operator`): a bool tensor, never differentiable."""

    differentiable = False
    projection = None

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any, op: Callable[[Any, Any], Any]) -> Any:
        return op(a, b)


_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _compare(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Tensor]:
    def compare(a: Any, b: Any) -> Tensor:
        return Compare.apply(a, b, op=op)

    compare.__name__ = compare.__qualname__ = op.__name__
    compare.__doc__ = (
        f"Elementwise ``a {_SYMBOLS[op.__name__]} b`` with broadcasting (``torch.{op.__name__}``, the "
        f"``{_SYMBOLS[op.__name__]}`` operator on tensors).\n\n"
        "Returns a bool tensor that never requires grad: comparisons are not differentiable."
    )
    return declare(compare, op.__name__, method=True, operators=(f"__{op.__name__}__",))


eq = _compare(operator.eq)
ne = _compare(operator.ne)
lt = _compare(operator.lt)
le = _compare(operator.le)
gt = _compare(operator.gt)
ge = _compare(operator.ge)
