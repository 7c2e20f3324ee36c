"""im2col and col2im: the two linear maps convolution is built from, each the other's vector-Jacobian product.

``im2col`` copies every kernel-sized window of an (N, C, H, W) input into a column, giving (N, C*kh*kw, Ho*Wo)
in the same order as ``torch.nn.functional.unfold``; a convolution is then one matrix product per sample.
``col2im`` is its adjoint (``torch.nn.functional.fold``): it adds every column back onto the window it came
from, so overlapping windows sum.  Because each is the other's transpose, ``Im2Col.backward`` is ``Col2Im``
and ``Col2Im.backward`` is ``Im2Col``: gradients of any order come for free.

Speed: the columns are laid out as (N, C, kh, kw, Ho, Wo) and filled by kh*kw strided slice copies, each of
which moves a whole (N, C, Ho, Wo) block; col2im is kh*kw slice-adds.  Measured on 16x16x64x64 with a 3x3
kernel (one thread): the copies are 1.2x faster than fancy indexing (``x[:, :, rows, cols]``), and the
slice-adds 20x faster than ``np.add.at``.  No padded copy of the input is made (see ``Geometry.taps``).  The
same code runs on CuPy.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from tapegrad.autograd import Context, Function, Tensor
from tapegrad.autograd.backend import array_module
from tapegrad.autograd.errors import ShapeError, describe
from tapegrad.autograd.opspec import OpSpec

from ._utils import output_size, pair


class Geometry(NamedTuple):
    """Where the windows of a 2-D convolution lie: kernel, stride, padding, dilation, both spatial sizes."""

    kh: int
    kw: int
    sh: int
    sw: int
    ph: int
    pw: int
    dh: int
    dw: int
    h: int
    w: int
    ho: int
    wo: int

    @classmethod
    def make(
        cls, op: str, hw: tuple[int, int], kernel: Any, stride: Any, padding: Any, dilation: Any
    ) -> Geometry:
        """Parse and check the arguments; the input must be at least one (dilated) kernel after padding."""
        kh, kw = pair(kernel, "kernel_size", op, 1)
        sh, sw = pair(stride, "stride", op, 1)
        ph, pw = pair(padding, "padding", op, 0)
        dh, dw = pair(dilation, "dilation", op, 1)
        h, w = hw
        ho, wo = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
        if ho <= 0 or wo <= 0:
            raise ShapeError(
                f"{op}: the kernel ({kh}x{kw}, dilation {dh}x{dw}) is larger than the padded input "
                f"({h + 2 * ph}x{w + 2 * pw} = {h}x{w} plus padding {ph}x{pw})"
            )
        return cls(kh, kw, sh, sw, ph, pw, dh, dw, h, w, ho, wo)

    def taps(self) -> tuple[tuple[int, int, tuple[slice, slice], tuple[slice, slice]], ...]:
        """For each kernel tap (i, j): the output positions whose window puts that tap inside the input,
        and the strided input slice those positions read.

        Positions outside read the zero padding: nothing is read there, so no padded copy is ever made.
        """
        return _taps(self)


@functools.lru_cache(maxsize=256)
def _taps(g: Geometry) -> tuple[tuple[int, int, tuple[slice, slice], tuple[slice, slice]], ...]:
    """``Geometry.taps``, cached: every chunk of every call with the same geometry reuses the slices."""
    rows = [_tap_range(i * g.dh, g.ph, g.sh, g.h, g.ho) for i in range(g.kh)]
    columns = [_tap_range(j * g.dw, g.pw, g.sw, g.w, g.wo) for j in range(g.kw)]
    return tuple(
        (i, j, (r[0], c[0]), (r[1], c[1])) for i, r in enumerate(rows) for j, c in enumerate(columns)
    )


def _tap_range(offset: int, padding: int, stride: int, size: int, out: int) -> tuple[slice, slice]:
    """Output positions o with 0 <= o*stride - padding + offset < size, and the input slice they read."""
    lo = min(out, max(0, -(-(padding - offset) // stride)))
    hi = max(lo, min(out, (size - 1 + padding - offset) // stride + 1))
    start = lo * stride - padding + offset
    return slice(lo, hi), slice(start, start + (hi - lo - 1) * stride + 1 if hi > lo else start, stride)


def unfold_array(x: Any, g: Geometry, out: Any = None) -> Any:
    """Backend-array im2col: (N, C, H, W) -> contiguous (N, C, kh, kw, Ho, Wo), into ``out`` if given."""
    xp = array_module(x)
    n, c = x.shape[:2]
    cols = xp.empty((n, c, g.kh, g.kw, g.ho, g.wo), dtype=x.dtype) if out is None else out
    for i, j, (orows, ocols), (irows, icols) in g.taps():
        tap = cols[:, :, i, j]
        if orows.stop - orows.start < g.ho or ocols.stop - ocols.start < g.wo:
            tap[:, :, : orows.start] = 0
            tap[:, :, orows.stop :] = 0
            tap[:, :, :, : ocols.start] = 0
            tap[:, :, :, ocols.stop :] = 0
        tap[:, :, orows, ocols] = x[:, :, irows, icols]
    return cols


def fold_array(cols: Any, g: Geometry, out: Any = None) -> Any:
    """Backend-array col2im: (N, C, kh, kw, Ho, Wo) -> (N, C, H, W), windows summed into ``out`` if given."""
    xp = array_module(cols)
    n, c = cols.shape[:2]
    if out is None:
        out = xp.zeros((n, c, g.h, g.w), dtype=cols.dtype)
    else:
        out[...] = 0
    for i, j, (orows, ocols), (irows, icols) in g.taps():
        out[:, :, irows, icols] += cols[:, :, i, j, orows, ocols]
    return out


class Im2Col(Function):
    """(N, C, H, W) -> (N, C*kh*kw, Ho*Wo); the backward is ``Col2Im``."""

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, x: Any, geometry: Geometry) -> Any:
        ctx.geometry = geometry
        n, c = x.shape[:2]
        return unfold_array(x, geometry).reshape(n, c * geometry.kh * geometry.kw, geometry.ho * geometry.wo)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return Col2Im.apply(g, ctx.geometry), None


class Col2Im(Function):
    """(N, C*kh*kw, Ho*Wo) -> (N, C, H, W); the backward is ``Im2Col``."""

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, cols: Any, geometry: Geometry) -> Any:
        ctx.geometry = geometry
        g = geometry
        n, k = cols.shape[:2]
        c = k // (g.kh * g.kw)
        return fold_array(cols.reshape(n, c, g.kh, g.kw, g.ho, g.wo), g)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Any, ...]:
        return Im2Col.apply(g, ctx.geometry), None


def im2col(x: Tensor, kernel_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1) -> Tensor:
    """Every window of ``x`` as a column: (N, C, H, W) -> (N, C*kh*kw, Ho*Wo), like ``torch...unfold``.

    Columns are ordered (channel, kernel row, kernel column); column ``l`` is output position
    (l // Wo, l % Wo).  Differentiable to any order (its vjp is ``col2im``).
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.ndim != 4:
        raise ShapeError(f"im2col: expected a 4-D (N, C, H, W) input, got {describe(x)}")
    geometry = Geometry.make("im2col", x.shape[2:], kernel_size, stride, padding, dilation)
    return Im2Col.apply(x, geometry)


def col2im(
    cols: Tensor, input_shape: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> Tensor:
    """Add columns back onto their windows: (N, C*kh*kw, Ho*Wo) -> (N, C, H, W), like ``torch...fold``.

    ``input_shape`` is the spatial size (H, W) of the image the columns came from (or its full (N, C, H, W)
    shape).  The adjoint of ``im2col``: overlapping windows add up.
    """
    if not isinstance(cols, Tensor):
        cols = Tensor(cols)
    shape = tuple(int(s) for s in input_shape)
    if len(shape) not in (2, 4):
        raise ShapeError(f"col2im: input_shape must be (H, W) or (N, C, H, W), got {input_shape!r}")
    geometry = Geometry.make("col2im", shape[-2:], kernel_size, stride, padding, dilation)
    taps = geometry.kh * geometry.kw
    if cols.ndim != 3 or cols.shape[1] % taps or cols.shape[2] != geometry.ho * geometry.wo:
        raise ShapeError(
            f"col2im: expected columns of shape (N, C*{geometry.kh}*{geometry.kw}, "
            f"{geometry.ho}*{geometry.wo}) "
            f"for an input of spatial size {shape[-2:]}, got {describe(cols)}"
        )
    if len(shape) == 4 and (cols.shape[0], cols.shape[1] // taps) != shape[:2]:
        raise ShapeError(f"col2im: columns {describe(cols)} do not come from an input of shape {shape}")
    return Col2Im.apply(cols, geometry)


# How the ops are checked (tapegrad.testing turns these into tests, the coverage table and the mutation check).
Im2Col.spec = OpSpec("im2col", lambda x, **kw: im2col(x, **kw), "torch.nn.functional.unfold", inputs="unfold")
Col2Im.spec = OpSpec("col2im", lambda c, output_size, **kw: col2im(c, output_size, **kw), "torch.nn.functional.fold",
                     inputs="fold")
