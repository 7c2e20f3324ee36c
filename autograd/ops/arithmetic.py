"""Binary arithmetic with NumPy broadcasting: + - * / ** @ and negation.

Backwards return gradients of the broadcast shape; the engine sums them back to each input's shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import runtime as _runtime
from ..backend import is_gpu_array
from ..function import Context, Function
from ..opspec import Arg, OpSpec
from ..tensor import DEFAULT_DTYPE, Tensor

_PAIR = (Arg("broadcast"), Arg("broadcast"))


class Add(Function):
    """Elementwise ``a + b`` with NumPy broadcasting (``torch.add``, the ``+`` operator).

    Parameters
    ----------
    a, b
        Tensors, arrays or Python numbers.  An integer or bool tensor meeting a float takes the float's dtype
        (``int64 + float32`` is float32), as in PyTorch rather than NumPy.

    Returns
    -------
    Tensor
        The sum, of the broadcast shape.  Each input's gradient is the upstream gradient summed back over the
        axes it was broadcast along.
    """

    names, method, operators, reflected = "add", True, ("__add__",), ("__radd__",)
    projection = "linear"
    spec = OpSpec("add", lambda a, b: a + b, "torch.add", _PAIR)

    @staticmethod
    def call(a: Any, b: Any) -> Tensor:
        return Add.apply(*_operands(a, b))

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        return a + b

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g, g


class Sub(Function):
    """Elementwise ``a - b`` with broadcasting (``torch.sub``, the ``-`` operator), dtypes promoted as in :func:`add`.

    The gradient is ``g`` for ``a`` and ``-g`` for ``b``, each summed back to its input's shape.
    """

    names, method, operators, reflected = "sub", True, ("__sub__",), ("__rsub__",)
    projection = "linear"
    spec = OpSpec("sub", lambda a, b: a - b, "torch.sub", _PAIR)

    @staticmethod
    def call(a: Any, b: Any) -> Tensor:
        return Sub.apply(*_operands(a, b))

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        return a - b

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """Elementwise ``a * b`` with broadcasting (``torch.mul``, the ``*`` operator), dtypes promoted as in :func:`add`.

    The gradient is ``g * b`` for ``a`` and ``g * a`` for ``b``.
    """

    names, method, operators, reflected = "mul", True, ("__mul__",), ("__rmul__",)
    retain_inputs = (0, 1)
    projection = "linear"
    spec = OpSpec("mul", lambda a, b: a * b, "torch.mul", _PAIR)

    @staticmethod
    def call(a: Any, b: Any) -> Tensor:
        return Mul.apply(*_operands(a, b))

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        return a * b

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        a, b = ctx.saved_tensors
        return (g * b if ctx.needs_input_grad[0] else None, g * a if ctx.needs_input_grad[1] else None)


class Div(Function):
    """Elementwise true division ``a / b`` with broadcasting (``torch.div``, the ``/`` operator).

    Integer operands give a float32 result, as in PyTorch (NumPy would give float64); division by zero gives
    ``inf`` or ``nan`` (IEEE rules).  The gradient is ``g / b`` for ``a`` and ``-g * a / b**2`` for ``b``.
    """

    names, method, operators, reflected = "div", True, ("__truediv__",), ("__rtruediv__",)
    retain_inputs = (0, 1)
    projection = "linear"
    spec = OpSpec(
        "div", lambda a, b: a / b, "torch.div", (Arg("broadcast"), Arg("broadcast", low=0.5, high=3.0))
    )

    @staticmethod
    def call(a: Any, b: Any) -> Tensor:
        return Div.apply(*_operands(a, b, true_divide=True))

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        return a / b

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        a, b = ctx.saved_tensors
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    """Elementwise ``a ** b`` with broadcasting (``torch.pow``, the ``**`` operator); ``a`` or ``b`` may be a number.

    The gradient follows PyTorch at the points where the textbook formulas are undefined: for the base it is
    ``g * b * a**(b - 1)``, but exactly 0 wherever ``b == 0`` (also at ``a == 0``, where the formula would give
    ``0 * inf``); for the exponent it is ``g * a**b * log(a)``, defined as 0 wherever ``a == 0``.  A negative base with
    a non-integer exponent gives ``nan``, as in NumPy.
    """

    names, method, operators, reflected = "pow", True, ("__pow__",), ("__rpow__",)
    retain_inputs, retain_outputs = (0, 1), (0,)
    projection = None
    spec = OpSpec(
        "pow", lambda a, b: a**b, "torch.pow", (Arg("broadcast", low=0.5, high=2.0), Arg("broadcast", low=-2, high=2))
    )

    @staticmethod
    def call(a: Any, b: Any) -> Tensor:
        return Pow.apply(*_operands(a, b))

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        return a**b

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        from .select import Where

        where = Where.public
        a, b, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # PyTorch: the gradient is 0 where b == 0 (even at a == 0, where b * a**(b-1) would be 0 * inf)
            if isinstance(b, Tensor):
                ga = g * b * a ** (b - 1)
                if (b.data == 0).any():
                    ga = where(b.data == 0, 0.0, ga)
            else:
                ga = g * b * a ** (b - 1) if b != 0 else g * 0.0
        if ctx.needs_input_grad[1]:
            # d(a**b)/db = a**b * log(a); PyTorch defines it as 0 where a == 0 (log 1 = 0 stands in there)
            if isinstance(a, Tensor):
                zero = a.data == 0
                log_a = where(zero, 1.0, a).log() if zero.any() else a.log()
            else:  # a Python number base: 2 ** x
                log_a = math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
            gb = g * out * log_a
        return ga, gb


class Neg(Function):
    """Elementwise ``-a`` (``torch.neg``, unary ``-``); the gradient is ``-g``."""

    names, method, operators = "neg", True, ("__neg__",)
    projection = "linear"
    spec = OpSpec("neg", lambda a: -a, "torch.neg")

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        return -a

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return -g


class MatMul(Function):
    """``a @ b`` like ``torch.matmul``: 1-D operands are promoted to matrices and the added axis removed.

    Parameters
    ----------
    a, b : Tensor or array
        At least 1-D each.  Beyond the last two axes, the leading (batch) axes broadcast, so ``(B, n, k) @ (k, m)``
        multiplies every matrix of the batch by the same ``(k, m)`` one.

    Returns
    -------
    Tensor
        The product; a mismatched inner size raises :class:`~tapegrad.autograd.ShapeError`.  The gradients are
        ``g @ b.T`` for ``a`` and ``a.T @ g`` for ``b``, summed over the batch axes an input was broadcast along.
    """

    names, method, operators, reflected = "matmul", True, ("__matmul__",), ("__rmatmul__",)
    retain_inputs = (0, 1)
    projection = "linear"
    spec = OpSpec("matmul", lambda a, b: a @ b, "torch.matmul", "matmul")

    @staticmethod
    def call(a: Any, b: Any) -> Tensor:
        a = a if isinstance(a, Tensor) else Tensor(a)
        b = b if isinstance(b, Tensor) else Tensor(b)
        a, b = _operands(a, b)  # an integer tensor meeting a float one takes its dtype, like torch
        if a.ndim == 0 or b.ndim == 0:
            from ..errors import ShapeError

            raise ShapeError(f"matmul: both operands must have at least one dimension, got {a.shape} and {b.shape}")
        squeeze = []
        if a.ndim == 1:
            a = a.reshape(1, a.shape[0])
            squeeze.append(-2)
        if b.ndim == 1:
            b = b.reshape(b.shape[0], 1)
            squeeze.append(-1)
        out = MatMul.apply(a, b)
        if squeeze:
            shape = list(out.shape)
            for axis in sorted(squeeze):
                del shape[axis]
            out = out.reshape(tuple(shape)) if len(squeeze) == 1 else out.reshape(tuple(out.shape[:-2]))
        return out

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
            from ..errors import ShapeError, describe

            raise ShapeError(
                f"matmul: cannot multiply {describe(a)} by {describe(b)}: the last dimension of the first "
                "must equal the second-to-last of the second"
            )
        return _runtime.matmul(a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        a, b = ctx.saved_tensors
        ga = g @ b.transpose(-1, -2) if ctx.needs_input_grad[0] else None
        gb = a.transpose(-1, -2) @ g if ctx.needs_input_grad[1] else None
        return ga, gb


def _operand(x: Any, like: Any) -> Any:
    """Python numbers stay scalars (so float32 stays float32); arrays are wrapped."""
    if isinstance(x, np.generic):  # NumPy scalars act as Python numbers, as in torch: float32 * np.float64(2)
        return x.item()  # stays float32 (NumPy 2 alone would give float64; np.float64 is a float subclass)
    if isinstance(x, Tensor) or isinstance(x, (int, float, bool)):
        return x
    if isinstance(x, np.ndarray) or is_gpu_array(x):  # a backend array (in a backward): stays on its device
        return Tensor._make(x, None, 0)
    if hasattr(x, "shape"):
        return Tensor(x)
    return x


def _kind(x: Any) -> str:
    return x.data.dtype.kind if isinstance(x, Tensor) else ("f" if isinstance(x, float) else "i")


def _operands(a: Any, b: Any, true_divide: bool = False) -> tuple[Any, Any]:
    """PyTorch's type promotion where NumPy's differs: an integer or bool tensor meeting a float takes the
    float's dtype (int64 * float32 is float32, not float64; int + 1.5 is float32), and integer division is
    float32.  Floats meeting floats are left to NumPy, which agrees with PyTorch there."""
    if type(a) is Tensor and type(b) is Tensor:  # the common case, kept cheap: it runs on every op
        ka, kb = a.data.dtype.kind, b.data.dtype.kind
    else:
        a, b = _operand(a, b), _operand(b, a)
        ka, kb = _kind(a), _kind(b)
    if ka == "f" and kb == "f":
        return a, b
    if ka == "f" or kb == "f" or true_divide:
        target = a.data.dtype if ka == "f" and isinstance(a, Tensor) else (
            b.data.dtype if kb == "f" and isinstance(b, Tensor) else DEFAULT_DTYPE
        )
        if isinstance(a, Tensor) and ka != "f":
            a = Tensor._make(a.data.astype(target), None, 0)
        if isinstance(b, Tensor) and kb != "f":
            b = Tensor._make(b.data.astype(target), None, 0)
    return a, b
