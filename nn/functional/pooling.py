"""Max pooling with PyTorch's switches, and max-unpooling, as a scatter/gather pair of autograd Functions.

``MaxPool2d`` keeps, for every output, *which* tap of its window held the first maximum (the "switches" of
Zeiler & Fergus).  Its backward is ``MaxUnpool2d``: the gradient is scattered back to those positions, and
where overlapping windows chose the same input their gradients add, exactly like PyTorch's max_pool2d
backward.  The vjp of that scatter is ``MaxGather2d`` (read the gradient at the switch positions) and the vjp
of the gather is the scatter again, so gradients of every order work.

Speed: the forward scans the kh*kw taps as strided slices of the input (a running maximum, updated only where
a tap is *strictly* larger, so ties go to the first maximum in row-major window order as in PyTorch; post-ReLU
zeros tie all the time).  Padding is never materialised: each tap only reads the output positions where it
falls inside the input.  For 2x2/2 the four taps are the four strided quadrants, and the backward stores
(value * mask) per tap instead of adding, since non-overlapping windows never share an input.
The flat indices (h * W + w) are built only when asked for; the backward scatters with the tap codes.
The array work is in ``tapegrad.autograd.kernels.maxpool`` (a compiled one-pass version beside this NumPy one).

NaN inputs give NaN outputs, as in PyTorch, but the switch then stays on the window's largest non-NaN value
(PyTorch points it at the NaN).
"""

from __future__ import annotations

from typing import Any

from tapegrad.autograd import Context, Function, Tensor, kernels
from tapegrad.autograd.backend import array_module, cupyx_module
from tapegrad.autograd.errors import ShapeError, describe
from tapegrad.autograd.opspec import OpSpec

from ._utils import check_input
from .avg_pooling import AvgPool2d, AvgUnpool2d, adaptive_avg_pool2d, avg_pool2d
from .geometry import Geometry

__all__ = [
    "AvgPool2d",
    "AvgUnpool2d",
    "MaxGather2d",
    "MaxPool2d",
    "MaxUnpool2d",
    "Switches",
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "max_pool2d",
    "max_unpool2d",
]


