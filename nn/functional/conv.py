"""2-D convolution and transposed convolution, and the two Functions their gradients are made of.

``Conv2d``'s backward is the pooling pattern: it calls two small Functions, ``Conv2dInputGrad`` (col2im(Wᵀ @ g),
the transposed convolution of the gradient) and ``Conv2dWeightGrad`` (Σₙ colsₙ @ gₙᵀ), each with an array
forward and a Tensor backward.  The four Functions are each other's adjoints (⟨conv(x, W), g⟩ = ⟨x, input_grad(g,
W)⟩ = ⟨W, weight_grad(g, x)⟩), so every backward is written with them and gradients of every order work, with no
separate array path for a backward that is not recorded.  ``ConvTranspose2d`` is ``Conv2dInputGrad`` plus a bias.

The array computations (im2col + matrix products, chunked through scratch buffers, batch-sliced on the kernel
pool) are in ``conv_arrays.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tapegrad.autograd import Context, Function, Tensor, is_grad_enabled
from tapegrad.autograd.errors import ArgumentError, DTypeError, ShapeError, describe
from tapegrad.autograd.opspec import OpSpec
from tapegrad.autograd.runtime import concurrently

from ._utils import check_input
from .conv_arrays import conv2d_forward, conv2d_input_grad, conv2d_weight_grad
from .geometry import Geometry, pair


class Conv2d(Function):
    """Cross-correlation of (N, C, H, W) with (O, C/groups, kh, kw) weights, plus an optional (O,) bias.

    The forward keeps only its input and weight (the columns are rebuilt by ``Conv2dWeightGrad``), so the tape of
    a model holds about the memory of its activations.
    """

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop
    retain_inputs = (0, 1)

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, geometry: Geometry, groups: int) -> Any:
        out = conv2d_forward(x, weight, geometry, groups, bias)  # the bias is the product's epilogue
        ctx.geometry, ctx.groups = geometry, groups
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        x, weight = ctx.saved_tensors
        geometry, groups = ctx.geometry, ctx.groups
        macs = grad.data.size * weight.data[0].size
        return _gradients(grad, ctx.needs_input_grad, macs,
                          lambda: Conv2dInputGrad.apply(grad, weight, geometry, groups),
                          lambda: Conv2dWeightGrad.apply(grad, x, geometry, groups))


class Conv2dInputGrad(Function):
    """col2im(Wᵀ @ g): a convolution's gradient (N, O, grid) -> (N, C, H, W) with respect to its input."""

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop
    retain_inputs = (0, 1)

    @staticmethod
    def forward(ctx: Context, grad: Any, weight: Any, geometry: Geometry, groups: int) -> Any:
        ctx.geometry, ctx.groups = geometry, groups
        return conv2d_input_grad(grad, weight, geometry, groups)

    @staticmethod
    def backward(ctx: Context, upstream: Tensor) -> tuple[Any, ...]:
        grad, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        d_grad = Conv2d.apply(upstream, weight, None, ctx.geometry, ctx.groups) if needs[0] else None
        d_weight = Conv2dWeightGrad.apply(grad, upstream, ctx.geometry, ctx.groups) if needs[1] else None
        return d_grad, d_weight, None, None


class Conv2dWeightGrad(Function):
    """Σₙ colsₙ(x) @ gₙᵀ: a convolution's gradient with respect to its (O, C/groups, kh, kw) weight."""

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop
    retain_inputs = (0, 1)

    @staticmethod
    def forward(ctx: Context, grad: Any, x: Any, geometry: Geometry, groups: int) -> Any:
        ctx.geometry, ctx.groups = geometry, groups
        return conv2d_weight_grad(grad, x, geometry, groups)

    @staticmethod
    def backward(ctx: Context, upstream: Tensor) -> tuple[Any, ...]:
        grad, x = ctx.saved_tensors
        needs = ctx.needs_input_grad
        d_grad = Conv2d.apply(x, upstream, None, ctx.geometry, ctx.groups) if needs[0] else None
        d_x = Conv2dInputGrad.apply(grad, upstream, ctx.geometry, ctx.groups) if needs[1] else None
        return d_grad, d_x, None, None


