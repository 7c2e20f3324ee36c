"""Joining and splitting along an axis: cat/concatenate, stack, split."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend import array_module
from ..errors import ShapeError
from ..function import Context, Function, public
from ..opspec import Arg, OpSpec
from ..tensor import Tensor
from ._args import UNSET, either


class Concatenate(Function):
    """Join tensors end to end along an existing axis (``torch.cat``; also available as ``concatenate``).

    Parameters
    ----------
    tensors : sequence of Tensor
        At least one; all with the same number of dimensions and the same sizes except along ``axis``.  Integer
        pieces joined with float ones take the float dtype, as in PyTorch.
    dim : int
        The axis to join along (NumPy's ``axis``, accepted too).

    Returns
    -------
    Tensor
        The joined tensor; each input's gradient is its slice of the upstream gradient.
    """

    names, projection = ("cat", "concatenate"), "linear"
    spec = OpSpec(
        "cat",
        lambda a, b: Concatenate.public([a, b], dim=1),
        lambda a, b: __import__("torch").cat([a, b], dim=1),
        (Arg((2, 3)), Arg((2, 1))),
    )

    @staticmethod
    def call(tensors: Sequence[Tensor], dim: int = 0, *, axis: Any = UNSET) -> Tensor:
        tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
        if not tensors:
            raise ShapeError("cat: expected a non-empty sequence of tensors")
        first = tensors[0]
        axis = _check_axis(either("cat", "dim", dim, "axis", axis, 0), first.ndim, "cat")
        for i, t in enumerate(tensors):
            same_rank = t.ndim == first.ndim
            pairs = enumerate(zip(t.shape, first.shape, strict=True))
            if not same_rank or any(a != b for j, (a, b) in pairs if j != axis):
                shapes = ", ".join(str(x.shape) for x in tensors)
                raise ShapeError(f"cat: tensor {i} has shape {t.shape}; all must match except on axis {axis}: {shapes}")
        return Concatenate.apply(*_common_float(tensors), axis=axis)

    @staticmethod
    def forward(ctx: Context, *arrays: Any, axis: int) -> Any:
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return array_module(*arrays).concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        grads, start = [], 0
        prefix = (slice(None),) * (ctx.axis % g.ndim)
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad, strict=True):
            grads.append(g[prefix + (slice(start, start + size),)] if needed else None)
            start += size
        return tuple(grads)


class Split(Function):
    """Cut ``x`` into consecutive chunks along ``dim`` (``torch.split``; NumPy's ``axis`` too).

    ``split_size_or_sections``: an int is the size of each chunk (the last may be smaller); a list gives each
    size, and must add up to the axis's length.  Returns a tuple of tensors; their gradients are joined back
    together (a chunk that got none contributes zeros).
    """

    names, method, projection = "split", True, "linear"
    spec = OpSpec(
        "split",
        lambda x: Split.public(x, [1, 3], 1),
        lambda x: __import__("torch").split(x, [1, 3], 1),
        (Arg((2, 4)),),
    )

    @staticmethod
    def forward(ctx: Context, x: Any, sizes: tuple[int, ...], axis: int) -> Any:
        ctx.axis = axis
        prefix = (slice(None),) * axis
        out, start = [], 0
        for size in sizes:
            out.append(x[prefix + (slice(start, start + size),)].copy())
            start += size
        return tuple(out)

    @staticmethod
    def call(
        x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0, *, axis: Any = UNSET
    ) -> tuple[Tensor, ...]:
        axis = _check_axis(either("split", "dim", dim, "axis", axis, 0), x.ndim, "split")
        length = x.shape[axis]
        if isinstance(split_size_or_sections, int):
            step = split_size_or_sections
            if step <= 0:
                raise ShapeError(f"split: split size must be positive, got {step}")
            sizes = tuple(min(step, length - s) for s in range(0, length, step)) or (0,)
        else:
            sizes = tuple(int(s) for s in split_size_or_sections)
            if sum(sizes) != length or min(sizes, default=0) < 0:
                raise ShapeError(f"split: sections {list(sizes)} do not add up to the size {length} of axis {axis}")
        return Split.apply(x, sizes, axis)

    @staticmethod
    def backward(ctx: Context, *grads: Tensor) -> tuple[Any, ...]:
        return Concatenate.public(grads, ctx.axis), None, None


def _common_float(tensors: list[Tensor]) -> list[Tensor]:
    """Integer and bool pieces joined with float ones take the float dtype, as in torch (NumPy: float64)."""
    kinds = {t.data.dtype.kind for t in tensors}
    if "f" not in kinds or len(kinds) == 1:
        return tensors
    target = np.result_type(*(t.data.dtype for t in tensors if t.data.dtype.kind == "f"))
    return [t if t.data.dtype.kind == "f" else Tensor._make(t.data.astype(target), None, 0) for t in tensors]


def _check_axis(axis: int, ndim: int, op: str) -> int:
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{op}: axis {axis} is out of range for tensors with {ndim} dimensions")
    return axis % ndim



@public()
def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: Any = UNSET) -> Tensor:
    """Join same-shaped tensors along a new axis inserted at ``dim`` (``torch.stack``; NumPy's ``axis`` too).

    Each input's gradient is its slice of the upstream gradient along that axis.
    """
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ShapeError("stack: expected a non-empty sequence of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}")
    axis = _check_axis(either("stack", "dim", dim, "axis", axis, 0), tensors[0].ndim + 1, "stack")
    return Concatenate.public([t.unsqueeze(axis) for t in tensors], axis=axis)



# the composites' specs (tapegrad.testing collects a module's SPECS)
SPECS = (
    OpSpec(
        "stack",
        lambda a, b: stack([a, b], dim=1),
        lambda a, b: __import__("torch").stack([a, b], dim=1),
        (Arg((2, 3)), Arg((2, 3))),
    ),
)
