"""2-D convolution and transposed convolution as im2col + matrix products.

``Conv2d``: the forward copies the windows into columns (C*kh*kw, Ho*Wo) per sample and multiplies by the
weight matrix (O, C*kh*kw), which gives the (O, Ho*Wo) NCHW output directly (no transpose).  The batch is
processed in chunks of about 1 MiB of columns, built in a reused scratch buffer, so the matmul reads them from
cache; the columns are not kept for the backward but rebuilt there (cheaper than keeping them: no page faults
on a fresh buffer, and the tape holds only the input and the weight).

When the backward is recorded (``create_graph=True``) it is written with tapegrad ops (matmul, ``Im2Col``,
``Col2Im``, sum), so gradients of gradients work; otherwise the same formulas run on raw arrays, chunk by
chunk through the scratch buffer:

* input gradient: col2im(Wᵀ @ g), the transposed convolution of g (for stride 1 over whole flattened
  padded planes, see ``_input_gradient_stride1``);
* weight gradient: Σₙ colsₙ @ gₙᵀ per sample, accumulated (faster than one tensordot, which would need the
  columns transposed in memory);
* bias gradient: g summed over batch and space.

``ConvTranspose2d`` is the same two maps the other way round: col2im(Wᵀ @ x) forward, and im2col(g) for both
of its gradients.  Groups split channels into independent blocks and become one more stacked (batch) axis.

Threads: when NumPy's BLAS runs single-threaded (``OPENBLAS_NUM_THREADS=1``, or threadpoolctl), the batch
is split into contiguous slices run on tapegrad's kernel pool (``autograd/runtime.py``), each slice chunk by chunk
through its own thread's scratch buffers; the backward sums one weight gradient per slice, in batch order
(deterministic).  Measured on this 2-core machine: the forward 1.3-1.45x faster with 2 pool threads than
with 1; the backward gains little (bound by col2im's memory passes).  With multi-threaded BLAS the pool is
not used (two pool threads each calling a 2-thread OpenBLAS oversubscribe the cores: measured no faster,
and several times slower under load).  Nothing here changes the BLAS thread count (it is process-wide).

Known limit: each sample is its own BLAS call (32x144 @ 144x4096 for 16x16x64x64 -> 32), between NumPy
copies, and OpenBLAS reaches only 40-60 GFLOP/s on such skinny products.  Tried and not kept (one thread,
measured): batch-wide products over (C*kh*kw, n*Ho*Wo) columns and a transpose-copy to NCHW (1.2-1.4x slower
than the per-sample stacked matmul), the transposed product colsᵀ @ Wᵀ (1.1-1.2x slower), larger chunks
of 4-8 MiB (equal or slower), and stride-1 columns cut as contiguous runs of the flattened padded plane
(equal or slower: the copy is not the bottleneck).
"""

from __future__ import annotations

import functools
import operator
from typing import Any

from tapegrad.autograd import Context, Function, Tensor, is_grad_enabled
from tapegrad.autograd.backend import array_module
from tapegrad.autograd.errors import DTypeError, ShapeError, describe
from tapegrad.autograd.opspec import OpSpec
from tapegrad.autograd.runtime import over_batch, scratch

from ._utils import check_input, pair
from .im2col import Col2Im, Geometry, Im2Col, fold_array, unfold_array