class Switches:
    """Where each pooled maximum came from, for an (N, C, Ho, Wo) output over an (N, C, H, W) input.

    Either the tap codes of a max-pool forward (``codes[n, c, oh, ow] = i * kw + j`` for window tap (i, j),
    with the ``geometry`` of the pooling) or PyTorch-style flat indices ``h * W + w`` into each input plane.
    The flat indices of a pooling are derived on first use.
    """

    def __init__(
        self, input_hw: tuple[int, int], codes: Any = None, geometry: Geometry | None = None, flat: Any = None
    ) -> None:
        self.input_hw = input_hw
        self.codes = codes
        self.geometry = geometry
        self._flat = flat

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple((self.codes if self.codes is not None else self._flat).shape)

    def flat(self) -> Any:
        """int64 indices h * W + w of each maximum in its input plane (``return_indices=True``'s indices)."""
        if self._flat is None:
            geo, codes = self.geometry, self.codes
            xp = array_module(codes)
            width = self.input_hw[1]
            rows = xp.arange(geo.grid_h, dtype=xp.int64) * geo.sh - geo.ph
            cols = xp.arange(geo.grid_w, dtype=xp.int64) * geo.sw - geo.pw
            base = rows[:, None] * width + cols[None, :]
            taps = xp.arange(geo.kh * geo.kw, dtype=xp.int64)
            offsets = (taps // geo.kw) * geo.dh * width + (taps % geo.kw) * geo.dw
            self._flat = base + offsets[codes]
        return self._flat

    def scatter(self, values: Any) -> Any:
        """(N, C, Ho, Wo) values -> (N, C, H, W): each added at its switch position, zeros elsewhere."""
        xp = array_module(values)
        n, c = values.shape[:2]
        h, w = self.input_hw
        if self.codes is not None:
            return kernels.max_pool_scatter(values, self.codes, self.geometry)
        flat = self.flat()
        if xp.__name__ == "numpy":
            return kernels.max_unpool(values, flat, (h, w))
        planes = (xp.arange(n * c, dtype=xp.int64) * (h * w)).reshape(n, c, 1, 1)
        positions = (flat + planes).ravel()
        out = xp.zeros(n * c * h * w, dtype=values.dtype)  # (the GPU path: run in CI on the emulated CuPy)
        cupyx_module().scatter_add(out, positions, values.ravel())
        return out.reshape(n, c, h, w)

    def gather(self, grad: Any) -> Any:
        """(N, C, H, W) -> (N, C, Ho, Wo): the value at each switch position (the adjoint of ``scatter``)."""
        if self.codes is not None:
            return kernels.max_pool_gather(grad, self.codes, self.geometry)
        xp = array_module(grad)
        n, c = grad.shape[:2]
        flat = self.flat()
        out = xp.take_along_axis(
            grad.reshape(n, c, -1), xp.broadcast_to(flat, (n, c) + flat.shape[2:]).reshape(n, c, -1), axis=2
        )
        return out.reshape((n, c) + flat.shape[2:])


def _has_empty_window(geo: Geometry) -> bool:
    """Whether a (dilated) window skips every input row or column, which only padding can cause."""
    rows, cols = [False] * geo.grid_h, [False] * geo.grid_w
    for i, j, (orows, ocols), _ in geo.taps():
        if j == 0:
            rows[orows] = [True] * (orows.stop - orows.start)
        if i == 0:
            cols[ocols] = [True] * (ocols.stop - ocols.start)
    return not (all(rows) and all(cols))


class MaxPool2d(Function):
    """Max over (overlapping, padded, dilated) windows; the backward is ``MaxUnpool2d`` at the switches.

    After the forward, ``ctx.switches`` holds the :class:`Switches` (``ctx.switches.flat()`` gives PyTorch's
    indices), which is what a deconvnet needs to unpool.
    """

    projection = "switch"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, x: Any, geometry: Geometry, sink: list | None = None) -> Any:
        if sink is None and not ctx.requires_grad:  # no tape and no indices asked for: no switches needed
            return kernels.max_pool(x, geometry, False)[0]
        out, codes = kernels.max_pool(x, geometry)
        ctx.switches = Switches((geometry.h, geometry.w), codes=codes, geometry=geometry)
        if sink is not None:
            sink.append(ctx.switches)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        return MaxUnpool2d.apply(grad, ctx.switches), None, None


class MaxUnpool2d(Function):
    """Scatter (N, C, Ho, Wo) values to their switch positions in (N, C, H, W); repeated positions add up."""

    projection = "switch"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, x: Any, switches: Switches) -> Any:
        ctx.switches = switches
        return switches.scatter(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        return MaxGather2d.apply(grad, ctx.switches), None


class MaxGather2d(Function):
    """Read (N, C, H, W) at the switch positions -> (N, C, Ho, Wo); the adjoint of ``MaxUnpool2d``."""

    projection = "switch"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, grad: Any, switches: Switches) -> Any:
        ctx.switches = switches
        return switches.gather(grad)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        return MaxUnpool2d.apply(grad, ctx.switches), None


def max_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """``torch.nn.functional.max_pool2d``: the maximum of each (dilated) window, padding counting as -inf.

    With ``return_indices=True`` also returns the switches: int64 flat indices ``h * W + w`` of each maximum
    in its input plane, the first maximum where several tie (equal to PyTorch's).  ``ceil_mode`` keeps a last
    partial window if it starts inside the input or its left padding.
    """
    op = "max_pool2d"
    x, batched = check_input(input, op)
    geometry = Geometry.make(
        op, x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode, input=describe(x)
    )
    if _has_empty_window(geometry):
        raise ShapeError(
            f"{op}: with kernel {(geometry.kh, geometry.kw)}, dilation {(geometry.dh, geometry.dw)} and padding "
            f"{(geometry.ph, geometry.pw)} some windows over {describe(x)} contain only padding (their maximum "
            "would be -inf and their index point outside the input)"
        )
    sink: list = []
    out = MaxPool2d.apply(x, geometry, sink=sink)
    if not batched:
        out = out.reshape(out.shape[1:])
    if not return_indices:
        return out
    flat = sink[0].flat()
    indices = Tensor._make(flat if batched else flat.reshape(flat.shape[1:]), None, 0)
    return out, indices