class ConvTranspose2d(Function):
    """Transposed convolution: (N, C_in, H, W) and (C_in, C_out/groups, kh, kw) weights -> (N, C_out, ...).

    Its ``geometry`` is ``transposed``: the windows of the ordinary convolution that maps this op's output (the
    image) back to its input (the grid), whose weight has the same layout.  So the forward is that
    convolution's input gradient, and the backward is that convolution and its weight gradient.
    """

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop
    retain_inputs = (0, 1)

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, geometry: Geometry, groups: int) -> Any:
        out = conv2d_input_grad(x, weight, geometry, groups)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        ctx.geometry, ctx.groups = geometry, groups
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        x, weight = ctx.saved_tensors
        geometry, groups = ctx.geometry, ctx.groups
        macs = x.data.size * weight.data[0].size
        return _gradients(grad, ctx.needs_input_grad, macs,
                          lambda: Conv2d.apply(grad, weight, None, geometry, groups),
                          lambda: Conv2dWeightGrad.apply(x, grad, geometry, groups))


CONCURRENT_MAX_MACS = 1 << 29
"""Multiply-adds of a convolution up to which its plain backward runs the input and weight gradients at the same
time (``_gradients``).  Above it each op alone splits well over the batch: the 224x224 step's 16 -> 32 layer
(925 M) ran as fast either way and its step's peak memory grew 280 -> 332 MB (resident memory only: the arrays'
peak under tracemalloc was the same, so it is glibc's per-thread arenas); conv case (d) (462 M) gained (0.86x)."""


def _gradients(
    grad: Tensor, needs: tuple[bool, ...], macs: int, input_grad: Callable[[], Tensor],
    weight_grad: Callable[[], Tensor],
) -> tuple[Any, ...]:
    """A convolution's gradients (input, weight, bias, and None for the geometry and groups) from its output's.

    The input (+ bias) and weight gradients are independent and of similar size: when both are needed they run
    at the same time, one on each core (``runtime.concurrently``: one hand-off for the pair, each product whole
    on its core, instead of each op split over the batch), up to ``CONCURRENT_MAX_MACS`` multiply-adds.  A
    recorded backward (``create_graph=True``) runs them in order on this thread.  Measured (2026-12-02,
    in-process A/B, medians of 9 interleaved blocks, 2 threads), fwd+bwd against the two in order: conv (a)
    0.80x the time, (b) 0.96x, (d) 0.86x, the demo's 16 -> 32 layer 0.92x; the training steps: the demo's 0.93x,
    64x3x32x32 0.91x.
    """

    def input_and_bias() -> tuple[Any, Any]:
        return (input_grad() if needs[0] else None), (grad.sum((0, 2, 3)) if needs[2] else None)

    def weight() -> Any:
        return weight_grad() if needs[1] else None

    if needs[0] and needs[1] and macs <= CONCURRENT_MAX_MACS and not is_grad_enabled():
        (grad_x, grad_b), grad_w = concurrently(input_and_bias, weight, like=grad.data)
    else:
        (grad_x, grad_b), grad_w = input_and_bias(), weight()
    return grad_x, grad_w, grad_b, None, None


def _check_weight(
    op: str, x: Tensor, weight: Any, bias: Any, groups: Any
) -> tuple[Tensor, Tensor | None, int]:
    weight = weight if isinstance(weight, Tensor) else Tensor(weight)
    if weight.ndim != 4:
        raise ShapeError(f"{op}: expected a 4-D weight, got {describe(weight)} (input {describe(x)})")
    if weight.dtype != x.dtype:
        raise DTypeError(f"{op}: input {describe(x)} and weight {describe(weight)} must have the same dtype")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ArgumentError(f"{op}: groups must be a positive int, got {groups!r}")
    if bias is not None:
        bias = bias if isinstance(bias, Tensor) else Tensor(bias)
        if bias.dtype != x.dtype:
            raise DTypeError(f"{op}: input {describe(x)} and bias {describe(bias)} must have the same dtype")
    return weight, bias, groups


def _check_bias(op: str, bias: Tensor | None, channels: int) -> None:
    if bias is not None and bias.shape != (channels,):
        raise ShapeError(f"{op}: expected a bias of shape ({channels},), got {describe(bias)}")