class Conv2d(Function):
    """Cross-correlation of (N, C, H, W) with (O, C/groups, kh, kw) weights, plus an optional (O,) bias.

    The columns live in a reused scratch buffer and are recomputed by the backward (a copy at memory speed)
    rather than kept: that is faster than faulting in a fresh buffer and keeps the memory of a model's tape
    near that of its activations.
    """

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, geometry: Geometry, groups: int) -> Any:
        xp = array_module(x)
        g = geometry
        n, c = x.shape[:2]
        o = weight.shape[0]
        k, spatial = c * g.kh * g.kw // groups, g.ho * g.wo
        w3 = weight.reshape(groups, o // groups, k)
        out = xp.empty((n, o, g.ho, g.wo), dtype=x.dtype)

        def kernel(lo: int, hi: int) -> None:
            for start, stop, cols in _chunks(x, g, "cols", lo, hi):
                unfold_array(x[start:stop], g, cols)
                target = out[start:stop].reshape(stop - start, groups, o // groups, spatial)
                xp.matmul(w3, cols.reshape(stop - start, groups, k, spatial), out=target)

        _over_batch(n, n * c * g.kh * g.kw * spatial, kernel, x)
        if bias is not None:
            out += bias.reshape(1, o, 1, 1)
        ctx.geometry, ctx.groups = geometry, groups
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        x, weight = ctx.saved_tensors
        if not is_grad_enabled():
            return _conv2d_backward_arrays(ctx, x.data, weight.data, grad.data)
        geometry, groups = ctx.geometry, ctx.groups
        n, c = x.shape[:2]
        o = weight.shape[0]
        k, spatial = c * geometry.kh * geometry.kw // groups, geometry.ho * geometry.wo
        g = grad.reshape(n, groups, o // groups, spatial)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            cols = weight.reshape(groups, o // groups, k).transpose(-1, -2) @ g
            grad_x = Col2Im.apply(cols.reshape(n, c * geometry.kh * geometry.kw, spatial), geometry)
        if ctx.needs_input_grad[1]:
            cols = Im2Col.apply(x, geometry).reshape(n, groups, k, spatial)
            grad_w = (g @ cols.transpose(-1, -2)).sum(0).reshape(weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None


def _conv2d_backward_arrays(ctx: Context, x: Any, weight: Any, grad: Any) -> tuple[Any, ...]:
    """The same gradients as ``Conv2d.backward`` on raw arrays, for a backward that is not itself recorded.

    Chunk by chunk of the batch, through one scratch buffer: recompute the columns, add colsₙ @ gₙᵀ to the
    (transposed) weight gradient, then overwrite the buffer with Wᵀ @ gₙ and fold it into the input gradient.
    """
    xp = array_module(x)
    geometry, groups = ctx.geometry, ctx.groups
    n, c = x.shape[:2]
    o = weight.shape[0]
    k, spatial = c * geometry.kh * geometry.kw // groups, geometry.ho * geometry.wo
    g = grad.reshape(n, groups, o // groups, spatial)
    need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
    grad_x = xp.empty(x.shape, dtype=x.dtype) if need_x else None
    w_t = xp.ascontiguousarray(weight.reshape(groups, o // groups, k).transpose(0, 2, 1)) if need_x else None
    partial_wt: dict[int, Any] = {}  # one weight gradient per pool thread's slice, summed in batch order

    def kernel(lo: int, hi: int) -> None:
        # the weight gradient is accumulated transposed, Σₙ colsₙ @ gₙᵀ (K, O/groups): in OpenBLAS that
        # product runs ~30% faster than gₙ @ colsₙᵀ for the usual few-output-channels, many-pixels shapes
        grad_wt = xp.zeros((groups, k, o // groups), dtype=weight.dtype) if need_w else None
        product = xp.empty_like(grad_wt) if need_w else None
        for start, stop, cols in _chunks(x, geometry, "cols", lo, hi):
            cols4 = cols.reshape(stop - start, groups, k, spatial)
            if need_w:
                unfold_array(x[start:stop], geometry, cols)
                for i in range(start, stop):
                    xp.matmul(cols4[i - start], g[i].transpose(0, 2, 1), out=product)
                    grad_wt += product
            if need_x and geometry.sh == geometry.sw == 1:
                _input_gradient_stride1(w_t, g[start:stop], geometry, grad_x[start:stop])
            elif need_x:
                xp.matmul(w_t, g[start:stop], out=cols4)
                fold_array(cols, geometry, grad_x[start:stop])
        if need_w:
            partial_wt[lo] = grad_wt

    if need_x or need_w:
        _over_batch(n, n * c * geometry.kh * geometry.kw * spatial, kernel, x)
    grad_wt = functools.reduce(operator.add, (partial_wt[lo] for lo in sorted(partial_wt))) if need_w else None
    grad_w = grad_wt.transpose(0, 2, 1).reshape(weight.shape) if need_w else None
    grad_b = grad.sum((0, 2, 3)) if ctx.needs_input_grad[2] else None
    return grad_x, grad_w, grad_b, None, None


def _input_gradient_stride1(w_t: Any, g: Any, geo: Geometry, out: Any) -> None:
    """col2im(Wᵀ @ g) for a stride-1 convolution, with every col2im add running over whole image planes.

    With stride 1, output position (oh, ow) and kernel tap (i, j) read padded input position
    (oh + i*dh, ow + j*dw).  Give g the padded width Wp (zeros in the extra columns): in the flattened padded
    plane the tap is then a constant offset i*dh*Wp + j*dw, so each of the kh*kw adds is one long contiguous
    run instead of Ho short rows (NumPy's per-row overhead dominated the ordinary col2im on small images).
    The extra columns hold Wᵀ @ 0 = 0, so wherever they land they add nothing.
    """
    xp = array_module(g)
    nb, groups, og, _ = g.shape
    c, h, w = out.shape[1:]
    hp, wp = h + 2 * geo.ph, w + 2 * geo.pw
    wide = geo.ho * wp
    g_wide = scratch("g_wide", (nb, groups, og, geo.ho, wp), g.dtype, g)
    g_wide[..., geo.wo :] = 0
    g_wide[..., : geo.wo] = g.reshape(nb, groups, og, geo.ho, geo.wo)
    cols = scratch("cols_wide", (nb, groups, w_t.shape[1], wide), g.dtype, g)
    xp.matmul(w_t, g_wide.reshape(nb, groups, og, wide), out=cols)
    taps = cols.reshape(nb, c, geo.kh * geo.kw, wide)
    padded = scratch("padded", (nb, c, hp * wp + (geo.kw - 1) * geo.dw), g.dtype, g)
    padded[...] = 0
    for t in range(geo.kh * geo.kw):
        offset = (t // geo.kw) * geo.dh * wp + (t % geo.kw) * geo.dw
        padded[:, :, offset : offset + wide] += taps[:, :, t]
    out[...] = padded[:, :, : hp * wp].reshape(nb, c, hp, wp)[:, :, geo.ph : geo.ph + h, geo.pw : geo.pw + w]


MIN_COLUMNS_PER_THREAD = 1 << 21
"""Column elements below which a convolution stays on one thread: for 32x3x32x32 -> 16 (0.9 M elements,
about 2 ms) handing half the batch to the pool was measured slower on the shared 2-core machine."""

def _over_batch(n: int, columns: int, kernel: Any, x: Any) -> None:
    """Run ``kernel(lo, hi)`` over the batch, on the pool when the BLAS is single-threaded and it pays."""
    over_batch(n, columns, kernel, like=x, blas=True, min_elements=MIN_COLUMNS_PER_THREAD)


CHUNK_BYTES = 1 << 20
"""Columns are built for this many bytes' worth of samples at a time, so that they are still in cache when
the matrix product reads them (a whole batch's columns would go to memory and back)."""


def _chunks(x: Any, g: Geometry, role: str, lo: int = 0, hi: int | None = None) -> Any:
    """Yield (start, stop, columns buffer) over samples lo..hi (default: the batch); the buffer is reused
    scratch (per thread) sized for a chunk."""
    n, c = x.shape[:2]
    hi = n if hi is None else hi
    per_sample = c * g.kh * g.kw * g.ho * g.wo * x.dtype.itemsize
    size = max(1, min(hi - lo, CHUNK_BYTES // max(per_sample, 1)))
    full = scratch(role, (size, c, g.kh, g.kw, g.ho, g.wo), x.dtype, x)
    for start in range(lo, hi, size):
        stop = min(hi, start + size)
        yield start, stop, full[: stop - start]


class ConvTranspose2d(Function):
    """Transposed convolution: (N, C_in, H, W) and (C_in, C_out/groups, kh, kw) weights -> (N, C_out, ...).

    ``geometry`` describes the ordinary convolution that maps this op's *output* back to its input shape, so
    the forward is col2im(Wᵀ @ x) and both gradients start from im2col(g).
    """

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, geometry: Geometry, groups: int) -> Any:
        g = geometry
        n, cin = x.shape[:2]
        cout_g = weight.shape[1]
        spatial = g.ho * g.wo
        w3 = weight.reshape(groups, cin // groups, cout_g * g.kh * g.kw)
        w_t = array_module(x).ascontiguousarray(w3.transpose(0, 2, 1))  # BLAS-friendly; it is small
        cols = w_t @ x.reshape(n, groups, cin // groups, spatial)
        out = fold_array(cols.reshape(n, groups * cout_g, g.kh, g.kw, g.ho, g.wo), g)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        ctx.geometry, ctx.groups = geometry, groups
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        x, weight = ctx.saved_tensors
        geometry, groups = ctx.geometry, ctx.groups
        n, cin = x.shape[:2]
        cout_g = weight.shape[1]
        k, spatial = cout_g * geometry.kh * geometry.kw, geometry.ho * geometry.wo
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            cols = Im2Col.apply(grad, geometry).reshape(n, groups, k, spatial)
            if ctx.needs_input_grad[0]:
                w3 = weight.reshape(groups, cin // groups, k)
                grad_x = (w3 @ cols).reshape(x.shape)
            if ctx.needs_input_grad[1]:
                x4 = x.reshape(n, groups, cin // groups, spatial)
                grad_w = (x4 @ cols.transpose(-1, -2)).sum(0).reshape(weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
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
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
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
        raise ValueError("conv2d: padding='same' is not supported for strided convolutions (as in PyTorch)")
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
            raise ValueError(f"conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        if padding == "valid":
            padding = 0
        else:
            x, padding = _same_padding(x, weight.shape[2:], stride, dilation)
    geometry = Geometry.make("conv2d", x.shape[2:], weight.shape[2:], stride, padding, dilation)
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
    kh, kw = weight.shape[2:]
    sh, sw = pair(stride, "stride", op, 1)
    ph, pw = pair(padding, "padding", op, 0)
    dh, dw = pair(dilation, "dilation", op, 1)
    oph, opw = pair(output_padding, "output_padding", op, 0)
    if not (oph < sh or oph < dh) or not (opw < sw or opw < dw):
        raise ValueError(
            f"{op}: output_padding {(oph, opw)} must be smaller than either the stride {(sh, sw)} or the "
            f"dilation {(dh, dw)}"
        )
    h, w = x.shape[2:]
    hout = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wout = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    if hout <= 0 or wout <= 0:
        raise ShapeError(
            f"{op}: input {describe(x)} with kernel {kh}x{kw}, stride {(sh, sw)}, padding {(ph, pw)} and "
            f"dilation {(dh, dw)} gives an empty output ({hout}x{wout})"
        )
    geometry = Geometry(kh, kw, sh, sw, ph, pw, dh, dw, hout, wout, h, w)
    out = ConvTranspose2d.apply(x, weight, bias, geometry, groups)
    return out if batched else out.reshape(out.shape[1:])


# How the ops are checked (tapegrad.testing turns these into tests, the coverage table and the mutation check).
Conv2d.spec = (
    OpSpec("conv2d", lambda x, w, b, **kw: conv2d(x, w, b, **kw), "torch.nn.functional.conv2d", inputs="conv2d",
           notes="stride, padding, dilation, groups and an optional bias drawn together (family conv2d)"),
    OpSpec("conv2d_chunked", lambda x, w, b, **kw: conv2d(x, w, b, **kw), "torch.nn.functional.conv2d",
           inputs="conv2d_chunked", notes="columns over several CHUNK_BYTES chunks: the chunked backward"),
)
ConvTranspose2d.spec = OpSpec(
    "conv_transpose2d", lambda x, w, b, **kw: conv_transpose2d(x, w, b, **kw), "torch.nn.functional.conv_transpose2d",
    inputs="conv_transpose2d", notes="output_padding below the stride or the dilation",
)