def max_unpool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    indices: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Tensor:
    """Place each value at the position its switch names (flat ``h * W + w`` in its plane), zeros elsewhere.

    The default output size is ``(H_in - 1) * stride - 2 * padding + kernel_size``.  Where several values
    name the same position (overlapping pooling windows) they are **added**, which makes this the exact
    adjoint of max pooling (PyTorch's max_pool2d backward).  ``torch.nn.functional.max_unpool2d`` itself
    keeps only one of them instead; the two agree whenever the indices are distinct, e.g. for
    non-overlapping pools.
    """
    op = "max_unpool2d"
    x, batched = check_input(input, op)
    raw = indices.data if isinstance(indices, Tensor) else indices
    xp = array_module(x.data)
    raw = xp.asarray(raw)
    if not batched:
        raw = raw.reshape((1,) + raw.shape)
    if raw.shape != x.shape:
        raise ShapeError(f"{op}: indices {describe(raw)} must have the shape of the input {describe(x)}")
    if raw.dtype.kind not in "iu":
        raise ShapeError(f"{op}: indices must be integers, got {describe(raw)}")
    if output_size is None:  # the image of a transposed window op without dilation or output padding
        h, w = Geometry.make(op, x.shape[2:], kernel_size, stride, padding, transposed=True).out_hw
    else:
        size = tuple(int(s) for s in output_size)
        if len(size) not in (2, 3, 4):
            raise ShapeError(f"{op}: output_size must end with (H, W), got {output_size!r}")
        h, w = size[-2:]
    if h <= 0 or w <= 0:
        raise ShapeError(f"{op}: the output size {(h, w)} is empty (input {describe(x)})")
    if raw.size and (int(raw.min()) < 0 or int(raw.max()) >= h * w):
        raise ShapeError(
            f"{op}: indices must lie in [0, {h * w}) for an output of size {(h, w)}, got values in "
            f"[{int(raw.min())}, {int(raw.max())}]"
        )
    switches = Switches((h, w), flat=raw.astype(xp.int64, copy=False))
    out = MaxUnpool2d.apply(x, switches)
    return out if batched else out.reshape(out.shape[1:])


def _torch_max_pool2d_with_indices(x: Any, **kw: Any) -> Any:
    """The reference of ``max_pool2d_with_indices`` (torch is imported only when a check runs)."""
    import torch

    return torch.nn.functional.max_pool2d(x, return_indices=True, **kw)


# How the ops are checked (tapegrad.testing turns these into tests, the coverage table and the mutation check).
MaxPool2d.spec = (
    OpSpec("max_pool2d", lambda x, **kw: max_pool2d(x, **kw), "torch.nn.functional.max_pool2d", inputs="max_pool2d",
           notes="distinct values: the gradient at a tie is a convention (ties have their own tests)"),
    OpSpec("max_pool2d_with_indices", lambda x, **kw: max_pool2d(x, return_indices=True, **kw),
           _torch_max_pool2d_with_indices, inputs="max_pool2d",
           notes="the switches must equal PyTorch's indices exactly"),
)
MaxUnpool2d.spec = OpSpec(
    "max_unpool2d", lambda x, i, **kw: max_unpool2d(x, i, **kw), "torch.nn.functional.max_unpool2d",
    inputs="max_unpool2d",
    notes="distinct switches: where two values go to one place PyTorch keeps one, tapegrad adds them",
)
