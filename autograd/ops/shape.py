"""Ops that move elements without computing: reshape, transpose/permute, broadcast, squeeze/unsqueeze, flatten."""

from __future__ import annotations

from typing import Any

from ..backend import array_module
from ..errors import ShapeError
from ..function import Context, Function, public
from ..opspec import Arg, OpSpec
from ..tensor import Tensor
from ._args import UNSET, either


def _shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept both ``t.reshape(2, 3)`` and ``t.reshape((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    """The same elements in a new shape (``torch.reshape``; also ``view``), ``x.reshape(2, 3)`` or ``((2, 3))``.

    One entry may be -1 (inferred from the element count).  The result is ``x`` itself when the shape does not
    change, otherwise a new tensor whose data may share memory with ``x``'s (writing through it is not
    supported).  The gradient is reshaped back.  A shape with the wrong number of elements raises
    :class:`~tapegrad.autograd.ShapeError`.
    """

    names, method, projection = ("reshape", "view"), True, "linear"
    spec = OpSpec("reshape", lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6), (Arg((2, 3, 4)),))

    @staticmethod
    def call(x: Tensor, *shape: Any) -> Tensor:
        shape = tuple(int(s) for s in _shape_args(shape))
        if shape == x.shape:
            return x
        return Reshape.apply(x, shape)

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...]) -> Any:
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot reshape {x.shape} ({x.size} elements) into {shape}") from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g.reshape(ctx.shape), None


class Transpose(Function):
    """Reorder the axes (``torch.permute``), ``x.permute(0, 2, 1)`` or ``((0, 2, 1))``: axis ``i`` of the result
    is axis ``axes[i]`` of ``x``.

    ``axes`` must be a permutation of all axes (negative ones allowed), else
    :class:`~tapegrad.autograd.ShapeError`.  The gradient is permuted back by the inverse permutation.
    """

    names, method, projection = "permute", True, "linear"
    spec = OpSpec("permute", lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), (Arg((2, 3, 4)),))

    @staticmethod
    def call(x: Tensor, *axes: Any) -> Tensor:
        return Transpose.apply(x, _check_permutation(_shape_args(axes), x.ndim, "permute"))

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return g.permute(tuple(inverse)), None


class BroadcastTo(Function):
    """Repeat ``x`` along size-1 and new leading axes to reach ``shape`` (``torch.broadcast_to``, NumPy's rules).

    ``x`` itself when the shape already matches.  The gradient is the upstream gradient summed over the
    broadcast axes: the backward returns it as it is, summing it back is the engine's job.  Incompatible shapes
    raise :class:`~tapegrad.autograd.ShapeError`.
    """

    names, method, projection = "broadcast_to", True, "linear"
    spec = OpSpec(
        "broadcast_to", lambda x: x.broadcast_to((2, 3, 4)), lambda x: x.broadcast_to((2, 3, 4)), (Arg((3, 1)),)
    )

    @staticmethod
    def call(x: Tensor, shape: Any) -> Tensor:
        shape = tuple(int(s) for s in shape)
        if shape == x.shape:
            return x
        return BroadcastTo.apply(x, shape)

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...]) -> Any:
        try:
            return array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g, None



def _check_permutation(axes: tuple[int, ...], ndim: int, op: str) -> tuple[int, ...]:
    valid = len(axes) == ndim and all(-ndim <= a < ndim for a in axes)
    if not valid or sorted(a % ndim for a in axes) != list(range(ndim)):
        raise ShapeError(f"{op}: {axes} is not a permutation of the {ndim} axes")
    return tuple(a % ndim for a in axes)



@public(("transpose", "swapaxes"), method=True)
def transpose(x: Tensor, *axes: Any) -> Tensor:
    """Reorder axes, in three ways (also available as ``swapaxes``).

    No axes: reverse all (``.T``); two ints: swap those two (``torch.transpose``); a full order: permute.
    The gradient is transposed back with the inverse order.
    """
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        order = tuple(reversed(range(x.ndim)))
    elif len(axes) == 2:
        a, b = (_axis(v, x.ndim, "transpose") for v in axes)
        order_list = list(range(x.ndim))
        order_list[a], order_list[b] = order_list[b], order_list[a]
        order = tuple(order_list)
    else:
        order = _check_permutation(tuple(axes), x.ndim, "transpose")
    return Transpose.apply(x, order)




def _axis(axis: int, ndim: int, op: str) -> int:
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return axis % ndim



@public(method=True)
def expand(x: Tensor, *shape: Any) -> Tensor:
    """Broadcast to ``shape``, where -1 keeps that dimension's size (``torch.Tensor.expand``).

    New axes can only be added in front, as with :func:`broadcast_to`, which this calls.
    """
    shape = _shape_args(shape)
    offset = len(shape) - x.ndim
    if offset < 0:
        raise ShapeError(f"expand: cannot expand {x.shape} to fewer dimensions {shape}")
    full = tuple(x.shape[i - offset] if s == -1 and i >= offset else s for i, s in enumerate(shape))
    return BroadcastTo.public(x, full)


@public(method=True)
def squeeze(x: Tensor, dim: Any = None, *, axis: Any = UNSET) -> Tensor:
    """Remove axes of size 1 (``torch.squeeze``; NumPy's ``axis`` too).

    ``dim`` None removes every size-1 axis; an int or tuple removes those axes if they have size 1 and leaves
    them alone otherwise, as PyTorch does.  The gradient is reshaped back.
    """
    axis = either("squeeze", "dim", dim, "axis", axis, None)
    if axis is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        axes = {_axis(a, x.ndim, "squeeze") for a in ((axis,) if isinstance(axis, int) else axis)}
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1))
    return Reshape.public(x, shape)


@public(method=True)
def unsqueeze(x: Tensor, dim: Any = UNSET, *, axis: Any = UNSET) -> Tensor:
    """Insert an axis of size 1 at position ``dim`` of the result (``torch.unsqueeze``); ``-1`` appends one."""
    axis = either("unsqueeze", "dim", dim, "axis", axis, UNSET)
    if axis is UNSET:
        raise TypeError("unsqueeze: missing the position of the new axis (dim)")
    axis = _axis(axis, x.ndim + 1, "unsqueeze")
    shape = list(x.shape)
    shape.insert(axis, 1)
    return Reshape.public(x, tuple(shape))


@public(method=True)
def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim`` to ``end_dim`` (both included) into one (``torch.flatten``).

    ``x.flatten(1)`` turns a batch of images ``(N, C, H, W)`` into rows ``(N, C*H*W)``; a 0-d tensor becomes
    shape ``(1,)``.
    """
    if x.ndim == 0:
        return Reshape.public(x, (1,))
    start, end = _axis(start_dim, x.ndim, "flatten"), _axis(end_dim, x.ndim, "flatten")
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    size = 1
    for s in x.shape[start : end + 1]:
        size *= s
    return Reshape.public(x, x.shape[:start] + (size,) + x.shape[end + 1 :])


# the composites' specs (tapegrad.testing collects a module's SPECS)
SPECS = (
    OpSpec("transpose", lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2), (Arg((2, 3, 4)),)),
    OpSpec("flatten", lambda x: x.flatten(1), lambda x: x.flatten(1), (Arg((2, 3, 4)),)),
    OpSpec("squeeze", lambda x: x.squeeze(1), lambda x: x.squeeze(1), (Arg((2, 1, 4)),)),
    OpSpec("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), (Arg((2, 3)),)),
    OpSpec("expand", lambda x: x.expand(2, -1, 4), lambda x: x.expand(2, -1, 4), (Arg((3, 1)),)),
)
