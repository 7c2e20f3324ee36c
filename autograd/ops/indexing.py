"""Indexing: ``x[index]`` (basic and advanced), its adjoint scatter-add, and constant padding."""

from __future__ import annotations

from typing import Any

from ..backend import array_module, cupyx_module
from ..function import Context, Function
from ..opspec import Arg, OpSpec
from ..tensor import Tensor


def _raw_index(index: Any) -> Any:
    """Tensors inside an index become their arrays; lists become arrays (NumPy's advanced indexing)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    return index


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) never repeats an element, so its adjoint is a plain assignment."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in items)


class GetItem(Function):
    """``x[index]`` with NumPy's basic and advanced indexing (the ``[]`` operator).

    Parameters
    ----------
    x : Tensor
        The tensor to index.
    index
        Ints, slices, None, ``...``, boolean masks, integer arrays or lists, integer tensors, or a tuple of them.

    Returns
    -------
    Tensor
        The selected elements, always a copy (never a view of ``x``'s data).  The gradient is scattered back
        into zeros of ``x``'s shape by :func:`index_add`; an element picked several times (a repeated index such
        as ``x[[0, 0]]``) receives the sum of the gradients of all its copies.
    """

    names, operators, projection = "getitem", ("__getitem__",), "linear"
    spec = OpSpec("getitem", lambda x: x[1:, [0, 2, 2]], lambda x: x[1:, [0, 2, 2]], (Arg((3, 4)),))

    @staticmethod
    def call(x: Tensor, index: Any) -> Tensor:
        return GetItem.apply(x, _raw_index(index))

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any) -> Any:
        ctx.shape, ctx.index = x.shape, index
        out = x[index]
        return out.copy() if _is_basic(index) and hasattr(out, "copy") else out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return IndexAdd.apply(g, index=ctx.index, shape=ctx.shape), None


class IndexAdd(Function):
    """Zeros of ``shape`` with ``g`` added at ``index``: the adjoint of ``getitem`` (the backward of ``x[index]``).

    Repeated indices accumulate (``numpy.add.at``, ``cupyx.scatter_add`` on the GPU) instead of the last write
    winning.  Differentiable: its gradient is ``g[index]``.  Unlike ``torch.index_add`` this builds a new tensor
    rather than adding into an existing one, and ``index`` is any ``getitem`` index, not one axis's indices.
    """

    names, projection = "index_add", "linear"
    spec = OpSpec(
        "index_add",
        lambda g: IndexAdd.public(g, ([0, 0, 2],), (3, 2)),
        lambda g: __import__("torch").zeros(3, 2, dtype=g.dtype).index_add(0, __import__("torch").tensor([0, 0, 2]), g),
        (Arg((3, 2)),),
    )

    @staticmethod
    def call(g: Tensor, index: Any, shape: tuple[int, ...]) -> Tensor:
        return IndexAdd.apply(g, index=_raw_index(index), shape=tuple(shape))

    @staticmethod
    def forward(ctx: Context, g: Any, index: Any, shape: tuple[int, ...]) -> Any:
        xp = array_module(g)
        ctx.index = index
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g
        elif xp.__name__ == "numpy":
            xp.add.at(out, index, g)
        else:  # CuPy
            cupyx_module().scatter_add(out, index, g)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return GetItem.apply(g, ctx.index), None, None


class Pad(Function):
    """Constant padding, ``numpy.pad`` style: an int, a (before, after) pair, or one pair per axis.

    Per-axis pairs run from the first axis, not from the last as in ``torch.nn.functional.pad``.  The gradient
    is the upstream gradient with the padding cut off.
    """

    names, method, projection = "pad", True, "linear"
    spec = OpSpec(
        "pad",
        lambda x: x.pad(((1, 0), (2, 1)), 0.5),
        lambda x: __import__("torch").nn.functional.pad(x, (2, 1, 1, 0), value=0.5),
        (Arg((3, 4)),),
    )

    @staticmethod
    def call(x: Tensor, pad_width: Any, value: float = 0.0) -> Tensor:
        from ..errors import ShapeError

        if isinstance(pad_width, int):
            widths = ((pad_width, pad_width),) * x.ndim
        elif len(pad_width) == 2 and all(isinstance(p, int) for p in pad_width):
            widths = (tuple(pad_width),) * x.ndim
        else:
            widths = tuple(tuple(p) for p in pad_width)
        if len(widths) != x.ndim or any(len(p) != 2 or min(p) < 0 for p in widths):
            raise ShapeError(f"pad: need one non-negative (before, after) pair per axis of {x.shape}, got {pad_width}")
        return Pad.apply(x, widths, value)

    @staticmethod
    def forward(ctx: Context, x: Any, pad_width: tuple[tuple[int, int], ...], value: float) -> Any:
        ctx.slices = tuple(slice(before, before + size) for (before, _), size in zip(pad_width, x.shape, strict=True))
        return array_module(x).pad(x, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return g[ctx.slices], None, None