def _same_padding(
    x: Tensor, kernel: tuple[int, int], stride: Any, dilation: Any
) -> tuple[Tensor, tuple[int, int]]:
    """``padding='same'``: PyTorch puts the odd extra row/column of padding at the bottom/right."""
    if pair(stride, "stride", "conv2d", 1) != (1, 1):
        raise ArgumentError("conv2d: padding='same' is not supported for strided convolutions (as in PyTorch)")
    dh, dw = pair(dilation, "dilation", "conv2d", 1)
    total = (dh * (kernel[0] - 1), dw * (kernel[1] - 1))
    if total[0] % 2 or total[1] % 2:
        x = x.pad(((0, 0), (0, 0), (0, total[0] % 2), (0, total[1] % 2)))
    return x, (total[0] // 2, total[1] // 2)


def conv2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """``torch.nn.functional.conv2d``: (N, C, H, W) * (O, C/groups, kh, kw) -> (N, O, Ho, Wo).

    ``stride``, ``padding`` and ``dilation`` are ints or (h, w) pairs; ``padding`` may also be ``'valid'`` or
    ``'same'``.  A 3-D (C, H, W) input gives a 3-D output.
    """
    x, batched = check_input(input, "conv2d")
    weight, bias, groups = _check_weight("conv2d", x, weight, bias, groups)
    o, c_g = weight.shape[:2]
    c = x.shape[1]
    if c != c_g * groups:
        raise ShapeError(
            f"conv2d: input {describe(x)} has {c} channels, but weight {describe(weight)} with "
            f"groups={groups} expects {c_g * groups}"
        )
    if o % groups:
        raise ShapeError(
            f"conv2d: {o} output channels (weight {describe(weight)}) are not divisible by "
            f"groups={groups}"
        )
    _check_bias("conv2d", bias, o)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ArgumentError(f"conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        if padding == "valid":
            padding = 0
        else:
            x, padding = _same_padding(x, weight.shape[2:], stride, dilation)
    geometry = Geometry.make(
        "conv2d", x.shape[2:], weight.shape[2:], stride, padding, dilation, input=describe(x)
    )
    out = Conv2d.apply(x, weight, bias, geometry, groups)
    return out if batched else out.reshape(out.shape[1:])


def conv_transpose2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """``torch.nn.functional.conv_transpose2d`` (the "deconvolution"): the adjoint of ``conv2d`` in its input.

    Weight shape (C_in, C_out/groups, kh, kw); the output has (H - 1)*stride - 2*padding + dilation*(kh - 1)
    + output_padding + 1 rows (and likewise columns).  ``output_padding`` picks among the input sizes that a
    strided convolution maps to the same output size, and must be smaller than the stride or the dilation.
    """
    op = "conv_transpose2d"
    x, batched = check_input(input, op)
    weight, bias, groups = _check_weight(op, x, weight, bias, groups)
    cin = x.shape[1]
    if weight.shape[0] != cin:
        raise ShapeError(
            f"{op}: input {describe(x)} has {cin} channels, but weight {describe(weight)} expects "
            f"{weight.shape[0]} "
            "(the weight is (C_in, C_out/groups, kh, kw))"
        )
    if cin % groups:
        raise ShapeError(f"{op}: {cin} input channels are not divisible by groups={groups}")
    _check_bias(op, bias, weight.shape[1] * groups)
    geometry = Geometry.make(
        op, x.shape[2:], weight.shape[2:], stride, padding, dilation, transposed=True,
        output_padding=output_padding, input=describe(x),
    )
    out = ConvTranspose2d.apply(x, weight, bias, geometry, groups)
    return out if batched else out.reshape(out.shape[1:])


# How the ops are checked (tapegrad.testing turns these into tests, the coverage table and the mutation check).
Conv2d.spec = (
    OpSpec("conv2d", lambda x, w, b, **kw: conv2d(x, w, b, **kw), "torch.nn.functional.conv2d", inputs="conv2d",
           notes="stride, padding, dilation, groups and an optional bias drawn together (family conv2d)"),
    OpSpec("conv2d_chunked", lambda x, w, b, **kw: conv2d(x, w, b, **kw), "torch.nn.functional.conv2d",
           inputs="conv2d_chunked", notes="columns over several conv_arrays.CHUNK_BYTES chunks: the chunked backward"),
)
ConvTranspose2d.spec = OpSpec(
    "conv_transpose2d", lambda x, w, b, **kw: conv_transpose2d(x, w, b, **kw), "torch.nn.functional.conv_transpose2d",
    inputs="conv_transpose2d", notes="output_padding below the stride or the dilation",
)
