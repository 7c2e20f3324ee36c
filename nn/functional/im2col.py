"""im2col and col2im: the two linear maps convolution is built from, each the other's vector-Jacobian product.

``im2col`` copies every kernel-sized window of an (N, C, H, W) input into a column, giving (N, C*kh*kw, Ho*Wo)
in the same order as ``torch.nn.functional.unfold``; a convolution is then one matrix product per sample.
``col2im`` is its adjoint (``torch.nn.functional.fold``): it adds every column back onto the window it came
from, so overlapping windows sum.  Because each is the other's transpose, ``Im2Col.backward`` is ``Col2Im``
and ``Col2Im.backward`` is ``Im2Col``: gradients of any order come for free.

Speed: the columns are laid out as (N, C, kh, kw, grid_h, grid_w) and filled by kh*kw strided slice copies, each
moving a whole (N, C, grid_h, grid_w) block; col2im is kh*kw slice-adds (faster than fancy indexing and
``np.add.at``: docs/performance.md, "im2col").  No padded copy of the input is made (``Geometry.taps``).  The same
code runs on CuPy.
"""

from __future__ import annotations

from typing import Any

from tapegrad.autograd import Context, Function, Tensor, kernels
from tapegrad.autograd.errors import ShapeError, describe
from tapegrad.autograd.opspec import OpSpec

from .geometry import Geometry


def unfold_array(x: Any, geo: Geometry, out: Any = None) -> Any:
    """Backend-array im2col: (N, C, H, W) -> contiguous (N, C, kh, kw, Ho, Wo), into ``out`` if given
    (the ``im2col`` kernel of ``tapegrad.autograd.kernels``: compiled, or the NumPy/CuPy slice copies)."""
    return kernels.im2col(x, geo, out)


def fold_array(cols: Any, geo: Geometry, out: Any = None) -> Any:
    """Backend-array col2im: (N, C, kh, kw, Ho, Wo) -> (N, C, H, W), windows summed into ``out`` if given."""
    return kernels.col2im(cols, geo, out)


class Im2Col(Function):
    """(N, C, H, W) -> (N, C*kh*kw, Ho*Wo); the backward is ``Col2Im``."""

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, x: Any, geometry: Geometry) -> Any:
        ctx.geometry = geometry
        n, c = x.shape[:2]
        return unfold_array(x, geometry).reshape(n, c * geometry.kh * geometry.kw, geometry.grid_h * geometry.grid_w)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        return Col2Im.apply(grad, ctx.geometry), None


class Col2Im(Function):
    """(N, C*kh*kw, Ho*Wo) -> (N, C, H, W); the backward is ``Im2Col``."""

    projection = "linear"  # for tapegrad.viz's deconvnet / guided backprop

    @staticmethod
    def forward(ctx: Context, cols: Any, geometry: Geometry) -> Any:
        ctx.geometry = geometry
        geo = geometry
        n, k = cols.shape[:2]
        c = k // (geo.kh * geo.kw)
        return fold_array(cols.reshape(n, c, geo.kh, geo.kw, geo.grid_h, geo.grid_w), geo)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Any, ...]:
        return Im2Col.apply(grad, ctx.geometry), None


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
    if cols.ndim != 3 or cols.shape[1] % taps or cols.shape[2] != geometry.grid_h * geometry.grid_w:
        raise ShapeError(
            f"col2im: expected columns of shape (N, C*{geometry.kh}*{geometry.kw}, "
            f"{geometry.grid_h}*{geometry.grid_w}) "
            f"for an input of spatial size {shape[-2:]}, got {describe(cols)}"
        )
    if len(shape) == 4 and (cols.shape[0], cols.shape[1] // taps) != shape[:2]:
        raise ShapeError(f"col2im: columns {describe(cols)} do not come from an input of shape {shape}")
    return Col2Im.apply(cols, geometry)


# How the ops are checked (tapegrad.testing turns these into tests, the coverage table and the mutation check).
Im2Col.spec = OpSpec("im2col", lambda x, **kw: im2col(x, **kw), "torch.nn.functional.unfold", inputs="unfold")
Col2Im.spec = OpSpec("col2im", lambda c, output_size, **kw: col2im(c, output_size, **kw), "torch.nn.functional.fold",
                     inputs="fold")
